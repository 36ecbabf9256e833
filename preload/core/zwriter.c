/*
 * Compressed runs of a thread file (see COMPRESSED RUNS in
 * include/profshim_trace.h). The hot path is the writer's as before: raw
 * records into the shared mapping. Once per window slide (and at a clean
 * close) the finished run is compressed with zstd into scratch memory made
 * once per stream with mmap (a static context: zstd never allocates), and
 * appended as a BLOCK with one pwrite; then `committed` moves past it, the
 * old RUN learns where its BLOCK is, and the raw pages are punched out.
 * Any failure leaves the raw run as it is and turns compression off for
 * the stream: nothing is lost, the file is only bigger.
 */
#define _GNU_SOURCE
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_initStaticCCtx, ZSTD_estimateCCtxSize */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

/* The format's page: RUN records end on it, BLOCKs start on it (4096 is
 * the smallest page; larger pages only free fewer raw bytes). */
#define ZPAGE 4096u
/* A run is compressed once it holds this share of a window: the slide out
 * of a stream's small first window does not compress. */
#define RUN_MIN_SLIDE(s) ((s)->window_bytes / 2)
/* At a clean close, a shorter last run stays raw. */
#define RUN_MIN_CLOSE 4096u
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
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
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
static uint8_t *scratch(struct pw_stream *s, size_t raw, size_t *cap)
{
	struct pw_zstate *z = &s->z;
	size_t ctx = (ZSTD_estimateCCtxSize(z->level) + 63) & ~(size_t)63;
	size_t need = ctx + ZSTD_compressBound(raw) + BLOCK_HDR_MAX + 2 * FILL_MAX;
	need = (need + ZPAGE - 1) & ~(size_t)(ZPAGE - 1);
	if (z->mem && z->mem_len < need) {
		munmap(z->mem, z->mem_len);
		z->mem = NULL;
	}
	if (!z->mem) {
		void *m =
		    mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		z->mem = m;
		z->mem_len = need;
		z->ctx_len = ctx;
	}
	*cap = z->mem_len - z->ctx_len;
	return (uint8_t *)z->mem + z->ctx_len;
}

/* Compress the raw run [run_data, pos) into a BLOCK record at out (after
 * the PAD that starts at pos); returns the end of the BLOCK, or NULL. */
static uint8_t *compress_run(struct pw_stream *s, int fd, uint64_t pos, uint8_t *out, size_t cap,
			     uint64_t *block_at)
{
	struct pw_zstate *z = &s->z;
	size_t raw = (size_t)(pos - z->run_data);
	uint8_t *p = put_pad(out, pos, block_at);
	/* the raw run, read through the page cache (run_data is page aligned) */
	void *src = mmap(NULL, raw, PROT_READ, MAP_SHARED, fd, (off_t)z->run_data);
	if (src == MAP_FAILED)
		return NULL;
	ZSTD_CCtx *cctx = ZSTD_initStaticCCtx(z->mem, z->ctx_len);
	uint8_t hdr[BLOCK_HDR_MAX], *h = hdr;
	h = pst_put_tag(h, PST_Z_BLOCK, PST_K_ZRUN);
	h = pst_put_varint(h, z->seq + 1);
	h = pst_put_varint(h, z->run_rec - PST_DATA_OFFSET);
	h = pst_put_varint(h, raw);
	/* the frame goes after the header; zlen's width is known after it */
	uint8_t *frame = p + (h - hdr) + PST_VARINT_MAX;
	size_t room = cap - (size_t)(frame - out) - FILL_MAX;
	size_t zlen = 0;
	if (cctx &&
	    !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, z->level)) &&
	    !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) &&
	    !ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx, raw)))
		zlen = ZSTD_compress2(cctx, frame, room, src, raw);
	munmap(src, raw);
	if (!cctx || ZSTD_isError(zlen) || zlen >= raw)
		return NULL; /* an incompressible run stays raw */
	h = pst_put_varint(h, zlen);
	memcpy(p, hdr, (size_t)(h - hdr));
	memmove(p + (h - hdr), frame, zlen);
	return p + (h - hdr) + zlen;
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

/* Replace the run [run_data, *pos) by its BLOCK (and a new RUN after it
 * unless closing); *pos moves to where records go next. */
static int close_run(struct pw_stream *s, int fd, uint64_t *pos, int reopen)
{
	struct pw_zstate *z = &s->z;
	size_t cap;
	uint8_t *out = scratch(s, (size_t)(*pos - z->run_data), &cap);
	uint64_t block_at;
	uint8_t *p = out ? compress_run(s, fd, *pos, out, cap, &block_at) : NULL;
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
	/* 3. the old RUN points at its BLOCK: readers skip the raw run */
	uint64_t zpos = block_at - PST_DATA_OFFSET;
	uint8_t le[PST_Z_RUN_ZPOS];
	for (unsigned i = 0; i < sizeof(le); i++)
		le[i] = (uint8_t)(zpos >> (8 * i));
	int linked = !write_all(fd, le, sizeof(le), z->run_data - PST_Z_RUN_ZPOS);
	/* 4. the raw pages go (the pad's too); refused (no hole support):
	 * they stay on disk, read by nobody. Unlinked (the store failed):
	 * the raw run stays and readers skip the BLOCK; the file is then
	 * never compacted (zcompact.c follows the links). */
	if (linked)
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)z->run_data,
			  (off_t)(block_at - z->run_data));
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

static void zhook(struct pw_stream *s, int fd, uint64_t *pos, enum pw_zwhy why)
{
	struct pw_zstate *z = &s->z;
	int rc = 0;
	if (why == PW_Z_FORGET) {
		if (z->mem)
			munmap(z->mem, z->mem_len);
		z->mem = NULL;
		z->level = 0;
		return;
	}
	if (!z->run_open) {
		if (why == PW_Z_SLIDE)
			rc = open_run(s, fd, pos);
	} else if (why == PW_Z_SLIDE && *pos - z->run_data >= RUN_MIN_SLIDE(s)) {
		rc = close_run(s, fd, pos, 1);
	} else if (why == PW_Z_CLOSE && *pos - z->run_data >= RUN_MIN_CLOSE) {
		rc = close_run(s, fd, pos, 0);
	}
	if (rc)
		z->level = 0; /* raw from here on; the current run reads as it is */
	if (why == PW_Z_CLOSE && z->seq && !z->unlinked)
		pw_z_compact(s, fd); /* the file without its holes */
	if (why == PW_Z_CLOSE && z->mem) {
		munmap(z->mem, z->mem_len);
		z->mem = NULL;
	}
}

void pw_z_enable(struct pw_stream *s, int level)
{
	if (!s->hdr || memcmp(s->hdr->magic, PST_MAGIC_THREAD, PST_MAGIC_LEN) != 0)
		return;
	s->z.level = level;
	if (s->z.level)
		pw_z_hook = zhook;
}
