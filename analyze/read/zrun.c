/* Compressed runs of a thread file: see zrun.h. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "zrun.h"

struct zahead;

struct pa_zread {
	struct zahead *ahead;  /* the next block, decompressed ahead */
	const uint8_t *resume; /* in a block: the file after it; NULL = in the file */
	size_t block_off;      /* file offset of that block */
	uint64_t run;	       /* data offset of the raw run being read, UINT64_MAX = none */
	uint8_t *buf;	       /* the block's records */
	size_t cap;
	ZSTD_DCtx *dctx;
	uint64_t blocks; /* decompressed */
	size_t released; /* bytes of the file's mapping given back so far */
};

/* The reader streams (merge.c gives back the mapping behind a raw cursor):
 * in a compressed run the cursor is in the block's buffer, so the mapping
 * behind the block is given back here, every 8 MB of file. */
#define RELEASE_CHUNK ((size_t)8 << 20)

static void release_before(struct pa_thread *t, size_t file_off)
{
	struct pa_zread *z = t->z;
	if (!t->map || file_off > t->map_len || file_off < z->released + RELEASE_CHUNK)
		return;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t upto = file_off / page * page;
	madvise((void *)(t->map + z->released), upto - z->released, MADV_DONTNEED);
	z->released = upto;
}

static struct pa_zread *zstate(struct pa_thread *t)
{
	if (!t->z) {
		t->z = pa_xcalloc(1, sizeof(*t->z));
		t->z->run = UINT64_MAX;
	}
	return t->z;
}

/* A damaged block: what came before it stands, the thread's records end
 * here (the ones after depend on its delta and clock state). */
static int damaged(struct pa_session *s, struct pa_thread *t, struct pa_cursor *c, size_t off,
		   const char *why)
{
	pa_warn(s,
		"%s: offset %zu: compressed block damaged (%s); the thread's records from there "
		"on are lost, the %llu blocks and raw records before it are read",
		t->path, off, why, (unsigned long long)t->z->blocks);
	t->z->resume = NULL;
	c->p = c->end;
	pa_data_damaged = true;
	return 0;
}

/* The BLOCK header at data offset zpos: fields and payload, checked. */
struct block {
	uint64_t seq, run, raw_len, zlen;
	const uint8_t *frame;
	const uint8_t *end; /* after the record */
};

static const char *parse_block(const struct pa_thread *t, uint64_t zpos, struct block *b)
{
	struct pa_cursor c;
	uint64_t tag;
	pa_cursor_init(&c, t->data + zpos, t->data_len - (size_t)zpos);
	if (pa_get_varint(&c, &tag) || tag != ((PST_Z_BLOCK << PST_KIND_BITS) | PST_K_ZRUN))
		return "no block where its run points";
	if (pa_get_varint(&c, &b->seq) || pa_get_varint(&c, &b->run) ||
	    pa_get_varint(&c, &b->raw_len) || pa_get_varint(&c, &b->zlen))
		return "malformed block header";
	if (b->zlen > (uint64_t)(c.end - c.p))
		return "block runs past the end of data";
	if (b->raw_len > PST_Z_MAX_RAW)
		return "implausible block size";
	b->frame = c.p;
	b->end = c.p + b->zlen;
	return NULL;
}

/* --- reading ahead ---
 * While the decoder reads one block, a second thread decompresses the
 * next one (a long trace's zstd time moves to another core): the RUN
 * after a BLOCK names it. The decoder then takes that buffer in place of
 * decompressing; a block it did not expect is decompressed in place as
 * before, so what is read never depends on the thread. At most
 * AHEAD_MAX threads at a time (each holds a block's buffer); the other
 * thread files decompress in place. */
#define AHEAD_MAX 4

enum { AHEAD_IDLE, AHEAD_BUSY, AHEAD_DONE };

struct zahead {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state;
	bool quit;
	uint64_t zpos; /* the job: the block at zpos */
	const uint8_t *frame;
	size_t zlen, raw_len;
	size_t result; /* ZSTD_decompressDCtx's */
	uint8_t *buf;
	size_t cap;
	ZSTD_DCtx *dctx;
};

static int aheads_alive;

static void *ahead_main(void *arg)
{
	struct zahead *a = arg;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (a->state != AHEAD_BUSY && !a->quit)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->quit)
			break;
		pthread_mutex_unlock(&a->mu);
		size_t n = ZSTD_decompressDCtx(a->dctx, a->buf, a->raw_len, a->frame, a->zlen);
		pthread_mutex_lock(&a->mu);
		a->result = n;
		a->state = AHEAD_DONE;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static struct zahead *ahead_start(void)
{
	if (aheads_alive >= AHEAD_MAX)
		return NULL;
	struct zahead *a = pa_xcalloc(1, sizeof(*a));
	a->dctx = ZSTD_createDCtx();
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	if (!a->dctx || pthread_create(&a->thread, NULL, ahead_main, a)) {
		ZSTD_freeDCtx(a->dctx);
		pthread_mutex_destroy(&a->mu);
		pthread_cond_destroy(&a->cv);
		free(a);
		return NULL;
	}
	aheads_alive++;
	return a;
}

static void ahead_stop(struct zahead *a)
{
	pthread_mutex_lock(&a->mu);
	a->quit = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	ZSTD_freeDCtx(a->dctx);
	free(a->buf);
	free(a);
	aheads_alive--;
}

/* The block at zpos when it was decompressed ahead: its buffer becomes
 * the thread's (*n: the decompression's result). False otherwise; either
 * way the helper is idle after. */
static bool ahead_take(struct pa_zread *z, uint64_t zpos, size_t *n)
{
	struct zahead *a = z->ahead;
	if (!a)
		return false;
	pthread_mutex_lock(&a->mu);
	while (a->state == AHEAD_BUSY)
		pthread_cond_wait(&a->cv, &a->mu);
	bool hit = a->state == AHEAD_DONE && a->zpos == zpos;
	a->state = AHEAD_IDLE;
	pthread_mutex_unlock(&a->mu);
	if (!hit)
		return false;
	uint8_t *buf = z->buf;
	size_t cap = z->cap;
	z->buf = a->buf;
	z->cap = a->cap;
	a->buf = buf;
	a->cap = cap;
	*n = a->result;
	return true;
}

/* After entering block b: hand the next block (the RUN after b names it)
 * to the helper. */
static void ahead_next(struct pa_thread *t, const struct block *b)
{
	struct pa_zread *z = t->z;
	size_t pos = (size_t)(b->end - t->data);
	struct pa_cursor c;
	uint64_t tag, n, zpos = 0;
	pa_cursor_init(&c, b->end, t->data_len - pos);
	if (pa_get_varint(&c, &tag) || tag != ((PST_Z_RUN << PST_KIND_BITS) | PST_K_ZRUN) ||
	    pa_get_varint(&c, &n) || n + PST_Z_RUN_ZPOS > (uint64_t)(c.end - c.p))
		return;
	for (unsigned i = 0; i < PST_Z_RUN_ZPOS; i++)
		zpos |= (uint64_t)c.p[n + i] << (8 * i);
	struct block next;
	if (zpos <= pos || zpos >= t->data_len || parse_block(t, zpos, &next) || next.run != pos ||
	    !next.raw_len)
		return;
	if (!z->ahead)
		z->ahead = ahead_start();
	struct zahead *a = z->ahead;
	if (!a)
		return;
	/* idle here (ahead_take came first): the buffer is the decoder's */
	if (next.raw_len > a->cap) {
		free(a->buf);
		a->buf = pa_xmalloc(next.raw_len);
		a->cap = next.raw_len;
	}
	pthread_mutex_lock(&a->mu);
	a->zpos = zpos;
	a->frame = next.frame;
	a->zlen = next.zlen;
	a->raw_len = next.raw_len;
	a->state = AHEAD_BUSY;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

/* Decompress the block the RUN at data offset `run` points to (zpos) and
 * move the cursor into it. */
static int enter_block(struct pa_session *s, struct pa_thread *t, struct pa_cursor *c, uint64_t run,
		       uint64_t zpos)
{
	struct pa_zread *z = t->z;
	size_t off = PST_DATA_OFFSET + (size_t)zpos;
	struct block b;
	const char *why = NULL;
	if (zpos <= run || zpos >= t->data_len) {
		off = PST_DATA_OFFSET + (size_t)run; /* name the run record */
		why = "its run points outside the data";
	} else {
		why = parse_block(t, zpos, &b);
	}
	if (!why && b.run != run)
		why = "the block belongs to another run";
	if (why)
		return damaged(s, t, c, off, why);
	size_t n;
	bool taken = ahead_take(z, zpos, &n);
	if (!z->dctx)
		z->dctx = ZSTD_createDCtx();
	if (!taken && b.raw_len > z->cap) {
		free(z->buf);
		z->buf = pa_xmalloc(b.raw_len ? b.raw_len : 1);
		z->cap = b.raw_len;
	}
	unsigned long long size = ZSTD_getFrameContentSize(b.frame, b.zlen);
	if (size != b.raw_len && size != ZSTD_CONTENTSIZE_UNKNOWN)
		return damaged(s, t, c, off, "frame size does not match");
	if (!taken)
		n = ZSTD_decompressDCtx(z->dctx, z->buf, b.raw_len, b.frame, b.zlen);
	if (ZSTD_isError(n))
		return damaged(s, t, c, off, ZSTD_getErrorName(n));
	if (n != b.raw_len)
		return damaged(s, t, c, off, "short block");
	z->blocks++;
	z->resume = b.end;
	z->block_off = off;
	release_before(t, off);
	pa_cursor_init(c, z->buf, n);
	ahead_next(t, &b);
	return 0;
}

int pa_zrun_record(struct pa_session *s, struct pa_thread *t, struct pa_cursor *c, uint64_t what,
		   size_t rec_off, struct pa_error *err)
{
	struct pa_zread *z = zstate(t);
	if (z->resume)
		return pa_fail_at(err, t->path, rec_off, "run record inside a compressed block");
	uint64_t data_off = rec_off - PST_DATA_OFFSET;
	if (what == PST_Z_RUN) {
		uint64_t n;
		if (pa_get_varint(c, &n) || n + PST_Z_RUN_ZPOS > (uint64_t)(c->end - c->p))
			return pa_fail_at(err, t->path, rec_off, "malformed run record");
		c->p += n;
		uint64_t zpos = 0;
		for (unsigned i = 0; i < PST_Z_RUN_ZPOS; i++)
			zpos |= (uint64_t)c->p[i] << (8 * i);
		c->p += PST_Z_RUN_ZPOS;
		z->run = data_off;
		return zpos ? enter_block(s, t, c, data_off, zpos) : 0;
	}
	if (what == PST_Z_BLOCK) {
		/* met in sequence: the run just read raw, compressed again */
		struct block b;
		const char *why = parse_block(t, data_off, &b);
		if (why)
			return pa_fail_at(err, t->path, rec_off, "%s", why);
		if (b.run != z->run)
			return pa_fail_at(err, t->path, rec_off,
					  "compressed block of a run that was not read");
		c->p = b.end;
		return 0;
	}
	return pa_fail_at(err, t->path, rec_off, "unknown run record %llu",
			  (unsigned long long)what);
}

bool pa_zrun_leave(struct pa_thread *t, struct pa_cursor *c)
{
	struct pa_zread *z = t->z;
	if (!z || !z->resume)
		return false;
	c->start = t->data;
	c->p = z->resume;
	c->end = t->data + t->data_len;
	z->resume = NULL;
	z->block_off = 0;
	return c->p < c->end;
}

size_t pa_zrun_block_off(const struct pa_thread *t)
{
	return t->z && t->z->resume ? t->z->block_off : 0;
}

uint64_t pa_zrun_blocks(const struct pa_thread *t)
{
	return t->z ? t->z->blocks : 0;
}

void pa_zrun_free(struct pa_thread *t)
{
	if (!t->z)
		return;
	if (t->z->ahead)
		ahead_stop(t->z->ahead);
	ZSTD_freeDCtx(t->z->dctx);
	free(t->z->buf);
	free(t->z);
	t->z = NULL;
}
