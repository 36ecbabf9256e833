/* A realloc that fails (ENOMEM) while its old block stays, between other
 * calls whose numbers and sizes are known: sampling mode's fast path
 * (realloc_hot) must count it as exact mode does, and keep the old block
 * live (its free comes later).
 *
 * Calls: 1,000 x (malloc(48) + free) to warm up, malloc(1 MiB) = p,
 * realloc(p, 64 MiB) failing under an address-space limit 16 MiB above
 * what the process maps, malloc(2 MiB) = q while p is live (the peak:
 * p + q), free(q), free(p). Prints "failed=1 errno=ENOMEM" when the
 * realloc failed as planned (or "failed=0" when the limit could not be
 * set: then nothing is tested). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The process's mapped bytes now (/proc/self/statm, first field). */
static long mapped_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = -1;
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &pages) != 1)
		pages = -1;
	fclose(f);
	return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

int main(void)
{
	for (int i = 0; i < 1000; i++) {
		volatile char *b = malloc(48);
		if (!b)
			return 1;
		b[0] = 1;
		free((void *)b);
	}
	char *p = malloc(1 << 20);
	if (!p)
		return 1;
	memset(p, 7, 1 << 20);
	struct rlimit old, lim;
	long now = mapped_bytes();
	int limited = now > 0 && getrlimit(RLIMIT_AS, &old) == 0;
	if (limited) {
		lim = old;
		lim.rlim_cur = (rlim_t)now + (16u << 20);
		limited = setrlimit(RLIMIT_AS, &lim) == 0;
	}
	errno = 0;
	void *r = realloc(p, 64u << 20);
	int e = errno;
	if (limited)
		setrlimit(RLIMIT_AS, &old);
	if (r) { /* no limit: the block moved */
		printf("failed=0\n");
		free(r);
		return 0;
	}
	char *q = malloc(2 << 20);
	if (!q || p[12345] != 7)
		return 1;
	memset(q, 1, 2 << 20);
	printf("failed=1 errno=%s\n", e == ENOMEM ? "ENOMEM" : "other");
	free(q);
	free(p);
	return 0;
}
