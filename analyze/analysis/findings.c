/* The findings registry and the helpers detectors share (findings.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "models.h"

const struct finding_detector pa_finding_detectors[] = {
    {"hot_function", "cpu", "a function with >= 10% of the CPU samples as its own (self) time",
     findings_hot_functions},
    {"hot_path", "cpu",
     "a function with >= 10% of the CPU in it and its callees, none of which is hot itself",
     findings_hot_paths},
    {"calloc_zeroing", "cpu",
     "calloc spends >= 5% of the CPU clearing memory (samples, or large calloc bytes confirmed by "
     "samples inside the allocator)",
     findings_calloc_zeroing},
    {"thread_imbalance", "cpu",
     "in a pool of >= 3 threads with one name and entry, one does >= 2x the average",
     findings_thread_imbalance},
    {"tiny_calls", "calls", ">= 1 million calls of a function averaging under 100 ns",
     findings_tiny_calls},
    {"tail_latency", "calls", "a function called >= 100 times whose p99 is >= 10x its p50",
     findings_tail_latency},
    {"tail_latency", "spans", "a span (profshim.h) ended >= 100 times whose p99 is >= 10x its p50",
     findings_span_tail_latency},
    {"leak", "mem",
     "a site that frees some blocks and leaves >= 256 KiB in >= 16 blocks live at exit (growing: "
     ">= 100 blocks allocated over half the run)",
     findings_leaks},
    {"allocation_churn", "mem",
     "a site with >= 100000 short-lived allocations (temporary, or freed within 1 ms) at >= 10000 "
     "per second",
     findings_churn},
    {"realloc_chain", "mem", "blocks reallocated >= 16 times by one site", findings_realloc_chains},
    {"peak_contributor", "mem", "a site holding >= 25% of a peak heap of >= 1 MiB",
     findings_peak_contributors},
    {"small_io", "io",
     ">= 1000 reads (or writes) that moved under 512 bytes each on average on one file or pipe",
     findings_small_io},
    {"reopened_file", "io", "one file opened >= 100 times", findings_reopened_files},
    {"fsync_storm", "io", ">= 100 fsync/fdatasync calls at >= 10 per second",
     findings_fsync_storms},
    {"slow_peer", "io",
     "an outgoing peer whose connects and replies (first byte after a send) take >= 20 ms each "
     "and >= 100 ms in all; DNS lookups of one host taking >= 100 ms in all, slow (>= 20 ms) "
     "or repeated (>= 10)",
     findings_slow_peers},
    {"chatty_network", "io",
     ">= 1000 sends under 512 bytes on average to one peer, half of them right after another "
     "send (batch), or >= 1000 round trips on a connection this process opened (pipeline)",
     findings_chatty_network},
    {"lock_contention", "io",
     "a lock contended >= 5 times, waited on >= 10 ms and >= 1% of all threads' time",
     findings_lock_contention},
    {"short_sleep_poll", "io",
     "a site with >= 100 sleeps or timed-out polls of <= 10 ms (most of its calls) at >= 10 "
     "per second",
     findings_short_sleeps},
    {NULL, NULL, NULL, NULL},
};

struct finding *finding_add(struct findings *out, const char *kind, double score)
{
	struct finding *f = pa_vec_push(&out->items);
	f->kind = kind;
	f->score = score < 0 ? 0 : score > 1 ? 1 : score;
	f->severity = f->score >= 0.25	 ? FINDING_HIGH
		      : f->score >= 0.05 ? FINDING_MEDIUM
					 : FINDING_LOW;
	pa_vec_init(&f->stack, sizeof(char *));
	return f;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		s = pa_xstrdup("");
	return s;
}

void finding_impact(struct finding *f, double value, const char *unit, double pct, const char *fmt,
		    ...)
{
	f->impact = value;
	f->impact_unit = unit;
	f->impact_pct = pct;
	va_list ap;
	va_start(ap, fmt);
	free(f->impact_text);
	f->impact_text = vformat(fmt, ap);
	va_end(ap);
}

void finding_where(struct finding *f, const char *function, const char *file, int line)
{
	free(f->function);
	free(f->file);
	f->function = function ? pa_xstrdup(function) : NULL;
	f->file = file && *file ? pa_xstrdup(file) : NULL;
	f->line = line;
}

void finding_summary(struct finding *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(f->summary);
	f->summary = vformat(fmt, ap);
	va_end(ap);
}

void finding_object(struct finding *f, const char *object)
{
	free(f->object);
	f->object = object ? pa_xstrdup(object) : NULL;
}

void finding_recommend(struct finding *f, const char *text)
{
	free(f->recommendation);
	f->recommendation = pa_xstrdup(text);
}

void finding_count(struct finding *f, const char *name, double value)
{
	if (f->ncounts < FINDING_MAX_COUNTS)
		f->counts[f->ncounts++] = (struct finding_count){name, value};
}

void finding_stack_push(struct finding *f, const char *frame)
{
	*(char **)pa_vec_push(&f->stack) = pa_xstrdup(frame);
}

const char *finding_bytes(double b, char *buf, size_t cap)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, cap, u ? "%.2f %s" : "%.0f %s", b, units[u]);
	return buf;
}

const char *finding_seconds(double s, char *buf, size_t cap)
{
	if (s >= 1)
		snprintf(buf, cap, "%.2f s", s);
	else if (s >= 1e-3)
		snprintf(buf, cap, "%.2f ms", s * 1e3);
	else if (s >= 1e-6)
		snprintf(buf, cap, "%.2f us", s * 1e6);
	else
		snprintf(buf, cap, "%.0f ns", s * 1e9);
	return buf;
}

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

bool finding_frame_is_plumbing(const char *fn, const char *module)
{
	if (module && strstr(module, "libprofshim"))
		return true;
	if (!fn)
		return true;
	static const char *const exact[] = {
	    "malloc",
	    "calloc",
	    "realloc",
	    "free",
	    "reallocarray",
	    "posix_memalign",
	    "aligned_alloc",
	    "memalign",
	    "valloc",
	    "pvalloc",
	    "operator new",
	    "operator new[]",
	    "start_thread",
	    "clone",
	    "clone3",
	    "_start",
	    "__libc_start_main",
	    "_dl_start_user",
	    "_dl_init",
	    "call_init",
	};
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (!strcmp(fn, exact[i]))
			return true;
	static const char *const prefix[] = {
	    "__libc_", "_int_", "__GI_", "operator new(", "operator new[](", "__cyg_profile_func_"};
	for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (has_prefix(fn, prefix[i]))
			return true;
	return false;
}

static int by_score(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->impact != y->impact)
		return x->impact < y->impact ? 1 : -1;
	return strcmp(x->kind, y->kind);
}

static void finding_free(struct finding *f)
{
	free(f->impact_text);
	free(f->function);
	free(f->file);
	free(f->summary);
	free(f->object);
	free(f->recommendation);
	for (size_t i = 0; i < f->stack.len; i++)
		free(*(char **)pa_vec_at(&f->stack, i));
	pa_vec_free(&f->stack);
}

void findings_run(const struct pa_models *pm, int cap, struct findings *out)
{
	memset(out, 0, sizeof(*out));
	pa_vec_init(&out->items, sizeof(struct finding));
	if (cap <= 0)
		return;
	for (const struct finding_detector *d = pa_finding_detectors; d->kind; d++)
		if (d->run)
			d->run(pm, out);
	out->total = out->items.len;
	if (out->items.len)
		qsort(out->items.items, out->items.len, sizeof(struct finding), by_score);
	while (out->items.len > (size_t)cap)
		finding_free(pa_vec_at(&out->items, --out->items.len));
}

void findings_free(struct findings *f)
{
	for (size_t i = 0; i < f->items.len; i++)
		finding_free(pa_vec_at(&f->items, i));
	pa_vec_free(&f->items);
}
