/*
 * Allocation-heavy workload for tools/bench-mem.sh and the sampling test:
 * N small allocations (16..271 bytes, from a fixed pseudo-random sequence)
 * through three call paths of different depth, each kept in a ring of 1024
 * live blocks and freed when the ring comes round; the ring is freed at the
 * end; each block is filled once (programs write what they allocate).
 * Usage: mem_bench [N [PASSES]] (default 5000000, 0): PASSES > 0 adds work
 * per block (checksum passes over it), for a program that does something
 * with its memory besides allocating it. Exact answers for N: N
 * allocations, N frees, 0 leaks; bytes = the sum printed with "bytes=".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RING 1024

static void *ring[RING];
static uint64_t total_bytes;
static uint64_t checksum;
static int passes;

__attribute__((noinline)) static void *leaf_alloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		_exit(2);
	memset(p, (int)n, n); /* programs write what they allocate */
	return p;
}

__attribute__((noinline)) static void *mid_alloc(size_t n)
{
	return leaf_alloc(n);
}

__attribute__((noinline)) static void *deep_alloc(size_t n)
{
	return mid_alloc(n);
}

static void put_u64(const char *label, uint64_t v)
{
	char buf[64];
	size_t l = strlen(label);
	memcpy(buf, label, l);
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		buf[l++] = tmp[--n];
	buf[l++] = '\n';
	ssize_t rc = write(1, buf, l);
	(void)rc;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000000;
	passes = argc > 2 ? atoi(argv[2]) : 0;
	uint32_t x = 12345;
	for (long i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		size_t size = 16 + ((x >> 16) & 255);
		void *p;
		switch (i % 3) {
		case 0:
			p = leaf_alloc(size);
			break;
		case 1:
			p = mid_alloc(size);
			break;
		default:
			p = deep_alloc(size);
			break;
		}
		total_bytes += size;
		for (int k = 0; k < passes; k++)
			for (size_t j = 0; j < size; j++)
				checksum = checksum * 31 + ((unsigned char *)p)[j];
		free(ring[i % RING]);
		ring[i % RING] = p;
	}
	for (int i = 0; i < RING; i++)
		free(ring[i]);
	put_u64("bytes=", total_bytes);
	if (passes)
		put_u64("checksum=", checksum);
	return 0;
}
