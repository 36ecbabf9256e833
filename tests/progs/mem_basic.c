/* Smoke: a few allocations of each kind. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
volatile void *sink;
int main(void)
{
	void *a = malloc(100);
	void *b = calloc(10, 10);
	a = realloc(a, 200);
	void *c = NULL;
	posix_memalign(&c, 64, 128);
	sink = memalign(64, 32);
	free(b);
	free(a);
	free(c);
	return 0;
}
