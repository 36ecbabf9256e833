/*
 * The bundled example profiled by `make demo`: a small "image pipeline"
 * with the usual suspects — a hot loop, a recursive function, threads,
 * heap churn, a leak — and the profshim API (markers and live counters).
 * Built with -finstrument-functions so every recorder has something to say.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profshim.h"

#define WORKERS 2
#define IMAGE 256

struct image {
	int w, h;
	float *px;
};

static struct image *image_new(int w, int h)
{
	struct image *im = malloc(sizeof(*im));
	im->w = w;
	im->h = h;
	im->px = calloc((size_t)w * h, sizeof(float));
	return im;
}

static void image_free(struct image *im)
{
	free(im->px);
	free(im);
}

/* The hot loop: a 3x3 blur, on purpose not vectorization-friendly. */
static void blur(const struct image *in, struct image *out)
{
	for (int y = 1; y < in->h - 1; y++)
		for (int x = 1; x < in->w - 1; x++) {
			float sum = 0;
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++)
					sum += in->px[(y + dy) * in->w + x + dx];
			out->px[y * out->w + x] = sum / 9.0f;
		}
}

static long fib(int n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* Temporary strings: allocated and freed right away (heap churn). */
static size_t label_frames(int frames)
{
	size_t total = 0;
	for (int i = 0; i < frames; i++) {
		char *label = malloc(64);
		snprintf(label, 64, "frame-%06d", i);
		total += strlen(label);
		free(label);
	}
	return total;
}

/* Left out of -finstrument-functions (a leaf called in a tight loop):
 * CPU samples still see it, the call recorder does not. */
__attribute__((no_instrument_function)) static unsigned checksum(const char *s, size_t n)
{
	unsigned h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static unsigned verify_output(int rounds)
{
	static char buf[1 << 16];
	unsigned h = 0;
	for (int r = 0; r < rounds; r++) {
		memset(buf, r, sizeof(buf));
		h ^= checksum(buf, sizeof(buf));
	}
	return h;
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	char name[16];
	snprintf(name, sizeof(name), "blur-%d", id);
	pthread_setname_np(pthread_self(), name);
	struct image *a = image_new(IMAGE, IMAGE), *b = image_new(IMAGE, IMAGE);
	for (int i = 0; i < 120; i++) {
		blur(a, b);
		blur(b, a);
	}
	image_free(a);
	image_free(b);
	return NULL;
}

/* A cache that is never freed: shows up as a leak. */
static char **cache;

static void fill_cache(int n)
{
	cache = malloc(sizeof(char *) * (size_t)n);
	for (int i = 0; i < n; i++)
		cache[i] = malloc(1024);
}

int main(void)
{
	PROFSHIM_MARK("start");
	fill_cache(100);
	size_t labels = label_frames(20000);
	PROFSHIM_MARK("labels done");

	pthread_t th[WORKERS];
	for (long i = 0; i < WORKERS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	long f = fib(27);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	PROFSHIM_MARK("blur done");
	unsigned sum = verify_output(1500);
	PROFSHIM_MARK("verified");

	printf("demo: fib(27) = %ld, %zu label bytes, checksum %08x\n", f, labels, sum);
	struct profshim_counters c;
	if (profshim_active() && profshim_get_counters(&c) == 0)
		printf("demo: the shim counted %llu allocations, %llu calls, %llu samples so far\n",
		       (unsigned long long)c.allocations, (unsigned long long)c.calls,
		       (unsigned long long)c.samples);
	return 0;
}
