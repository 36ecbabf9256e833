/* realloc(p, 0) and realloc(NULL, 0). glibc (2.36) frees p and returns
 * NULL for the first, and returns a fresh minimal block for the second.
 * Prints what the allocator did ("p0=null|block null0=null|block"); every
 * block returned is freed, so nothing leaks. Calls: malloc(100),
 * realloc(p, 0), realloc(NULL, 0), then one free per block returned. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	char *p = malloc(100);
	if (!p)
		return 1;
	p[0] = 1;
	errno = 0;
	void *r = realloc(p, 0);
	int e1 = errno;
	void *z = realloc(NULL, 0);
	printf("p0=%s null0=%s errno=%d\n", r ? "block" : "null", z ? "block" : "null", e1);
	free(r);
	free(z);
	return 0;
}
