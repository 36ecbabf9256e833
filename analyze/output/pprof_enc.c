/* Protocol-buffers encoding and gzip for pprof: see pprof_enc.h. */
#define _GNU_SOURCE
#include "pprof_enc.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void grow(struct pb *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap * 2 : 256;
	while (cap < b->len + more)
		cap *= 2;
	b->p = pa_xrealloc(b->p, cap);
	b->cap = cap;
}

static void varint(struct pb *b, uint64_t v)
{
	grow(b, 10);
	while (v >= 0x80) {
		b->p[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->len++] = (uint8_t)v;
}

void pb_reset(struct pb *b)
{
	b->len = 0;
}

void pb_free(struct pb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void pb_uint(struct pb *b, int field, uint64_t v)
{
	varint(b, (uint64_t)field << 3);
	varint(b, v);
}

void pb_int(struct pb *b, int field, int64_t v)
{
	pb_uint(b, field, (uint64_t)v); /* int64: two's complement varint */
}

void pb_bytes(struct pb *b, int field, const void *data, size_t n)
{
	varint(b, (uint64_t)field << 3 | 2);
	varint(b, n);
	grow(b, n);
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

void pb_packed(struct pb *b, int field, const uint64_t *v, size_t n)
{
	if (!n)
		return;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t x = v[i];
		do {
			bytes++;
			x >>= 7;
		} while (x);
	}
	varint(b, (uint64_t)field << 3 | 2);
	varint(b, bytes);
	for (size_t i = 0; i < n; i++)
		varint(b, v[i]);
}

static void hashes(const char *s, uint64_t *h1, uint64_t *h2)
{
	uint64_t a = 1469598103934665603ull, c = 5381;
	for (; *s; s++) {
		a = (a ^ (uint8_t)*s) * 1099511628211ull;
		c = c * 33 + (uint8_t)*s;
	}
	*h1 = a;
	*h2 = c;
}

void pb_strings_init(struct pb_strings *st)
{
	pa_vec_init(&st->strs, sizeof(char *));
	pa_pairmap_init(&st->index);
	*(char **)pa_vec_push(&st->strs) = pa_xstrdup("");
}

int64_t pb_string(struct pb_strings *st, const char *s)
{
	if (!s || !*s)
		return 0;
	uint64_t h1, h2;
	hashes(s, &h1, &h2);
	uint32_t v = pa_pairmap_get(&st->index, h1, h2);
	if (v)
		return v; /* strings are never at 0 but "" */
	*(char **)pa_vec_push(&st->strs) = pa_xstrdup(s);
	v = (uint32_t)st->strs.len - 1;
	pa_pairmap_put(&st->index, h1, h2, v);
	return v;
}

void pb_strings_write(const struct pb_strings *st, struct pb *b, int field)
{
	for (size_t i = 0; i < st->strs.len; i++) {
		const char *s = *(char **)pa_vec_at(&st->strs, i);
		pb_bytes(b, field, s, strlen(s));
	}
}

void pb_strings_free(struct pb_strings *st)
{
	for (size_t i = 0; i < st->strs.len; i++)
		free(*(char **)pa_vec_at(&st->strs, i));
	pa_vec_free(&st->strs);
	pa_pairmap_free(&st->index);
}

int pb_write_gzip(const struct pb *b, FILE *f)
{
	if (b->len > UINT32_MAX) {
		fprintf(stderr, "profanalyze: --format=pprof: the profile passes 4 GB\n");
		return -1;
	}
	z_stream z;
	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer, as pprof expects */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		fprintf(stderr, "profanalyze: --format=pprof: zlib: cannot start compression\n");
		return -1;
	}
	uint8_t out[1 << 16];
	z.next_in = b->p;
	z.avail_in = (uInt)b->len;
	int rc;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = deflate(&z, Z_FINISH);
		fwrite(out, 1, sizeof(out) - z.avail_out, f);
	} while (rc == Z_OK || rc == Z_BUF_ERROR);
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		fprintf(stderr, "profanalyze: --format=pprof: zlib: compression failed\n");
		return -1;
	}
	return 0;
}
