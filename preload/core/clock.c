/* Event clock selection and TSC calibration: see clock.h. */
#define _GNU_SOURCE
#include "clock.h"

#include <stdlib.h>
#include <string.h>

#include "profshim_trace.h"
#include "shim.h"
#ifdef PS_HAVE_TSC
#include <cpuid.h>
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#endif
#endif

int ps_clock_kind = PST_CLOCK_MONOTONIC_NS;
uint64_t ps_ticks_per_sec_x1000 = 1000000000000ull;

#ifdef PS_HAVE_TSC
static int tsc_is_invariant(void)
{
#ifdef CPU_FEATURE_PRESENT
	/* glibc read these CPUID leaves at its start already: asking it costs
	 * no VM exit (two CPUIDs were ~5-10 us of every start-up here) */
	return CPU_FEATURE_PRESENT(INVARIANT_TSC);
#else
	unsigned a, b, c, d;
	if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
		return 0;
	__get_cpuid(0x80000007u, &a, &b, &c, &d);
	return (d >> 8) & 1;
#endif
}

/* One calibration point: a CLOCK_MONOTONIC reading and the TSC at that
 * moment. The TSC is read on both sides of the clock call and the tightest
 * of a few tries wins, so a preemption or an interrupt between the two
 * reads cannot skew the pair. */
static void tsc_mono_pair(uint64_t *tsc, uint64_t *mono)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		uint64_t before = __rdtsc(), m = ps_mono_ns(), after = __rdtsc();
		if (after - before < best) {
			best = after - before;
			*tsc = before + (after - before) / 2;
			*mono = m;
		}
	}
}

/* The first calibration pair and how far the start-up estimate reached:
 * the end of the process (or an exec) measures again over its whole life. */
static uint64_t cal_tsc0, cal_mono0, cal_span_ns;

static uint64_t rate_x1000(uint64_t t0, uint64_t m0, uint64_t t1, uint64_t m1)
{
	double cycles = (double)((t1 >> PST_TSC_SHIFT) - (t0 >> PST_TSC_SHIFT));
	return (uint64_t)(cycles * 1e12 / (double)(m1 - m0));
}

/* TSC ticks per second x 1000, from two bracketed pairs at least 40 us
 * apart: a start-up estimate good to about 0.1% (a pair's error is half
 * its bracket, ~20 ns), enough for the shim's own thresholds. It was a
 * 250 us spin, then a 40 us one, a tenth of a short process's start-up;
 * now the first pair is taken when the clock is chosen and the second
 * when the rate is first needed (ps_clock_settle: the process file is
 * made in between, which takes longer than that), so the span costs
 * nothing. The precise rate is measured at the end over the process's
 * whole life (CLOCK_CAL), and profanalyze recalibrates from the
 * CLOCK_SYNC points of any run longer than 50 ms. */
#define CAL_START_NS 40000u
static int cal_open; /* first pair taken, rate not computed yet */

static void calibrate_start(void)
{
	tsc_mono_pair(&cal_tsc0, &cal_mono0);
	cal_open = 1;
}

static uint64_t calibrate_end_x1000(void)
{
	uint64_t t1, m1;
	do {
		tsc_mono_pair(&t1, &m1);
	} while (m1 - cal_mono0 < CAL_START_NS);
	cal_span_ns = m1 - cal_mono0;
	return rate_x1000(cal_tsc0, cal_mono0, t1, m1);
}

/* Measure the rate again from the start-up pair to now, when that span is
 * longer than the start-up estimate's; 1 when *x1000 is the better rate. */
static int refine_tsc_x1000(uint64_t *x1000, uint64_t *span_ns)
{
	uint64_t t1, m1;
	if (ps_clock_kind != PST_CLOCK_TSC || !cal_span_ns)
		return 0; /* mono, or an inherited rate: nothing measured here */
	tsc_mono_pair(&t1, &m1);
	if (m1 <= cal_mono0 || m1 - cal_mono0 <= cal_span_ns || t1 <= cal_tsc0)
		return 0;
	*span_ns = m1 - cal_mono0;
	*x1000 = rate_x1000(cal_tsc0, cal_mono0, t1, m1);
	return *x1000 > 0;
}
#endif

uint32_t ps_clock_read_x16;

/* The cost of one clock read, in ticks x 16: the best of a few runs of
 * back-to-back reads. A timed call's measured duration holds about one
 * read more than an untimed call takes (calls.c). */
static uint32_t measure_read_cost_x16(void)
{
	enum { READS = 64 }; /* 12 ns each in a VM here: 3 us in all */
	uint64_t best = UINT64_MAX;
	for (int round = 0; round < 4; round++) {
		uint64_t t0 = ps_now(), t = t0;
		for (int i = 0; i < READS; i++)
			t = ps_now();
		if (t - t0 < best)
			best = t - t0;
	}
	return (uint32_t)(best * 16 / READS);
}

/* --- the calibration handed down through exec --- */

/* A process started by exec from a profiled one (every process of a build
 * tree but the first) takes its parent's calibration from the environment
 * instead of spinning 250 us: the TSC rate is the machine's, not the
 * process's. "PROFSHIM_CLOCK_CAL=<ticks/s x 1000>:<read cost x 16>". */
#define CAL_ENV "PROFSHIM_CLOCK_CAL="
static char cal_env[64];

static int parse_u64(const char **s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = *s;
	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*s = p;
	*out = v;
	return 1;
}

/* The inherited calibration, when there is one and it is plausible (a
 * TSC between 100 MHz and 100 GHz, in ticks of TSC >> PST_TSC_SHIFT);
 * 0 otherwise. */
static int inherited_calibration(uint64_t *x1000, uint32_t *read_x16)
{
	const char *v = getenv("PROFSHIM_CLOCK_CAL");
	uint64_t rate, cost;
	if (!v || !parse_u64(&v, &rate) || *v++ != ':' || !parse_u64(&v, &cost) || *v)
		return 0;
	if (rate < (100000000000ull >> PST_TSC_SHIFT) ||
	    rate > (100000000000000ull >> PST_TSC_SHIFT) || cost > 1000000)
		return 0;
	*x1000 = rate;
	*read_x16 = (uint32_t)cost;
	return 1;
}

static void make_cal_env(void)
{
	char num[24];
	cal_env[0] = 0;
	if (ps_clock_kind != PST_CLOCK_TSC)
		return; /* nothing to hand down: mono needs no calibration */
	strcpy(cal_env, CAL_ENV);
	ps_u64_to_str(num, ps_ticks_per_sec_x1000);
	strcat(cal_env, num);
	strcat(cal_env, ":");
	ps_u64_to_str(num, ps_clock_read_x16);
	strcat(cal_env, num);
}

const char *ps_clock_exec_env(void)
{
	ps_clock_settle();
	return cal_env[0] ? cal_env : NULL;
}

int ps_clock_is_exec_env(const char *entry)
{
	return strncmp(entry, CAL_ENV, sizeof(CAL_ENV) - 1) == 0;
}

void ps_clock_init(void)
{
	const char *want = getenv("PROFSHIM_CLOCK");
	ps_clock_kind = PST_CLOCK_MONOTONIC_NS;
	ps_ticks_per_sec_x1000 = 1000000000000ull;
#ifdef PS_HAVE_TSC
	/* An inherited calibration says the parent found an invariant TSC:
	 * no CPUID here (a VM exit each, ~3 us, and the check takes three). */
	uint64_t cal_rate;
	uint32_t cal_cost;
	int inherited = inherited_calibration(&cal_rate, &cal_cost);
	int use_tsc = want && strcmp(want, "tsc") == 0;
	if (!(want && strcmp(want, "mono") == 0) && !use_tsc)
		use_tsc = inherited || tsc_is_invariant();
	if (use_tsc && inherited) {
		ps_ticks_per_sec_x1000 = cal_rate;
		ps_clock_read_x16 = cal_cost;
		ps_clock_kind = PST_CLOCK_TSC;
		make_cal_env();
		return;
	}
	if (use_tsc) {
		calibrate_start(); /* the rate: ps_clock_settle */
		ps_clock_kind = PST_CLOCK_TSC;
	}
#else
	(void)want;
#endif
	ps_clock_read_x16 = measure_read_cost_x16();
	make_cal_env();
}

void ps_clock_settle(void)
{
#ifdef PS_HAVE_TSC
	if (!cal_open)
		return;
	cal_open = 0;
	uint64_t x1000 = calibrate_end_x1000();
	/* A TSC that did not move in 40 us is no clock; ticks taken so far
	 * (the start in the files' headers) are still TSC ticks: a rate of
	 * 1 GHz keeps them readable. */
	ps_ticks_per_sec_x1000 = x1000 ? x1000 : 1000000000000ull;
	make_cal_env();
#endif
}

void ps_clock_write_refined(void)
{
#ifdef PS_HAVE_TSC
	uint64_t x1000, span;
	ps_clock_settle();
	if (!refine_tsc_x1000(&x1000, &span))
		return;
	/* later thresholds, and an exec's new image, take the better rate */
	ps_ticks_per_sec_x1000 = x1000;
	cal_span_ns = span;
	make_cal_env();
	uint8_t buf[2 * PST_VARINT_MAX], *p = buf;
	p = pst_put_varint(p, x1000);
	p = pst_put_varint(p, span);
	ps_process_ext(PST_X_CLOCK_CAL, buf, (size_t)(p - buf));
#endif
}

uint64_t ps_ticks_to_ns(uint64_t ticks)
{
	ps_clock_settle();
	return (uint64_t)((double)ticks * 1e12 / (double)ps_ticks_per_sec_x1000);
}
