/*
 * Compressed runs of a thread file (see COMPRESSED RUNS in
 * include/profshim_trace.h). The hot path is the writer's as before: raw
 * records into the shared mapping. Once per window slide (and at a clean
 * close) the finished run is compressed with zstd into scratch memory made
 * with mmap (a static context: zstd never allocates) and stored as a
 * BLOCK; then the RUN learns where its BLOCK is, and the raw pages are
 * punched out. Any failure leaves the raw run as it is: nothing is lost,
 * the file is only bigger.
 *
 * Where the compression runs: by default in the compressor thread
 * (zthread.c). At a slide the writer reserves room for the BLOCK right
 * after the run (a PAD record whose payload is a hole in the file), opens
 * the next run after that room, and hands the run over; the compressor
 * writes the BLOCK into the room. The program's thread pays a few system
 * calls instead of the compression. With PROFSHIM_COMPRESS_THREAD=0, or
 * where no compressor can be had (see zthread.c), the writer compresses in
 * place and appends PAD + BLOCK itself, as before.
 *
 * What a job runs (pw_z_job_run and what it calls) uses raw system calls
 * (zsys.h) and no TLS: the compressor may be a raw thread that glibc does
 * not know about (rawthread.c).
 */
#define _GNU_SOURCE
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_initStaticCCtx, ZSTD_estimateCCtxSize */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "zsys.h"

/* The format's page: RUN records end on it, BLOCKs start on it (4096 is
 * the smallest page; larger pages only free fewer raw bytes). */
#define ZPAGE 4096u
/* A run is compressed once it holds this share of a window: the slide out
 * of a stream's small first window does not compress. */
#define RUN_MIN_SLIDE(s) ((s)->window_bytes / 2)
/* At a clean close, a shorter last run stays raw. */
#define RUN_MIN_CLOSE 4096u
/* A run the compressor has not taken yet goes on raw (handed over at a
 * later slide) up to this size, then stays raw for good. */
#define RUN_MAX(s) ((s)->window_bytes * 4)
/* The longest wait for the compressor at a thread's end. */
#define SETTLE_MS 2000u
/* Header of a PAD record (EXT tag 2 bytes, a length < 2^35). */
#define PAD_HDR_MAX (2 + 5)
/* Header of a BLOCK record: tag + 4 varints. */
#define BLOCK_HDR_MAX (1 + 4 * PST_VARINT_MAX)
/* The longest PAD and RUN records (page filler plus their fields). */
#define FILL_MAX (2 * ZPAGE + 32)

static uint64_t page_up(uint64_t v)
{
	return (v + ZPAGE - 1) & ~(uint64_t)(ZPAGE - 1);
}

/* Records that fill from file offset `at` to a page boundary: `fixed`
 * bytes (tag, trailer) plus a varint length and that many bytes. Returns
 * the length; *end is the boundary (one page on when the gap is too short,
 * or of the one size a 1-byte/2-byte varint cannot fill exactly). */
static uint64_t page_fill(uint64_t at, uint64_t fixed, uint64_t *end)
{
	uint64_t to = page_up(at);
	while (to - at < fixed + 1 || to - at == fixed + 1 + 128)
		to += ZPAGE;
	uint64_t room = to - at - fixed; /* the varint and its bytes */
	*end = to;
	return room - 1 < 128 ? room - 1 : room - 2;
}

/* A PAD record (EXT tag: 2 bytes) from `at` to the page boundary. */
static uint8_t *put_pad(uint8_t *p, uint64_t at, uint64_t *end)
{
	uint64_t payload = page_fill(at, 2, end);
	p = pst_put_tag(p, PST_X_PAD, PST_K_EXT);
	p = pst_put_varint(p, payload);
	memset(p, 0, payload);
	return p + payload;
}

/* A RUN record (tag 1 byte, n zeros, zpos) to the page boundary, zpos 0. */
static uint8_t *put_run(uint8_t *p, uint64_t at, uint64_t *end)
{
	uint64_t n = page_fill(at, 1 + PST_Z_RUN_ZPOS, end);
	p = pst_put_tag(p, PST_Z_RUN, PST_K_ZRUN);
	p = pst_put_varint(p, n);
	memset(p, 0, n + PST_Z_RUN_ZPOS);
	return p + n + PST_Z_RUN_ZPOS;
}

static int write_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		long w = zsys_pwrite(fd, p, n, off);
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static void publish(struct pw_stream *s, uint64_t end)
{
	__atomic_store_n(&s->hdr->committed, end - PST_DATA_OFFSET, __ATOMIC_RELEASE);
}

/* Scratch memory for a run of raw bytes: the static compression context,
 * then room for PAD + BLOCK + RUN. Made once, grown only for a bigger run. */
static uint8_t *scratch(struct pw_zscratch *sc, int level, size_t raw, size_t *cap)
{
	size_t ctx = (ZSTD_estimateCCtxSize(level) + 63) & ~(size_t)63;
	size_t need = ctx + ZSTD_compressBound(raw) + BLOCK_HDR_MAX + 2 * FILL_MAX;
	need = (need + ZPAGE - 1) & ~(size_t)(ZPAGE - 1);
	if (sc->mem && (sc->mem_len < need || sc->level != level)) {
		zsys_munmap(sc->mem, sc->mem_len);
		sc->mem = NULL;
	}
	if (!sc->mem) {
		void *m = zsys_mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				    -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		sc->mem = m;
		sc->mem_len = need;
		sc->ctx_len = ctx;
		sc->level = level;
	}
	*cap = sc->mem_len - sc->ctx_len;
	return (uint8_t *)sc->mem + sc->ctx_len;
}

/* The BLOCK record of the raw run [run_data, run_data + raw) of the RUN
 * at run_rec, written at p (room bytes there); its end, or NULL. */
static uint8_t *put_block(struct pw_zscratch *sc, int level, int fd, uint64_t run_rec,
			  uint64_t run_data, size_t raw, uint64_t seq, uint8_t *p, size_t room)
{
	/* the raw run, read through the page cache (run_data is page aligned) */
	void *src = zsys_mmap(NULL, raw, PROT_READ, MAP_SHARED, fd, run_data);
	if (src == MAP_FAILED)
		return NULL;
	ZSTD_CCtx *cctx = ZSTD_initStaticCCtx(sc->mem, sc->ctx_len);
	uint8_t hdr[BLOCK_HDR_MAX], *h = hdr;
	h = pst_put_tag(h, PST_Z_BLOCK, PST_K_ZRUN);
	h = pst_put_varint(h, seq);
	h = pst_put_varint(h, run_rec - PST_DATA_OFFSET);
	h = pst_put_varint(h, raw);
	/* the frame goes after the header; zlen's width is known after it */
	uint8_t *frame = p + (h - hdr) + PST_VARINT_MAX;
	size_t zroom = room - (size_t)(frame - p);
	size_t zlen = 0;
	if (cctx && !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) &&
	    !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) &&
	    !ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx, raw)))
		zlen = ZSTD_compress2(cctx, frame, zroom, src, raw);
	zsys_munmap(src, raw);
	if (!cctx || ZSTD_isError(zlen) || zlen >= raw)
		return NULL; /* an incompressible run stays raw */
	h = pst_put_varint(h, zlen);
	memcpy(p, hdr, (size_t)(h - hdr));
	memmove(p + (h - hdr), frame, zlen);
	return p + (h - hdr) + zlen;
}

/* The old RUN points at its BLOCK: readers skip the raw run from now. */
static int link_run(int fd, uint64_t run_data, uint64_t block_at)
{
	uint64_t zpos = block_at - PST_DATA_OFFSET;
	uint8_t le[PST_Z_RUN_ZPOS];
	for (unsigned i = 0; i < sizeof(le); i++)
		le[i] = (uint8_t)(zpos >> (8 * i));
	return write_all(fd, le, sizeof(le), run_data - PST_Z_RUN_ZPOS);
}

/* The raw pages go (the pad's too); refused (no hole support): they stay
 * on disk, read by nobody. */
static void free_raw(int fd, uint64_t run_data, uint64_t block_at)
{
	zsys_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, run_data,
		       block_at - run_data);
}

/* Open a run at pos (a RUN record, page aligned after it); pos moves past
 * it. The RUN goes out with pwrite like a BLOCK: the window may not hold
 * it. */
static int open_run(struct pw_stream *s, int fd, uint64_t *pos)
{
	uint8_t buf[FILL_MAX], *p;
	uint64_t end;
	p = put_run(buf, *pos, &end);
	if (pw_grow_file(s, fd, end) || write_all(fd, buf, (size_t)(p - buf), *pos))
		return -1;
	publish(s, end);
	if (!s->z.first_run)
		s->z.first_run = *pos;
	s->z.run_open = 1;
	s->z.run_rec = *pos;
	s->z.run_data = end;
	*pos = end;
	return 0;
}

/* In place: replace the run [run_data, *pos) by its BLOCK (and a new RUN
 * after it unless closing); *pos moves to where records go next. */
static int close_run(struct pw_stream *s, int fd, uint64_t *pos, int reopen)
{
	struct pw_zstate *z = &s->z;
	size_t cap, raw = (size_t)(*pos - z->run_data);
	uint8_t *out = scratch(&z->sc, z->level, raw, &cap);
	uint64_t block_at;
	uint8_t *p = out ? put_pad(out, *pos, &block_at) : NULL;
	if (p)
		p = put_block(&z->sc, z->level, fd, z->run_rec, z->run_data, raw, z->seq + 1, p,
			      cap - (size_t)(p - out) - FILL_MAX);
	if (!p)
		return -1;
	uint64_t block_end = *pos + (uint64_t)(p - out);
	uint64_t end = block_end;
	if (reopen)
		p = put_run(p, block_end, &end);
	/* 1. the BLOCK (and next RUN) whole on file, 2. published */
	if (pw_grow_file(s, fd, end) || write_all(fd, out, (size_t)(p - out), *pos))
		return -1;
	publish(s, end);
	/* 3. the old RUN points at its BLOCK, 4. the raw pages go. Unlinked
	 * (the store failed): the raw run stays and readers skip the BLOCK;
	 * the file is then never compacted (zcompact.c follows the links). */
	int linked = !link_run(fd, z->run_data, block_at);
	if (linked)
		free_raw(fd, z->run_data, block_at);
	else
		z->unlinked = 1;
	z->seq++;
	if (reopen) {
		z->run_rec = block_end;
		z->run_data = end;
	} else {
		z->run_open = 0;
	}
	*pos = end; /* published: records go after it whatever happens */
	return linked ? 0 : -1;
}

/* --- compression in the compressor thread --- */

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* The header of a PAD record exactly len (>= 3 + PAD_HDR_MAX) bytes long;
 * its payload is not written (the bytes are in the file already: a hole).
 * A length no varint width fits (131 bytes, say) starts with an empty
 * 3-byte PAD. */
static uint8_t *put_pad_head(uint8_t *p, uint64_t len)
{
	for (size_t v = 1; v + 2 < len && v <= 5; v++) {
		if (varint_len(len - 2 - v) == v) {
			p = pst_put_tag(p, PST_X_PAD, PST_K_EXT);
			return pst_put_varint(p, len - 2 - v);
		}
	}
	p = pst_put_tag(p, PST_X_PAD, PST_K_EXT);
	*p++ = 0;
	return put_pad_head(p, len - 3);
}

static int job_fd_ours(const struct pw_zjob *j)
{
	struct stat st;
	return zsys_fstat(j->fd, &st) == 0 && st.st_dev == j->dev && st.st_ino == j->ino;
}

int pw_z_warm(struct pw_zscratch *sc)
{
	static const uint8_t sample[] = "profshim warm-up: profshim warm-up: profshim warm-up";
	volatile size_t n = sizeof(sample); /* not a constant: real calls */
	size_t cap;
	uint8_t *out = scratch(sc, 1, n, &cap);
	if (!out)
		return -1;
	ZSTD_CCtx *cctx = ZSTD_initStaticCCtx(sc->mem, sc->ctx_len);
	if (!cctx || ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx, n)))
		return -1;
	size_t z = ZSTD_compress2(cctx, out + n, cap - n, sample, n);
	if (ZSTD_isError(z))
		return -1;
	memcpy(out, sample, n);
	memmove(out + 1, out, n);
	memset(out, 0, n);
	return 0;
}

/* The compressor's half (or a writer's, for a job it took back). In the
 * file: raw run, PAD [room: BLOCK, PAD], RUN of the next run. The BLOCK
 * and the PAD after it go into the first PAD's payload, where no reader
 * looks, then the RUN's zpos is stored: from that 8-byte store on, readers
 * take the BLOCK and go on after it (the second PAD leads to the next
 * RUN); before it, they read the raw run and skip the room. */
int pw_z_job_run(const struct pw_zjob *j, struct pw_zscratch *sc)
{
	size_t cap, raw = (size_t)(j->raw_end - j->run_data);
	if (j->kind == PW_ZJ_MAP)
		return pw_z_map_job_run(j);
	if (!job_fd_ours(j))
		return -1;
	uint8_t *out = scratch(sc, j->level, raw, &cap);
	uint8_t *p = out ? put_block(sc, j->level, j->fd, j->run_rec, j->run_data, raw, j->seq, out,
				     cap - FILL_MAX)
			 : NULL;
	if (!p)
		return -1;
	uint64_t block_end = j->block_at + (uint64_t)(p - out);
	if (block_end + 3 + PAD_HDR_MAX > j->res_end)
		return -1; /* cannot happen: the room holds the raw run */
	p = put_pad_head(p, j->res_end - block_end);
	if (write_all(j->fd, out, (size_t)(p - out), j->block_at) || !job_fd_ours(j) ||
	    link_run(j->fd, j->run_data, j->block_at))
		return -1;
	free_raw(j->fd, j->run_data, j->block_at);
	return 0;
}

/* A descriptor number for a job: high, as the writer's kept ones. */
static long job_fd_base(void)
{
	static long base;
	if (!base) {
		struct rlimit rl;
		int unlimited = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY;
		long soft = unlimited ? 65536 : (long)rl.rlim_cur;
		base = pw_high_fd_base(soft, unlimited);
	}
	return base;
}

static void count(struct pw_zstate *z, unsigned counter)
{
	if (z->counters)
		z->counters[counter]++;
}

/* A job's outcome, taken back by its writer. */
static void took(struct pw_zstate *z, int ok, int background)
{
	if (ok && background)
		count(z, PST_C_Z_BACKGROUND);
	if (!ok) { /* that run stays raw: the file cannot be compacted */
		count(z, PST_C_Z_RAW_RUNS);
		z->unlinked = 1;
	}
}

/* Take back the results of the jobs the compressor is done with. */
static void collect(struct pw_zstate *z)
{
	for (int i = 0; i < PW_Z_JOBS; i++) {
		if (!z->job[i])
			continue;
		int r = pw_zt_result(z->job[i] - 1, z->ticket[i]);
		if (r == PW_ZT_PENDING)
			continue;
		z->job[i] = 0;
		took(z, r == PW_ZT_OK, 1);
	}
}

/* Jobs the compressor has not started yet are taken back and done here. */
static void take_back(struct pw_zstate *z)
{
	for (int i = 0; i < PW_Z_JOBS; i++) {
		struct pw_zjob j;
		if (!z->job[i] || !pw_zt_cancel(z->job[i] - 1, z->ticket[i], &j))
			continue;
		z->job[i] = 0;
		int ok = pw_z_job_run(&j, &z->sc) == 0;
		if (job_fd_ours(&j))
			close(j.fd);
		took(z, ok, 0);
	}
}

/* A free entry for a job, or -1. */
static int free_job(const struct pw_zstate *z)
{
	for (int i = 0; i < PW_Z_JOBS; i++)
		if (!z->job[i])
			return i;
	return -1;
}

/* The file extended to len, the new part a hole: the room for a BLOCK
 * takes disk space only for what the compressor writes into it. */
static int extend_with_hole(struct pw_stream *s, int fd, uint64_t len)
{
	if (len <= s->file_len)
		return 0;
	if (ftruncate(fd, (off_t)len) != 0)
		return -1;
	s->file_len = len;
	return 0;
}

/* Reserve room for the run's BLOCK after it, open the next run after the
 * room, and post the job; *pos moves to the next run's records. Nothing is
 * published on failure. */
static int hand_over(struct pw_stream *s, int fd, uint64_t *pos, int slot, uint32_t ticket)
{
	struct pw_zstate *z = &s->z;
	uint64_t at = *pos, raw = at - z->run_data, end;
	struct pw_zjob j = {.level = z->level,
			    .dev = s->dev,
			    .ino = s->ino,
			    .seq = z->seq + 1,
			    .run_rec = z->run_rec,
			    .run_data = z->run_data,
			    .raw_end = at};
	/* page aligned, so the raw pages before it can be punched out */
	j.block_at = page_up(at + 3 + PAD_HDR_MAX);
	/* the next RUN record: the last 16 bytes of a page */
	j.res_end = page_up(j.block_at + BLOCK_HDR_MAX + raw + 3 + PAD_HDR_MAX + 16) - 16;
	uint8_t head[3 + PAD_HDR_MAX], run[FILL_MAX], *h, *r;
	h = put_pad_head(head, j.res_end - at);
	r = put_run(run, j.res_end, &end);
	j.fd = fcntl(fd, F_DUPFD_CLOEXEC, (int)job_fd_base());
	if (j.fd < 0)
		return -1;
	if (extend_with_hole(s, fd, j.res_end) || pw_grow_file(s, fd, end) ||
	    write_all(fd, head, (size_t)(h - head), at) ||
	    write_all(fd, run, (size_t)(r - run), j.res_end)) {
		close(j.fd);
		return -1;
	}
	publish(s, end);
	pw_zt_post(slot, ticket, &j);
	int e = free_job(z);
	z->job[e] = slot + 1;
	z->ticket[e] = ticket;
	z->seq++;
	z->run_rec = j.res_end;
	z->run_data = end;
	*pos = end;
	return 0;
}

/* The run [run_data, *pos) is long enough to end: hand it over, or
 * compress it in place, or let it go on (the compressor is behind).
 * A previous job, posted a window ago, still waiting for the compressor
 * to start it: the compressor gets no CPU (no idle core), so it is done
 * here, as without the compressor; the lag stays bounded (a SIGKILL finds
 * every run but the last one or two compressed). With a job waiting and
 * one being worked on, this run goes on and is handed over later. */
static int end_run(struct pw_stream *s, int fd, uint64_t *pos)
{
	struct pw_zstate *z = &s->z;
	take_back(z);
	if (free_job(z) >= 0) {
		uint32_t ticket;
		int slot = pw_zt_claim(s->hdr->pid, &ticket);
		if (slot == PW_ZT_NONE)
			return close_run(s, fd, pos, 1);
		if (slot >= 0) {
			if (!hand_over(s, fd, pos, slot, ticket))
				return 0;
			pw_zt_unclaim(slot, ticket);
			return close_run(s, fd, pos, 1);
		}
	}
	if (*pos - z->run_data < RUN_MAX(s))
		return 0; /* handed over at a later slide, with what follows */
	/* Left raw for good: a new run starts right after it. */
	count(z, PST_C_Z_RAW_RUNS);
	z->unlinked = 1;
	return open_run(s, fd, pos);
}

void pw_z_settle(struct pw_stream *s)
{
	struct pw_zstate *z = &s->z;
	take_back(z);
	for (int i = 0; i < PW_Z_JOBS; i++) {
		if (!z->job[i])
			continue;
		int slot = z->job[i] - 1;
		z->job[i] = 0;
		took(z, pw_zt_wait(slot, z->ticket[i], SETTLE_MS) == PW_ZT_OK, 1);
	}
}

static void zhook(struct pw_stream *s, int fd, uint64_t *pos, enum pw_zwhy why)
{
	struct pw_zstate *z = &s->z;
	int rc = 0;
	if (why == PW_Z_FORGET) {
		for (int i = 0; i < PW_Z_JOBS; i++) {
			struct pw_zjob j;
			if (z->job[i] && pw_zt_cancel(z->job[i] - 1, z->ticket[i], &j) &&
			    job_fd_ours(&j))
				close(j.fd);
			else if (z->job[i]) /* running: its descriptor is its own */
				pw_zt_wait(z->job[i] - 1, z->ticket[i], 0);
			z->job[i] = 0;
		}
		if (z->sc.mem)
			munmap(z->sc.mem, z->sc.mem_len);
		z->sc.mem = NULL;
		z->level = 0;
		return;
	}
	collect(z);
	if (why == PW_Z_CLOSE)
		pw_z_settle(s);
	if (!z->run_open) {
		if (why == PW_Z_SLIDE)
			rc = open_run(s, fd, pos);
	} else if (why == PW_Z_SLIDE && *pos - z->run_data >= RUN_MIN_SLIDE(s)) {
		rc = pw_zt_on ? end_run(s, fd, pos) : close_run(s, fd, pos, 1);
	} else if (why == PW_Z_CLOSE && *pos - z->run_data >= RUN_MIN_CLOSE) {
		rc = close_run(s, fd, pos, 0);
	}
	if (rc)
		z->level = 0; /* raw from here on; the current run reads as it is */
	if (why == PW_Z_CLOSE && z->seq && !z->unlinked)
		pw_z_compact(s, fd); /* the file without its holes */
	if (why == PW_Z_CLOSE && z->sc.mem) {
		munmap(z->sc.mem, z->sc.mem_len);
		z->sc.mem = NULL;
	}
}

void pw_z_enable(struct pw_stream *s, int level, uint64_t *counters)
{
	if (!s->hdr || memcmp(s->hdr->magic, PST_MAGIC_THREAD, PST_MAGIC_LEN) != 0)
		return;
	s->z.level = level;
	s->z.counters = counters;
	if (s->z.level) {
		pw_z_hook = zhook;
		pw_z_map_hook = pw_z_map;
	}
}
