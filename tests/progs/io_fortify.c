/*
 * Known answers for the _FORTIFY_SOURCE entry points (tests/io.bats), as
 * Debian builds programs: open() with flags the compiler cannot see is
 * __open_2, read() into a buffer of known size __read_chk, fread/fgets
 * __fread_chk/__fgets_chk. Writes DIR/f.txt (1000 bytes), then opens it
 * 3 times with open (5 reads of 100 bytes) and once with fopen (fread 100,
 * fgets of a 49-byte line).
 */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* what glibc's fortified open() calls for flags it cannot see (called by
 * name: whether gcc picks it at -O1 depends on the version) */
int __open_2(const char *path, int flags);

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	char path[4096];
	snprintf(path, sizeof(path), "%s/f.txt", argv[1]);
	FILE *w = fopen(path, "w");
	if (!w)
		return 1;
	for (int i = 0; i < 20; i++)
		fprintf(w, "%048d\n", i); /* 49 bytes a line */
	fprintf(w, "%*s", 20, "");
	fclose(w);
	volatile int flags = O_RDONLY;
	char buf[100];
	volatile size_t n = sizeof(buf); /* read -> __read_chk */
	for (int k = 0; k < 3; k++) {
		int fd = __open_2(path, flags);
		if (fd < 0)
			return 1;
		for (int i = 0; i < 5; i++)
			if (read(fd, buf, n) != 100)
				return 1;
		close(fd);
	}
	FILE *r = fopen(path, "r");
	if (!r || fread(buf, 1, n, r) != 100)
		return 1;
	char line[64];
	if (!fgets(line, (int)(n - 40), r)) /* -> __fgets_chk */
		return 1;
	fclose(r);
	printf("ok\n");
	return 0;
}
