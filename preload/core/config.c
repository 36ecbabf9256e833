/*
 * Configuration from PROFSHIM_* environment variables (documented in
 * README.md). A bad value prints one line naming the variable and what it
 * accepts; the default is kept and the program runs on.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "shim.h"

struct ps_config ps_cfg;

static void bad(const char *var, const char *val, const char *accepts)
{
	ps_log("ignoring ", var, "=", val, ": expected ", accepts, NULL);
}

/* Parse an unsigned integer in [lo, hi]; returns 0 and keeps *out on error. */
static int get_uint(const char *var, uint64_t lo, uint64_t hi, const char *accepts, uint64_t *out)
{
	const char *v = getenv(var);
	if (!v || !*v)
		return 0;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end || v[0] == '-' || x < lo || x > hi) {
		bad(var, v, accepts);
		return 0;
	}
	*out = x;
	return 1;
}

static void load_record(void)
{
	const char *v = getenv("PROFSHIM_RECORD");
	if (!v)
		return;
	unsigned mask = 0;
	const char *p = v;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == 3 && !strncmp(p, "cpu", 3))
			mask |= PST_REC_CPU;
		else if (n == 3 && !strncmp(p, "mem", 3))
			mask |= PST_REC_MEM;
		else if (n == 5 && !strncmp(p, "calls", 5))
			mask |= PST_REC_CALLS;
		else if (n == 2 && !strncmp(p, "io", 2))
			mask |= PST_REC_IO;
		else if (n == 4 && !strncmp(p, "none", 4))
			mask |= 0;
		else if (n != 0) {
			bad("PROFSHIM_RECORD", v, "a comma list of cpu,mem,calls,io (or none)");
			return;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	ps_cfg.record = mask;
}

static void load_calls_mode(void)
{
	const char *v = getenv("PROFSHIM_CALLS");
	if (!v || !*v)
		return;
	if (!strcmp(v, "tree"))
		ps_cfg.calls_mode = PS_CALLS_TREE;
	else if (!strcmp(v, "trace"))
		ps_cfg.calls_mode = PS_CALLS_TRACE;
	else
		bad("PROFSHIM_CALLS", v, "tree or trace");
}

/* PROFSHIM_CALLS_TIMING: "exact" times every call in tree mode; a number N
 * times each call path's first calls and then one call in N (1 = exact). */
static void load_calls_timing(void)
{
	const char *v = getenv("PROFSHIM_CALLS_TIMING");
	if (!v || !*v)
		return;
	if (!strcmp(v, "exact")) {
		ps_cfg.calls_time_every = 1;
		return;
	}
	uint64_t n;
	if (get_uint("PROFSHIM_CALLS_TIMING", 1, 1u << 20, "exact or a number N from 1 to 1048576",
		     &n))
		ps_cfg.calls_time_every = (unsigned)n;
}

void ps_config_load(void)
{
	memset(&ps_cfg, 0, sizeof(ps_cfg));
	ps_cfg.record = PST_REC_CPU | PST_REC_MEM | PST_REC_CALLS;
	ps_cfg.cpu_hz = 100;
	ps_cfg.stack_depth = 64;
	ps_cfg.buffer_bytes = 1024 * 1024;
	ps_cfg.compress_level = 1;
	ps_cfg.rss_ms = 10;
	ps_cfg.calls_mode = PS_CALLS_TREE;
	ps_cfg.calls_max_depth = 1024;
	ps_cfg.calls_time_every = 64;

	const char *out = getenv("PROFSHIM_OUTPUT");
	if (out && *out) {
		if (strlen(out) >= sizeof(ps_cfg.output) - 64)
			bad("PROFSHIM_OUTPUT", out, "a path shorter than PATH_MAX");
		else
			strcpy(ps_cfg.output, out);
	}
	load_record();
	load_calls_mode();
	load_calls_timing();

	uint64_t v;
	if (get_uint("PROFSHIM_CPU_HZ", 1, 20000, "a rate in Hz from 1 to 20000", &v))
		ps_cfg.cpu_hz = (unsigned)v;
	if (get_uint("PROFSHIM_STACK_DEPTH", 1, 256, "a frame count from 1 to 256", &v))
		ps_cfg.stack_depth = (unsigned)v;
	if (get_uint("PROFSHIM_BUFFER_KB", 256, 1024 * 1024, "a size in KiB from 256 to 1048576",
		     &v))
		ps_cfg.buffer_bytes = v * 1024;
	if (get_uint("PROFSHIM_COMPRESS", 0, 19, "a zstd level from 1 to 19 (0 = no compression)",
		     &v))
		ps_cfg.compress_level = (unsigned)v;
	pw_zt_on = PW_ZT_RAW; /* compress in the background thread (zthread.c) */
	if (get_uint("PROFSHIM_COMPRESS_THREAD", 0, 2,
		     "1 (compress in a background thread), 0 (in the thread that writes) "
		     "or 2 (in a background thread made with pthread_create)",
		     &v))
		pw_zt_on = (int)v;
	if (get_uint("PROFSHIM_MEM_SAMPLE", 0, 1ull << 40,
		     "a byte count (0 = record every allocation)", &v))
		ps_cfg.mem_sample = v;
	if (get_uint("PROFSHIM_RSS_MS", 0, 60000, "milliseconds from 0 (off) to 60000", &v))
		ps_cfg.rss_ms = (unsigned)v;
	if (get_uint("PROFSHIM_CALLS_MIN_NS", 0, 1ull << 40, "nanoseconds", &v))
		ps_cfg.calls_min_ns = v;
	if (get_uint("PROFSHIM_CALLS_MAX_DEPTH", 1, 1u << 20, "a depth from 1 to 1048576", &v))
		ps_cfg.calls_max_depth = (unsigned)v;

	const char *start = getenv("PROFSHIM_START");
	if (start && *start) {
		if (!strcmp(start, "paused"))
			ps_cfg.start_paused = true;
		else if (strcmp(start, "on"))
			bad("PROFSHIM_START", start, "on or paused");
	}
	const char *quiet = getenv("PROFSHIM_QUIET");
	ps_cfg.quiet = quiet && !strcmp(quiet, "1");
}
