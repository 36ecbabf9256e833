/* Bundled workload for the core benchmark: small allocations, string
 * formatting and hashing. usage: core_workload [ROUNDS [HASH_REPEAT]]:
 * HASH_REPEAT > 1 hashes each key that many times (compute-bound). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long hash(const char *s)
{
	unsigned long h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 15000000;
	long repeat = argc > 2 ? atol(argv[2]) : 1;
	unsigned long acc = 0;
	char *keep[64] = {0};
	for (long i = 0; i < rounds; i++) {
		char *s = malloc(32 + (size_t)(i & 63));
		snprintf(s, 32, "key-%ld", i);
		for (long r = 0; r < repeat; r++)
			acc += hash(s) ^ (unsigned long)r;
		free(keep[i & 63]);
		keep[i & 63] = s;
	}
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	printf("%lu\n", acc);
	return 0;
}
