/*
 * At a clean close, a thread file with compressed runs is rewritten without
 * its holes: the raw runs' disk blocks were freed as the run went on, but
 * the file length still counted them (a sparse file that copies, archives
 * and `ls -l` see at its raw size). The compact copy is written next to it
 * and renamed over it, so a crash at any moment leaves one whole file: the
 * sparse one or the compact one (and perhaps a stray "<file>.zc").
 *
 * Layout of the copy: the header page, the raw first window, then for each
 * run a minimal RUN record pointing at the BLOCK right after it (offsets
 * rewritten), and the last run's raw records if it stayed raw. The PADs
 * and the room around blocks the compressor thread wrote are left out.
 */
#define _GNU_SOURCE
#include "writer.h"

#include <fcntl.h>
#include <stdio.h> /* rename */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Bytes of a minimal RUN record: tag, n = 0, zpos. */
#define RUN_MIN (2 + PST_Z_RUN_ZPOS)

struct out {
	int fd;
	uint64_t at; /* file offset of the next byte */
	int err;
};

static void put(struct out *o, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (!o->err && n) {
		ssize_t w = pwrite(o->fd, b, n, (off_t)o->at);
		if (w <= 0) {
			o->err = 1;
			return;
		}
		b += w;
		n -= (size_t)w;
		o->at += (uint64_t)w;
	}
}

static int get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v, const uint8_t **next)
{
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 64 && p < end; shift += 7) {
		uint8_t b = *p++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			*next = p;
			return 0;
		}
	}
	return -1;
}

static void put_run(struct out *o, uint64_t zpos)
{
	uint8_t r[RUN_MIN] = {PST_K_ZRUN, 0};
	for (unsigned i = 0; i < PST_Z_RUN_ZPOS; i++)
		r[2 + i] = (uint8_t)(zpos >> (8 * i));
	put(o, r, sizeof(r));
}

/* Past the PAD records at `at` (a BLOCK written by the compressor thread
 * is followed by one, up to the next RUN). */
static uint64_t skip_pads(const uint8_t *src, uint64_t at, uint64_t end)
{
	uint64_t tag, len;
	const uint8_t *p;
	while (at < end && !get_varint(src + at, src + end, &tag, &p) &&
	       tag == ((PST_X_PAD << PST_KIND_BITS) | PST_K_EXT) &&
	       !get_varint(p, src + end, &len, &p) && len <= (uint64_t)(src + end - p))
		at = (uint64_t)(p + len - src);
	return at;
}

/* Copy the runs from `run` (a RUN record) to end into o; -1 on anything
 * unexpected (the file then stays as it is). */
static int copy_runs(const uint8_t *src, uint64_t run, uint64_t end, struct out *o)
{
	while (run < end && !o->err) {
		uint64_t n, zpos, f[4];
		const uint8_t *p;
		if (src[run] != PST_K_ZRUN || get_varint(src + run + 1, src + end, &n, &p) ||
		    (uint64_t)(src + end - p) < n + PST_Z_RUN_ZPOS)
			return -1;
		p += n;
		memcpy(&zpos, p, sizeof(zpos)); /* little-endian hosts only */
		const uint8_t *data = p + PST_Z_RUN_ZPOS;
		if (!zpos) { /* the last run, raw */
			put_run(o, 0);
			put(o, data, (size_t)(src + end - data));
			return 0;
		}
		uint64_t b = PST_DATA_OFFSET + zpos, tag;
		if (b >= end || get_varint(src + b, src + end, &tag, &p) ||
		    tag != ((PST_Z_BLOCK << PST_KIND_BITS) | PST_K_ZRUN))
			return -1;
		for (int i = 0; i < 4; i++) /* seq, run, raw_len, zlen */
			if (get_varint(p, src + end, &f[i], &p))
				return -1;
		if (f[3] > (uint64_t)(src + end - p))
			return -1;
		uint64_t new_run = o->at - PST_DATA_OFFSET;
		put_run(o, new_run + RUN_MIN);
		uint8_t h[1 + 4 * PST_VARINT_MAX], *q = h;
		q = pst_put_tag(q, PST_Z_BLOCK, PST_K_ZRUN);
		q = pst_put_varint(q, f[0]);
		q = pst_put_varint(q, new_run);
		q = pst_put_varint(q, f[2]);
		q = pst_put_varint(q, f[3]);
		put(o, h, (size_t)(q - h));
		put(o, p, (size_t)f[3]);
		run = skip_pads(src, (uint64_t)(p + f[3] - src), end);
	}
	return o->err ? -1 : 0;
}

void pw_z_compact(struct pw_stream *s, int fd)
{
	struct pw_zstate *z = &s->z;
	uint64_t end = PST_DATA_OFFSET + __atomic_load_n(&s->hdr->committed, __ATOMIC_ACQUIRE);
	if (!z->seq || !z->first_run || z->first_run >= end)
		return;
	char tmp[PATH_MAX];
	size_t plen = strlen(s->path);
	if (plen + 4 > sizeof(tmp))
		return;
	memcpy(tmp, s->path, plen);
	memcpy(tmp + plen, ".zc", 4);
	const uint8_t *src = mmap(NULL, end, PROT_READ, MAP_SHARED, fd, 0);
	if (src == MAP_FAILED)
		return;
	struct out o = {.fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644),
			.at = PST_DATA_OFFSET};
	int rc = o.fd < 0 ? -1 : 0;
	if (!rc) {
		put(&o, src + PST_DATA_OFFSET, (size_t)(z->first_run - PST_DATA_OFFSET));
		rc = copy_runs(src, z->first_run, end, &o);
	}
	if (!rc) { /* the header last: closed, its new length */
		uint8_t page[PST_DATA_OFFSET];
		memcpy(page, src, sizeof(page));
		struct pst_file_header *h = (struct pst_file_header *)page;
		h->committed = o.at - PST_DATA_OFFSET;
		h->flags |= PST_FLAG_CLOSED;
		o.at = 0;
		put(&o, page, sizeof(page));
		rc = (o.err || rename(tmp, s->path)) ? -1 : 0;
	}
	if (rc && o.fd >= 0)
		unlink(tmp);
	if (o.fd >= 0)
		close(o.fd);
	munmap((void *)src, end);
}
