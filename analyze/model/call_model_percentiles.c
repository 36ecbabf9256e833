/*
 * The call model's percentiles per function: exact from the durations
 * (quickselect), or from the fine histogram (trace mode, its buckets are
 * fine_bucket's in call_model.c), or from the log2 histogram (tree mode).
 */
#define _GNU_SOURCE
#include <math.h>

#include "call_model.h"
#include "call_model_internal.h"

/* The lowest duration of bucket b and the bucket's width. */
static void fine_bucket_range(unsigned b, uint64_t *lo, uint64_t *width)
{
	if (b < (2u << CALL_FINE_SUB_BITS)) {
		*lo = b;
		*width = 1;
		return;
	}
	unsigned shift = (b >> CALL_FINE_SUB_BITS) - 1;
	uint64_t top = (b & ((1u << CALL_FINE_SUB_BITS) - 1)) | (1u << CALL_FINE_SUB_BITS);
	*lo = top << shift;
	*width = (uint64_t)1 << shift;
}

static inline void swap_u64(uint64_t *a, uint64_t *b)
{
	uint64_t t = *a;
	*a = *b;
	*b = t;
}

/* Put the k-th smallest of v[lo..hi] at v[k], smaller ones before it and
 * larger ones after (quickselect, median-of-three pivot): linear time,
 * where sorting every duration would dominate the analysis. */
static void select_kth(uint64_t *v, size_t lo, size_t hi, size_t k)
{
	while (hi > lo) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo])
			swap_u64(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap_u64(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap_u64(&v[hi], &v[mid]);
		uint64_t pivot = v[mid];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap_u64(&v[i], &v[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* Nearest-rank percentile of n values; v[from..] already holds the values
 * at or above every earlier rank asked for (ranks asked in rising order). */
static double exact_percentile(uint64_t *v, size_t n, size_t *from, double p)
{
	if (!n)
		return 0;
	size_t k = (size_t)ceil(p / 100.0 * (double)n);
	k = k < 1 ? 0 : k - 1;
	select_kth(v, *from, n - 1, k);
	*from = k;
	return (double)v[k];
}

/* Percentile from the log2 histogram: the rank's position inside its
 * bucket, interpolated linearly, clamped to [min, max]. */
static double hist_percentile(const struct call_func *f, double p)
{
	uint64_t total = 0;
	for (int b = 0; b < 64; b++)
		total += f->hist[b];
	if (!total)
		return 0;
	double rank = p / 100.0 * (double)total, seen = 0;
	for (int b = 0; b < 64; b++) {
		if (!f->hist[b])
			continue;
		if (seen + (double)f->hist[b] >= rank) {
			double lo = b ? ldexp(1, b - 1) : 0, hi = b ? ldexp(1, b) : 1;
			double v = lo + (hi - lo) * ((rank - seen) / (double)f->hist[b]);
			if (v < (double)f->min)
				v = (double)f->min;
			if (v > (double)f->max)
				v = (double)f->max;
			return v;
		}
		seen += (double)f->hist[b];
	}
	return (double)f->max;
}

/* Nearest-rank percentile from the fine histogram: the rank's value
 * interpolated inside its bucket, clamped to [min, max]. */
static double fine_percentile(const struct call_func *f, double p)
{
	uint64_t n = 0;
	for (unsigned b = 0; b < CALL_FINE_BUCKETS; b++)
		n += f->fine[b];
	if (!n)
		return 0;
	uint64_t k = (uint64_t)ceil(p / 100.0 * (double)n);
	k = k < 1 ? 1 : k;
	uint64_t seen = 0;
	for (unsigned b = 0; b < CALL_FINE_BUCKETS; b++) {
		uint64_t c = f->fine[b];
		if (seen + c < k) {
			seen += c;
			continue;
		}
		uint64_t lo, width;
		fine_bucket_range(b, &lo, &width);
		/* the j-th of c values spread evenly over [lo, lo + width - 1] */
		double v =
		    (double)lo + (double)(width - 1) * ((double)(k - seen) - 0.5) / (double)c;
		if (v < (double)f->min)
			v = (double)f->min;
		if (v > (double)f->max)
			v = (double)f->max;
		return v;
	}
	return (double)f->max;
}

void call_model_percentiles(struct call_func *f)
{
	if (f->fine) {
		f->p50 = fine_percentile(f, 50);
		f->p95 = fine_percentile(f, 95);
		f->p99 = fine_percentile(f, 99);
	} else if (f->durs.len) {
		uint64_t *v = f->durs.items;
		size_t from = 0;
		f->p50 = exact_percentile(v, f->durs.len, &from, 50);
		f->p95 = exact_percentile(v, f->durs.len, &from, 95);
		f->p99 = exact_percentile(v, f->durs.len, &from, 99);
	} else {
		f->p50 = hist_percentile(f, 50);
		f->p95 = hist_percentile(f, 95);
		f->p99 = hist_percentile(f, 99);
	}
	if (f->min == UINT64_MAX)
		f->min = 0;
}
