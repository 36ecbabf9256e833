/* Unit tests of the shim's writer: records survive window slides, the
 * committed length is exact, a closed file is trimmed, nothing is ever
 * overwritten. Reads the result back with profanalyze's cursor. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../preload/core/writer.c"
#include "decode.h"
#include "unit.h"

#define RECORDS 200000

/* Record i: tag (i, kind 8) and i % 300 filler bytes of value i & 0xff. */
static int write_records(struct pw_stream *s)
{
	for (uint64_t i = 0; i < RECORDS; i++) {
		size_t fill = i % 300;
		uint8_t *p = pw_reserve(s, PST_VARINT_MAX * 2 + fill);
		if (!p)
			return -1;
		p = pst_put_tag(p, i, 8);
		p = pst_put_varint(p, fill);
		memset(p, (int)(i & 0xff), fill);
		pw_commit(s, p + fill);
	}
	return 0;
}

static int read_back(const char *path, uint64_t *committed)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)size);
	if (fread(buf, 1, (size_t)size, f) != (size_t)size)
		return -1;
	fclose(f);
	struct pst_file_header *h = (void *)buf;
	*committed = h->committed;
	struct pa_cursor c;
	pa_cursor_init(&c, buf + PST_DATA_OFFSET, h->committed);
	int bad = h->version != PST_VERSION || !(h->flags & PST_FLAG_CLOSED) ||
		  (uint64_t)size != PST_DATA_OFFSET + h->committed;
	for (uint64_t i = 0; i < RECORDS && !bad; i++) {
		uint64_t tag = 0, fill = 0;
		bad |= pa_get_varint(&c, &tag) || tag != ((i << 4) | 8);
		bad |= pa_get_varint(&c, &fill) || fill != i % 300;
		for (uint64_t k = 0; k < fill && !bad; k++)
			bad |= c.p[k] != (uint8_t)(i & 0xff);
		c.p += fill;
	}
	bad |= c.p != c.end;
	free(buf);
	return bad ? -1 : 0;
}

int main(void)
{
	char dir[] = "/tmp/profshim-writer.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char path[256];
	snprintf(path, sizeof(path), "%s/w.trace", dir);

	struct pw_stream s;
	CHECK(pw_open(&s, path, PST_MAGIC_THREAD, 1, 2, 3, 4, 256 * 1024) == 0);
	CHECK(write_records(&s) == 0);
	uint64_t expect = __atomic_load_n(&s.hdr->committed, __ATOMIC_ACQUIRE);
	CHECK(expect > 10 * 256 * 1024); /* many window slides */
	pw_close(&s);
	uint64_t committed = 0;
	CHECK(read_back(path, &committed) == 0);
	CHECK(committed == expect);

	/* The same path again: refused, the first file untouched. */
	struct pw_stream s2;
	CHECK(pw_open(&s2, path, PST_MAGIC_THREAD, 1, 2, 3, 4, 256 * 1024) == -EEXIST);
	CHECK(read_back(path, &committed) == 0);

	/* A reserve larger than any record is refused, not overflowed. */
	char p2[300];
	snprintf(p2, sizeof(p2), "%s/big.trace", dir);
	CHECK(pw_open(&s2, p2, PST_MAGIC_THREAD, 1, 2, 3, 4, 256 * 1024) == 0);
	CHECK(pw_reserve(&s2, 1u << 30) == NULL);
	pw_close(&s2);

	/* The file vanished under the writer: reserve fails cleanly. */
	char p3[300];
	snprintf(p3, sizeof(p3), "%s/gone.trace", dir);
	CHECK(pw_open(&s2, p3, PST_MAGIC_THREAD, 1, 2, 3, 4, 256 * 1024) == 0);
	unlink(p3);
	int failed = 0;
	for (int i = 0; i < 100000 && !failed; i++) {
		uint8_t *p = pw_reserve(&s2, 100);
		if (!p)
			failed = 1;
		else
			pw_commit(&s2, p + 100);
	}
	CHECK(failed);
	pw_abandon(&s2);

	/* The program dup2s one of its files over the kept descriptor: the
	 * writer notices (another inode), leaves that file alone and goes on
	 * through its own file, reopened by path. */
	char p4[300], theirs[300];
	snprintf(p4, sizeof(p4), "%s/kept.trace", dir);
	snprintf(theirs, sizeof(theirs), "%s/theirs.txt", dir);
	CHECK(pw_open(&s2, p4, PST_MAGIC_THREAD, 1, 2, 3, 4, 256 * 1024) == 0);
	CHECK(s2.fd >= 3);
	int other = open(theirs, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(other >= 0 && write(other, "mine", 4) == 4);
	int kept = s2.fd;
	CHECK(dup2(other, kept) == kept);
	CHECK(write_records(&s2) == 0);
	expect = __atomic_load_n(&s2.hdr->committed, __ATOMIC_ACQUIRE);
	pw_close(&s2);
	CHECK(read_back(p4, &committed) == 0);
	CHECK(committed == expect);
	struct stat st;
	CHECK(stat(theirs, &st) == 0 && st.st_size == 4);
	/* the program's descriptor stays open: the writer did not close it */
	CHECK(fcntl(kept, F_GETFD) >= 0);
	close(kept);
	close(other);

	/* Descriptors kept by closed streams are closed. */
	CHECK(pw_open(&s2, p4, PST_MAGIC_THREAD, 1, 2, 3, 4, 256 * 1024) == -EEXIST);
	char p5[300];
	snprintf(p5, sizeof(p5), "%s/closed.trace", dir);
	CHECK(pw_open(&s2, p5, PST_MAGIC_THREAD, 1, 2, 3, 4, 256 * 1024) == 0);
	kept = s2.fd;
	pw_close(&s2);
	CHECK(fcntl(kept, F_GETFD) < 0);

	unlink(path);
	unlink(p2);
	unlink(p4);
	unlink(p5);
	unlink(theirs);
	rmdir(dir);
	return UNIT_DONE();
}
