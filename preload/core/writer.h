/*
 * Per-thread trace writer: an append-only stream of records into a file
 * through a sliding shared mapping (see include/profshim_trace.h, "CRASH
 * SAFETY"). No lock and no syscall per record; a few syscalls each time the
 * window slides (once per buffer size).
 *
 * The stream keeps its file's descriptor open at a high number with
 * close-on-exec: after setuid, chroot or unshare the process may no longer
 * open its own file by path, and every later window would be lost. A
 * program can still close that number or dup2 over it, so before each use
 * the descriptor is checked (same device and inode); when it is no longer
 * ours, the stream forgets it (the number is the program's now) and
 * reopens the file by path, checking it is the same inode.
 */
#ifndef PS_WRITER_H
#define PS_WRITER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profshim_trace.h"

/* Compressed runs (zwriter.c, "COMPRESSED RUNS" in profshim_trace.h).
 * Positions are file offsets. */

/* Memory (mmap) to compress in: the static zstd context, then output. */
struct pw_zscratch {
	void *mem;
	size_t mem_len, ctx_len;
	int level; /* the context's level */
};

/* A finished run handed to the compressor thread (zthread.c): it writes
 * the BLOCK into room the writer reserved (a PAD's payload), links the
 * RUN to it and frees the raw pages. Everything it needs is here, with a
 * descriptor of its own: it never touches the stream. */
enum pw_zjob_kind {
	PW_ZJ_COMPRESS = 0, /* compress a run (zwriter.c) */
	PW_ZJ_MAP = 1	    /* populate a new window, unmap the old one (zmap.c) */
};
struct pw_zjob {
	int kind; /* enum pw_zjob_kind */
	int fd;	  /* closed by whoever runs the job; -1 = none */
	int level;
	dev_t dev; /* the file's, checked before each use of fd */
	ino_t ino;
	uint64_t seq;			     /* the BLOCK's number */
	uint64_t run_rec, run_data, raw_end; /* the RUN record, its records */
	uint64_t block_at, res_end;	     /* the reserved room */
	/* PW_ZJ_MAP: the window to populate, then the one to unmap */
	void *map_new, *map_old;
	size_t map_new_len, map_old_len;
};

#define PW_Z_JOBS 2
struct pw_zstate {
	int level;	    /* zstd level; 0 = the stream stays raw */
	int run_open;	    /* a run with a RUN record is being written */
	uint64_t run_rec;   /* the RUN record */
	uint64_t run_data;  /* the run's first record (page aligned) */
	uint64_t seq;	    /* blocks written */
	uint64_t first_run; /* the file's first RUN record, 0 = none */
	int unlinked;	    /* a run left raw before the last (no compaction) */
	struct pw_zscratch sc;
	/* jobs handed to the compressor thread: slot + 1, 0 = none (one it
	 * works on, one waiting) */
	int job[PW_Z_JOBS];
	uint32_t ticket[PW_Z_JOBS];
	uint64_t *counters; /* the thread's counters (PST_C_Z_*), NULL = none */
	/* the window job handed to the compressor (zmap.c): slot + 1, 0 =
	 * none, and the old window it unmaps */
	int map_job;
	uint32_t map_ticket;
	void *map_old;
	size_t map_old_len;
};

struct pw_stream {
	struct pst_file_header *hdr; /* header page, mapped for the stream's life */
	uint8_t *win;		     /* current data window */
	uint8_t *cur;		     /* next byte to write, inside win */
	uint8_t *limit;		     /* end of win */
	uint64_t win_off;	     /* file offset of win[0] */
	size_t win_len;
	uint64_t file_len;   /* bytes the file holds (allocated) */
	size_t window_bytes; /* configured window size */
	dev_t dev;
	ino_t ino;
	int fd;	    /* kept descriptor (high, close-on-exec), -1 = none */
	int failed; /* cannot grow: every reserve fails */
	/* Delta coding state of ALLOC/FREE records (PST_FLAG_DELTA): the
	 * last address and ALLOC stack written to this file. */
	uint64_t last_addr, last_stack;
	/* Allocation ids (ALLOCATION IDS, mem_ids.h): blocks this file has
	 * numbered, and the n of the last own-block ref it wrote. */
	uint64_t alloc_n, last_ref_n;
	char path[PATH_MAX];
	struct pw_zstate z; /* compressed runs (zwriter.c) */
};

/* Why the writer calls the compression hook (zwriter.c). */
enum pw_zwhy {
	PW_Z_SLIDE = 0, /* the window slides: data position *pos; may move it */
	PW_Z_CLOSE = 1, /* clean close: compress the last run */
	PW_Z_FORGET = 2 /* abandon: release the scratch memory only (fd -1) */
};
/* The compression hook, set by pw_z_enable (zwriter.c): the writer itself
 * has no link dependency on it. */
extern void (*pw_z_hook)(struct pw_stream *s, int fd, uint64_t *pos, enum pw_zwhy why);
/* The window mapping hook, set by pw_z_enable (zmap.c). With settle 0, a
 * slide has just mapped s->win: the compressor is asked to populate it and
 * to unmap the old window; 1 when it took both, 0 when the writer does
 * them. With settle 1, s->win is about to be unmapped (close, trim,
 * abandon): 1 when no job can touch it any more, 0 when the compressor
 * may still (it gets no CPU): s->win must then stay mapped. */
extern int (*pw_z_map_hook)(struct pw_stream *s, void *old, size_t old_len, int settle);
int pw_z_map(struct pw_stream *s, void *old, size_t old_len, int settle);
/* Compress this stream's finished windows at zstd `level` (thread files;
 * 0 = stay raw), counting in `counters` (PST_C_COUNTER_MAX of them, or
 * NULL). Call right after pw_open. */
void pw_z_enable(struct pw_stream *s, int level, uint64_t *counters);
/* The job handed to the compressor, if any, is done before the thread's
 * end (waited for, bounded, or compressed here): call before its counters
 * are written. */
void pw_z_settle(struct pw_stream *s);
/* Run a compression job (zwriter.c): 0 when the run is linked to its
 * BLOCK. Used by the compressor thread, and by a writer taking back its
 * job. */
int pw_z_job_run(const struct pw_zjob *j, struct pw_zscratch *sc);

/* The compressor thread (zthread.c). All but pw_zt_wait are
 * async-signal-safe. */
extern int pw_zt_on; /* PROFSHIM_COMPRESS_THREAD, PW_ZT_RAW by default */
/* Its kinds: 0 none (compress in place), a raw thread glibc does not know
 * (rawthread.c), a glibc thread. */
enum { PW_ZT_INLINE = 0, PW_ZT_RAW = 1, PW_ZT_PTHREAD = 2 };
/* Bind the calls a job makes (zstd, memcpy) with one tiny compression in
 * sc, before a raw thread runs them; 0 or -1. */
int pw_z_warm(struct pw_zscratch *sc);
enum { PW_ZT_NONE = -1, PW_ZT_FULL = -2 };
enum { PW_ZT_PENDING = 0, PW_ZT_OK = 1, PW_ZT_FAIL = 2 };
/* A job slot for process pid's writer: its index (and *ticket), or
 * PW_ZT_NONE (no compressor here: compress in place) or PW_ZT_FULL (every
 * slot is taken: the run goes on). */
int pw_zt_claim(uint32_t pid, uint32_t *ticket);
/* Is process pid's compressor running now (never makes one)? */
int pw_zt_running(uint32_t pid);
/* Run a window job (zmap.c): the compressor's half. */
int pw_z_map_job_run(const struct pw_zjob *j);
void pw_zt_unclaim(int slot, uint32_t ticket); /* claimed, not posted */
void pw_zt_post(int slot, uint32_t ticket, const struct pw_zjob *job);
/* PW_ZT_PENDING, or the result (the slot is then free). */
int pw_zt_result(int slot, uint32_t ticket);
/* Take back a job not yet started (into *job): 1 when taken. */
int pw_zt_cancel(int slot, uint32_t ticket, struct pw_zjob *job);
/* Wait at most ms for the job; past that it is left to the compressor. */
int pw_zt_wait(int slot, uint32_t ticket, unsigned ms);
void pw_zt_after_fork_child(void);
/* A closed stream with compressed runs: rewrite its file without the
 * holes of the freed raw runs (zcompact.c). */
void pw_z_compact(struct pw_stream *s, int fd);
/* Grow the file to len bytes with its space secured; 0 or -errno. */
int pw_grow_file(struct pw_stream *s, int fd, uint64_t len);

/* Bytes of a stream's first data window (later ones: window_bytes). */
#define PW_FIRST_WINDOW (16 * 1024)

/* Set by the memory recorder at start (before any thread file): header
 * flags added to every thread file (PST_FLAG_ALLOC_IDS) and its
 * mem_time_shift. */
extern uint32_t pw_thread_flags_extra, pw_thread_mem_time_shift;

/* Create `path` exclusively (never overwrites); 0 on success, -errno. */
int pw_open(struct pw_stream *s, const char *path, const char *magic, uint32_t pid, uint32_t tid,
	    uint32_t seq, uint64_t start_ticks, size_t window_bytes);
uint8_t *pw_reserve_slow(struct pw_stream *s, size_t max);

/* Delta coding (PST_FLAG_DELTA, include/profshim_trace.h). An address
 * or stack: the zigzag distance to the previous one, which becomes v
 * (an address of 0 leaves the previous one as it is). */
static inline uint64_t pw_delta(uint64_t *prev, uint64_t v)
{
	uint64_t d = pst_zigzag((int64_t)(v - *prev));
	if (v)
		*prev = v;
	return d;
}

/* A REALLOC's old address, relative to its new one: 0 = none. */
static inline uint64_t pw_delta_old(uint64_t addr, uint64_t old)
{
	return old ? pst_zigzag((int64_t)(old - addr)) + 1 : 0;
}

/* Room for a record of at most max (<= PST_MAX_RECORD) bytes, or NULL. */
static inline uint8_t *pw_reserve(struct pw_stream *s, size_t max)
{
	if (__builtin_expect(s->cur != NULL && (size_t)(s->limit - s->cur) >= max, 1))
		return s->cur;
	return pw_reserve_slow(s, max);
}

/* The record ending at `end` is whole: publish it. */
static inline void pw_commit(struct pw_stream *s, uint8_t *end)
{
	s->cur = end;
	__atomic_store_n(&s->hdr->committed,
			 s->win_off + (uint64_t)(end - s->win) - PST_DATA_OFFSET, __ATOMIC_RELEASE);
}

/* Close cleanly: mark closed, trim preallocated space, unmap. */
void pw_close(struct pw_stream *s);
/* Forget the stream without touching the file (a forked child). */
void pw_abandon(struct pw_stream *s);
/* Cut the preallocated space past the data (before exec: the new image
 * may never come back to it). Only for a stream no other thread writes
 * now; the next reserve grows the file again. */
void pw_trim(struct pw_stream *s);

/* Lowest descriptor number for the shim's long-lived descriptors: 3/4 of
 * the soft limit, out of the range programs close in bulk or dup2 onto. */
static inline long pw_high_fd_base(long soft_limit, int unlimited)
{
	if (unlimited)
		return 49152;
	if (soft_limit > 64)
		return (soft_limit > 65536 ? 65536 : soft_limit) * 3 / 4;
	return 512;
}

#endif
