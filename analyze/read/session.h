/*
 * profanalyze's reading half: a session is one process file and its thread
 * files, validated and decoded; events are delivered merged in time order.
 *
 * Pipeline: read + validate (session.c, trace_file.c, process_file.c) -> merge by time
 * (merge.c) -> symbolize (symbols.c) -> models (one per recorder) -> one
 * writer per output format. Writers never re-read traces; models never
 * print.
 */
#ifndef PA_SESSION_H
#define PA_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode.h"
#include "profshim_trace.h"

/* A growable array of fixed-size items. */
struct pa_vec {
	void *items;
	size_t len, cap, item;
};
void pa_vec_init(struct pa_vec *v, size_t item_size);
void *pa_vec_push(struct pa_vec *v); /* zeroed new item; exits on OOM */
/* Inline: the models index their arrays once or more per event. */
static inline void *pa_vec_at(const struct pa_vec *v, size_t i)
{
	return (char *)v->items + i * v->item;
}
void pa_vec_free(struct pa_vec *v);

/* Memory helpers that exit with a message on failure. */
void *pa_xmalloc(size_t n);
void *pa_xcalloc(size_t n, size_t size);
void *pa_xrealloc(void *p, size_t n);
char *pa_xstrdup(const char *s);
char *pa_xstrndup(const char *s, size_t n);

/* A map from a pair of u64 keys to a u32 value (open addressing). */
struct pa_pairmap {
	uint64_t *k1, *k2;
	uint32_t *val; /* 0 = empty slot; stored values are >= 1 */
	size_t cap, len;
};
void pa_pairmap_init(struct pa_pairmap *m);
uint32_t pa_pairmap_get(const struct pa_pairmap *m, uint64_t k1, uint64_t k2); /* 0 = absent */
void pa_pairmap_put(struct pa_pairmap *m, uint64_t k1, uint64_t k2, uint32_t val);
void pa_pairmap_free(struct pa_pairmap *m);

struct pa_module {
	uint64_t generation; /* module map it was seen in (first) */
	uint64_t bias, lo, hi;
	char *path;
	uint8_t build_id[64];
	size_t build_id_len;
	uint64_t first_ticks; /* first map that lists it */
	uint64_t last_ticks; /* first map that no longer lists it: unloaded then (UINT64_MAX: loaded
				to the end) */
};

/* A node of the session-wide stack trie (thread-local ids are mapped onto
 * these, identical (parent, pc) pairs of different threads share a node). */
struct pa_stack_node {
	uint32_t parent; /* index into session.stacks, 0 = root */
	uint32_t depth;	 /* 1 for a child of the root */
	uint64_t pc;
};

/* An instrumented function (calls recorder), deduplicated by address. */
struct pa_func {
	uint64_t addr;
};

/* One node of a thread's calling-context tree (PROFSHIM_CALLS=tree). */
struct pa_cct_node {
	uint64_t id, parent; /* thread-local ids; parent 0 = root */
	uint32_t func;	     /* index into session.funcs */
	uint64_t calls;
	uint64_t incl_ticks, excl_ticks, min_ticks, max_ticks;
	uint32_t nbuckets;
	uint64_t buckets[64]; /* bucket i: duration in [2^(i-1), 2^i) ticks */
	uint64_t timed;	      /* calls whose duration was measured (the rest
			       * are estimated: see CCT_NODE) */
	uint64_t stood_for;   /* the calls the timed ones stand for */
	uint64_t timed_sub;   /* sum of weight x calls made in each timed call,
			       * itself included (0: absent) */
};

struct pa_thread {
	uint32_t seq;
	uint32_t tid;
	char name[64];
	char *path; /* thread file */
	uint64_t start_ticks;
	uint64_t end_ticks; /* THREAD_END, else its last event */
	bool ended;	    /* THREAD_END seen */
	bool lazy;	    /* THREAD_FILE_LAZY: no file = no record of its own */
	bool counters_here; /* its COUNTERS are in the process file */
	bool closed;	    /* header says closed cleanly */
	uint64_t events;    /* records decoded */

	/* PST_FLAG_DELTA: ALLOC/FREE fields delta-coded, and their state */
	bool delta;
	uint64_t last_addr, last_stack;
	/* PST_FLAG_ALLOC_IDS (alloc_ids.c): numbered blocks, ALLOC/FREE dt in
	 * units of 2^mem_shift ticks; blocks numbered so far, last own ref */
	bool ids;
	unsigned mem_shift;
	uint64_t alloc_n, last_ref_n;

	uint64_t counters[PST_C_COUNTER_MAX];
	struct pa_vec cct; /* struct pa_cct_node */
	/* Call tree snapshots (see CALL TREE SNAPSHOTS in profshim_trace.h):
	 * while reading, cct holds the last complete snapshot (its first
	 * cct_done nodes) and the one being read; pa_session_run leaves only
	 * the chosen tree in cct. cct_live: the same from the process file. */
	size_t cct_done, cct_live_done;
	bool cct_marked, cct_live_marked; /* a complete snapshot was seen */
	struct pa_vec cct_live;
	/* reading state of a thread file (merge.c decodes it, zrun.c
	 * feeds it compressed runs) */
	const uint8_t *data;
	size_t data_len, pos;
	uint64_t now;
	struct pa_vec stack_map; /* uint32_t: local stack id -> session node */
	struct pa_vec func_map;	 /* uint32_t: local func id -> session func */
	size_t map_len;		 /* bytes mapped at data - PST_DATA_OFFSET */
	const uint8_t *map;
	size_t index;	    /* position in session.threads */
	struct pa_zread *z; /* compressed runs being read (zrun.c), NULL = none yet */
};

struct pa_marker {
	uint64_t ticks;
	uint32_t thread; /* index into session.threads */
	uint64_t pc;
	char *name;
};

/* A wait still in progress at the process's end (EXT IO_OPEN). */
struct pa_io_open {
	uint32_t thread; /* index into threads */
	unsigned op;
	uint64_t obj, start, end, site; /* site: a pc */
	uint32_t desc;			/* descriptor calls: FD description, 0 = none */
};

struct pa_session {
	char *path; /* process file */
	uint32_t pid, ppid;
	unsigned clock_kind; /* enum pst_clock */
	double ticks_per_ns; /* calibration result */
	uint64_t start_ticks, end_ticks;
	uint64_t start_mono_ns, start_wall_ns;
	unsigned record_mask; /* enum pst_record */
	bool ended;	      /* PROCESS_END seen */
	unsigned end_reason;
	char *exe;
	int argc;
	char **argv;
	unsigned cpu_hz, cpu_timer, cpu_signal; /* CPU_TIMER, 0 if none */
	uint64_t mem_sample_bytes;		/* MEM_CONFIG: sampling mean, 0 = every alloc */
	unsigned mem_rss_ms;			/* MEM_CONFIG: RSS interval, 0 = off */
	uint64_t counters[PST_C_COUNTER_MAX];	/* process + all threads */
	struct pa_vec modules;			/* struct pa_module */
	struct pa_vec threads;			/* struct pa_thread * */
	struct pa_vec stacks;			/* struct pa_stack_node; [0] = root */
	struct pa_vec funcs;			/* struct pa_func; [0] = unknown */
	struct pa_vec markers;			/* struct pa_marker (filled while merging) */
	struct pa_vec io_open;			/* struct pa_io_open (process file) */
	struct pa_vec warnings;			/* char * */
	struct pa_pairmap stack_index;		/* (parent, pc) -> node */
	struct pa_pairmap func_index;		/* (addr, 0) -> func */
	bool progress;				/* show progress on stderr */
	/* run directories (RUN_LINK, PROCESS_CMDLINE, PROCESS_END) */
	char *command;	      /* program name: file name of the first argv[0],
			       * first word of a title ("nginx: ...") */
	char *parent_file;    /* process file of the forking parent, NULL */
	char *previous_file;  /* process file of the image exec replaced, NULL */
	unsigned exec_index;  /* place in its pid's exec chain, 0 = first */
	bool has_run_link;    /* RUN_LINK seen */
	uint64_t end_mono_ns; /* PROCESS_END, 0 when it did not end */
	unsigned end_status;  /* PROCESS_END status */
};

/* Kinds of merged events: the record kinds, plus the thread's end. */
enum pa_event_kind {
	PA_EV_EXIT = PST_K_EXIT,
	PA_EV_ENTER = PST_K_ENTER,
	PA_EV_ALLOC = PST_K_ALLOC,
	PA_EV_FREE = PST_K_FREE,
	PA_EV_SAMPLE = PST_K_SAMPLE,
	PA_EV_MARK = PST_K_MARK,
	PA_EV_RSS = PST_K_RSS,
	PA_EV_IO = PST_K_IO,	 /* an I/O, wait or contended lock call (io recorder) */
	PA_EV_FD = PST_K_FD,	 /* a descriptor's description */
	PA_EV_SPAN = PST_K_SPAN, /* span begin/end, counter value */
	PA_EV_THREAD_END = 32,
	PA_EV_DNS = 33,	       /* a getaddrinfo call (IO_DNS) */
	PA_EV_MEM_USABLE = 34, /* exact usable bytes of a thread (MEM_USABLE) */
};

struct pa_event {
	unsigned kind;	/* enum pa_event_kind */
	uint64_t ticks; /* absolute event clock */
	struct pa_thread *thread;
	union {
		struct {
			uint32_t func;
		} enter; /* ENTER */
		struct {
			unsigned fn; /* enum pst_alloc_fn */
			uint64_t size, addr, old_addr;
			uint32_t stack; /* session stack node, 0 = none */
		} alloc;
		struct {
			uint64_t addr;
		} free;
		struct {
			uint64_t weight;
			uint32_t stack;
			uint64_t shadow_depth;
		} sample;
		/* Index into session.markers, valid while the run lasts; when
		 * pa_session_run returns the markers are sorted by time. */
		struct {
			size_t index;
		} mark;
		struct {
			uint64_t bytes;
		} rss;
		/* io recorder: ticks is the call's end; it began dur earlier.
		 * Strings point into the mapped trace (valid while the session
		 * is open), not NUL-ended. */
		struct {
			unsigned op; /* enum pst_io_op */
			uint32_t desc;
			uint64_t obj, asked;
			int64_t result; /* -errno on failure */
			uint64_t dur, site;
			uint32_t stack;
		} io;
		struct {
			uint32_t desc;
			unsigned kind; /* enum pst_fd_kind */
			uint32_t fd, port;
			const char *name, *note;
			size_t name_len, note_len;
		} fd;
		struct {
			unsigned what; /* enum pst_span_what */
			const char *name;
			size_t name_len;
			int64_t value;
		} span;
		struct {
			uint64_t dur, site;
			int64_t result;
			uint32_t stack;
			const char *host;
			size_t host_len;
		} dns;
		/* MEM_USABLE: the thread's usable bytes allocated and freed so
		 * far, the highest (alloc - freed) since its previous one, and
		 * the sampled block just allocated (addr 0: none) */
		struct {
			uint64_t alloc, freed, addr, block;
			int64_t high;
		} usable;
	} u;
};

/* An error with the file and offset it concerns. */
struct pa_error {
	char msg[512];
};

/* Open and validate a session from its process file; reads the process
 * file and maps every thread file. Returns 0, or -1 with *err filled. */
int pa_session_open(struct pa_session *s, const char *path, struct pa_error *err);
void pa_session_close(struct pa_session *s);

typedef void (*pa_event_fn)(const struct pa_event *ev, void *ctx);
/* Decode every thread file and deliver their events merged in time order
 * (a heap over the threads). Definitions (STACK, FUNC) are applied before
 * the events that use them; CCT nodes land in thread->cct. Returns 0, or
 * -1 with *err (a malformed record; a torn tail is only a warning). */
int pa_session_run(struct pa_session *s, pa_event_fn fn, void *ctx, struct pa_error *err);

/* Call records (ENTER/EXIT: the bulk of a call trace) decoded where they
 * are used. A call model needs them in each thread's own order only, so
 * with a call sink they skip the merge and its per-event callback: the
 * sink gets a cursor on a thread's data and takes the records it can
 * (pa_next_call, decode.h) in one tight loop, before that thread's next
 * merged event (so before its THREAD_END). */
struct pa_call_run {
	struct pa_thread *thread;
	struct pa_call_cursor cur; /* in: the first record; out: after the last taken */
	size_t n, enters;	   /* out: records taken, ENTERs among them */
};
typedef void (*pa_calls_fn)(struct pa_call_run *run, void *ctx);
/* pa_session_run, with ENTER and EXIT records going to calls_fn (events
 * that the sink did not take still go to fn); calls_fn NULL: the same as
 * pa_session_run. */
int pa_session_run_calls(struct pa_session *s, pa_event_fn fn, pa_calls_fn calls_fn, void *ctx,
			 struct pa_error *err);

/* A call tree snapshot ends: its nodes, after the first *done ones, replace
 * those. */
void pa_cct_commit(struct pa_vec *v, size_t *done);
/* After reading: choose thread t's call tree (its own last complete
 * snapshot, else the process file's, else an unterminated one). */
void pa_cct_settle(struct pa_session *s, struct pa_thread *t);

/* Time conversions. */
double pa_ticks_to_ns(const struct pa_session *s, uint64_t ticks); /* interval */
double pa_ns_since_start(const struct pa_session *s, uint64_t ticks);
uint64_t pa_session_duration_ticks(const struct pa_session *s);

/* A process file written next to this one by a forked child (ppid = our
 * pid) or by the image an exec put in our place (same pid). */
struct pa_related {
	uint32_t pid;
	bool exec;
	char *path;
};
/* Find them (out: a new pa_vec of struct pa_related; free the paths). */
void pa_session_related(const struct pa_session *s, struct pa_vec *out);

/* The module covering pc at time ticks (NULL if none). */
const struct pa_module *pa_module_for(const struct pa_session *s, uint64_t pc, uint64_t ticks);

/* Cut the trace file at path to keep bytes when its writer (process pid)
 * is gone: space a killed process had preallocated (trim.c). Quietly does
 * nothing when the file is still mapped by pid or cannot be written. */
void pa_trim_file(const char *path, uint32_t pid, size_t keep);

/* Fill err with "PATH: offset OFF: what" and return -1. */
int pa_fail_at(struct pa_error *err, const char *path, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void pa_warn(struct pa_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Data damaged in the middle of a trace (not a torn tail: a compressed
 * block that fails its check) was met: the reports hold what came before
 * it, and profanalyze exits with status 1 (as gzip -d does). */
extern bool pa_data_damaged;

#endif
