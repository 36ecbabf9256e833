/*
 * Findings from the heap model: leaks (and leaks that grow over the run),
 * allocation churn, realloc growth chains and the sites that hold the peak.
 *
 * A site is named by its innermost frame that is the program's own code
 * (not malloc, not the C library's allocator internals, not the profiler):
 * the line that asked for the memory.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "heap_model.h"
#include "models.h"
#include "sample_model.h"
#include "symbols.h"

#define LEAK_MIN_BYTES (256.0 * 1024)
#define LEAK_STATIC_MIN_BLOCKS 16 /* one big block live at exit is a global, not a leak */
#define LEAK_GROW_MIN_BLOCKS 100
#define LEAK_GROW_SPAN 0.5     /* leaked blocks allocated over half the run or more */
#define LEAK_STATIC_WEIGHT 0.2 /* a leak that does not grow ranks lower */
#define CHURN_MIN_TEMPORARY 100000.0
#define CHURN_MIN_RATE 10000.0 /* temporary allocations per second */
#define ALLOC_PAIR_NS 40.0     /* a malloc and its free, typical glibc fast path */
#define REALLOC_MIN_CALLS 1000.0
#define REALLOC_CALL_NS 50.0
#define COPY_BYTES_PER_S 10e9
#define PEAK_MIN_BYTES (1024.0 * 1024)
#define PEAK_MIN_SHARE 0.25
#define PEAK_WEIGHT 0.5 /* holding memory is not wasting it: ranks below savings */

static double run_wall_s(const struct pa_models *pm)
{
	return pa_ticks_to_ns(pm->s, pa_session_duration_ticks(pm->s)) / 1e9;
}

/* The program's own malloc wrappers (xmalloc, Perl_safesysmalloc,
 * sqlite3Malloc, PyMem_Realloc ...): the site is their caller. */
static bool alloc_wrapper(const char *fn)
{
	return fn &&
	       (strcasestr(fn, "malloc") || strcasestr(fn, "calloc") || strcasestr(fn, "realloc"));
}

/* The site's frames into the finding (innermost first) and its place:
 * the innermost frame of the program's own. Returns false (nothing
 * pushed) when the site is the profiler's own or has no such frame. */
static bool site_where(const struct pa_models *pm, const struct heap_site *site, struct finding *f)
{
	if (!site->stack)
		return false;
	struct pa_vec frames;
	pa_vec_init(&frames, sizeof(const struct pa_frame *));
	int n = pa_stack_frames(pm, site->stack, false, site->ticks, &frames);
	const struct pa_frame *own = NULL, *fallback = NULL;
	bool shim = false;
	char buf[1024];
	for (int i = n - 1; i >= 0; i--) {
		const struct pa_frame *fr =
		    *(const struct pa_frame **)pa_vec_at(&frames, (size_t)i);
		/* The profiler's own allocations (start-up, thread set-up
		 * inside its pthread_create wrapper) are not the program's. */
		if (fr->module && strstr(fr->module, "libprofshim") && fr->function &&
		    !strcmp(fr->function, "ps_init"))
			shim = true;
		bool plumbing = finding_frame_is_plumbing(fr->function, fr->module);
		if (!fallback && !plumbing)
			fallback = fr;
		/* an unnamed frame ("module+0xoff") may be a wrapper too */
		if (!own && !plumbing && !alloc_wrapper(fr->function) &&
		    !strstr(fr->function, "+0x"))
			own = fr;
		if (f) {
			if (fr->file && fr->line)
				snprintf(buf, sizeof(buf), "%s (%s:%d)", fr->function, fr->file,
					 fr->line);
			else
				snprintf(buf, sizeof(buf), "%s", fr->function);
			finding_stack_push(f, buf);
		}
	}
	if (!own)
		own = fallback;
	if (f && own)
		finding_where(f, own->function, own->file, own->line);
	pa_vec_free(&frames);
	return own && !shim;
}

/* Whether a site qualifies as the program's (checked before adding). */
static bool site_is_programs(const struct pa_models *pm, const struct heap_site *site)
{
	return site_where(pm, site, NULL);
}

static const struct heap_site *site_at(const struct heap_model *m, size_t i)
{
	return pa_vec_at(&m->sites, i);
}

static const char *where_name(const struct finding *f)
{
	return f->function ? f->function : "??";
}

/* Growth per occurrence of the run's repeated marker (one per request,
 * per frame): the bytes still live at exit that were allocated between
 * its first and last occurrence, per interval. */
static void growth_per_marker(const struct heap_model *m, const struct heap_site *s,
			      struct finding *f)
{
	if (m->growth_marks < 3 || s->live_between_marks <= 0)
		return;
	double per = s->live_between_marks / (double)(m->growth_marks - 1);
	char b[32];
	char *old = f->summary;
	if (asprintf(&f->summary, "%s; %s per '%s' marker", old, finding_bytes(per, b, sizeof(b)),
		     m->growth_marker) < 0)
		f->summary = NULL;
	else
		free(old);
	if (!f->summary)
		f->summary = old;
	finding_count(f, "growth_bytes_per_marker", per);
}

void findings_leaks(const struct pa_models *pm, struct findings *out)
{
	const struct heap_model *m = pm->heap;
	if (!m || !m->has_data || m->peak_bytes <= 0)
		return;
	uint64_t run = pa_session_duration_ticks(pm->s);
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *s = site_at(m, i);
		double span_ticks =
		    s->live_last > s->live_first ? (double)(s->live_last - s->live_first) : 0;
		bool grows = s->live_blocks >= LEAK_GROW_MIN_BLOCKS && run &&
			     span_ticks >= LEAK_GROW_SPAN * (double)run &&
			     s->live_bytes >= LEAK_MIN_BYTES && s->frees > 0;
		/* Live at exit and never freed anywhere is how arenas, caches,
		 * garbage-collected heaps and globals look (perl, python and
		 * gcc do not free at exit; gcc's and as's sites grow all
		 * through the run): a leak needs a site whose blocks are freed
		 * otherwise, so the ones left are the forgotten ones. A cache
		 * that never frees is missed: conservative on purpose. */
		bool big = s->live_bytes >= LEAK_MIN_BYTES &&
			   s->live_blocks >= LEAK_STATIC_MIN_BLOCKS && s->frees > 0;
		if ((!big && !grows) || !site_is_programs(pm, s))
			continue;
		double share = s->live_bytes / m->peak_bytes;
		struct finding *f =
		    finding_add(out, "leak", grows ? share : LEAK_STATIC_WEIGHT * share);
		char b[32], r[32];
		double span_s = pa_ticks_to_ns(pm->s, 1) * span_ticks / 1e9;
		finding_impact(f, s->live_bytes, "bytes", 100 * share,
			       "%s live at exit (%.1f%% of the peak heap)",
			       finding_bytes(s->live_bytes, b, sizeof(b)), 100 * share);
		site_where(pm, s, f);
		if (grows) {
			double per_min = span_s > 0 ? s->live_bytes / span_s * 60 : 0;
			finding_summary(f,
					"%s leaks %.0f blocks that were allocated all through the "
					"run: grows %s per minute",
					where_name(f), s->live_blocks,
					finding_bytes(per_min, r, sizeof(r)));
			finding_count(f, "growth_bytes_per_minute", per_min);
			growth_per_marker(m, s, f);
		} else {
			finding_summary(f, "%s leaves %.0f blocks (%s) live at exit", where_name(f),
					s->live_blocks, b);
		}
		finding_count(f, "leaked_bytes", s->live_bytes);
		finding_count(f, "leaked_blocks", s->live_blocks);
		finding_count(f, "allocations", s->allocs);
		finding_count(f, "frees", s->frees);
		finding_recommend(f,
				  grows ? "Blocks from this site are never freed and keep "
					  "coming: find the owner that drops them (a missing "
					  "free on an error or early-return path, a cache without "
					  "eviction)."
					: "Free these blocks when their owner is done (or at "
					  "exit if a leak checker should stay quiet); if they live "
					  "for the whole run on purpose, this is harmless.");
	}
}

void findings_churn(const struct pa_models *pm, struct findings *out)
{
	const struct heap_model *m = pm->heap;
	double wall = run_wall_s(pm);
	if (!m || !m->has_data || wall <= 0)
		return;
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *s = site_at(m, i);
		double rate = s->churn / wall;
		if (s->churn < CHURN_MIN_TEMPORARY || rate < CHURN_MIN_RATE ||
		    !site_is_programs(pm, s))
			continue;
		double saved = s->churn * ALLOC_PAIR_NS / 1e9;
		char sec[32];
		struct finding *f = finding_add(out, "allocation_churn", saved / wall);
		finding_impact(f, saved, "cpu_seconds", 100 * saved / wall,
			       "about %s of allocator time (%.0f ns per malloc and free, "
			       "estimated)",
			       finding_seconds(saved, sec, sizeof(sec)), ALLOC_PAIR_NS);
		site_where(pm, s, f);
		finding_summary(f,
				"%s makes %.0f short-lived allocations (freed before the next "
				"allocation or within 1 ms), %.0f per second",
				where_name(f), s->churn, rate);
		finding_count(f, "short_lived_allocations", s->churn);
		finding_count(f, "temporary_allocations", s->temporary);
		finding_count(f, "per_second", rate);
		finding_count(f, "allocations", s->allocs);
		finding_count(f, "bytes", s->bytes);
		finding_recommend(f, "Reuse one buffer across iterations (allocate it once "
				     "outside the loop), keep small objects on the stack, or "
				     "take them from a pool.");
	}
}

void findings_realloc_chains(const struct pa_models *pm, struct findings *out)
{
	const struct heap_model *m = pm->heap;
	double wall = run_wall_s(pm);
	if (!m || !m->has_data || wall <= 0)
		return;
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *s = site_at(m, i);
		if (s->reallocs < REALLOC_MIN_CALLS || s->long_chains < 1 ||
		    !site_is_programs(pm, s))
			continue;
		/* Reserving up front leaves one allocation per chain. */
		double saved_calls = s->reallocs - s->long_chains;
		double saved =
		    saved_calls * REALLOC_CALL_NS / 1e9 + s->realloc_moved_bytes / COPY_BYTES_PER_S;
		char sec[32], b[32];
		struct finding *f = finding_add(out, "realloc_chain", saved / wall);
		finding_impact(f, saved, "cpu_seconds", 100 * saved / wall,
			       "about %s (%.0f realloc calls, %s copied; estimated)",
			       finding_seconds(saved, sec, sizeof(sec)), saved_calls,
			       finding_bytes(s->realloc_moved_bytes, b, sizeof(b)));
		site_where(pm, s, f);
		finding_summary(f,
				"%s grows blocks by realloc %.0f times; %.0f blocks went through "
				"%d or more reallocs (longest %u)",
				where_name(f), s->reallocs, s->long_chains, HEAP_LONG_CHAIN,
				s->chain_max);
		finding_count(f, "reallocs", s->reallocs);
		finding_count(f, "long_chains", s->long_chains);
		finding_count(f, "longest_chain", s->chain_max);
		finding_count(f, "moved_bytes", s->realloc_moved_bytes);
		finding_recommend(f, "Reserve the capacity up front when the final size is known, "
				     "or grow geometrically (double the capacity) instead of by a "
				     "fixed step.");
	}
}

void findings_peak_contributors(const struct pa_models *pm, struct findings *out)
{
	const struct heap_model *m = pm->heap;
	if (!m || !m->has_data || m->peak_bytes < PEAK_MIN_BYTES)
		return;
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *s = site_at(m, i);
		double share = s->peak_bytes / m->peak_bytes;
		if (share < PEAK_MIN_SHARE || !site_is_programs(pm, s))
			continue;
		char b[32], p[32];
		struct finding *f = finding_add(out, "peak_contributor", PEAK_WEIGHT * share);
		finding_impact(f, s->peak_bytes, "bytes", 100 * share,
			       "up to %s of the peak heap (%.1f%% of %s)",
			       finding_bytes(s->peak_bytes, b, sizeof(b)), 100 * share,
			       finding_bytes(m->peak_bytes, p, sizeof(p)));
		site_where(pm, s, f);
		finding_summary(f, "%s holds %s (%.1f%%) of the heap at its peak", where_name(f), b,
				100 * share);
		finding_count(f, "peak_bytes", s->peak_bytes);
		finding_count(f, "peak_share_pct", 100 * share);
		finding_count(f, "allocations", s->allocs);
		finding_count(f, "bytes", s->bytes);
		finding_recommend(f, "To lower the peak, free these blocks earlier, process the "
				     "data in pieces (streaming) instead of all at once, or use a "
				     "smaller representation.");
	}
}

/* calloc clearing large blocks, seen from the heap: the bytes a site asked
 * of calloc, confirmed by CPU samples inside calloc (the shim drops and
 * counts samples that land in its hooks, where calloc's memset runs; a
 * sampler that keeps them has calloc on their stacks). Without CPU
 * samples there is no clear evidence: no finding. */
#define CALLOC_MIN_BYTES (64.0 * 1024 * 1024)
#define CALLOC_MIN_BLOCK (64.0 * 1024)
#define CLEAR_BYTES_PER_S 50e9 /* fast: the estimate is a lower bound */
#define CALLOC_MIN_SHARE 0.05

void findings_calloc_heap(const struct pa_models *pm, struct findings *out, double sampled_s)
{
	const struct heap_model *m = pm->heap;
	const struct cpu_model *cpu = pm->cpu;
	if (!m || !m->has_data || !cpu || !cpu->period_s)
		return;
	/* Samples in calloc: dropped inside the shim's hooks (counted), or
	 * kept with calloc on their stack, whichever the sampler did. */
	double dropped_s = (double)pm->s->counters[PST_C_DROP_SAMPLE_BUSY] * cpu->period_s;
	double hooks_s = dropped_s > sampled_s ? dropped_s : sampled_s;
	double cpu_s = (double)cpu->weight * cpu->period_s + dropped_s;
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *s = site_at(m, i);
		if (s->calloc_bytes < CALLOC_MIN_BYTES || s->allocs <= 0 ||
		    s->calloc_bytes / s->allocs < CALLOC_MIN_BLOCK)
			continue;
		double est = s->calloc_bytes / CLEAR_BYTES_PER_S;
		/* memset runs faster than CLEAR_BYTES_PER_S in cache: the
		 * samples in the hooks may be well below the estimate */
		if (est < CALLOC_MIN_SHARE * cpu_s || hooks_s < 0.2 * est ||
		    !site_is_programs(pm, s))
			continue;
		double saved = est < hooks_s ? est : hooks_s;
		char sec[32], b[32];
		struct finding *f = finding_add(out, "calloc_zeroing", saved / cpu_s);
		finding_impact(f, saved, "cpu_seconds", 100 * saved / cpu_s,
			       "about %s of CPU (%.1f%% of the run) clearing memory in calloc",
			       finding_seconds(saved, sec, sizeof(sec)), 100 * saved / cpu_s);
		site_where(pm, s, f);
		finding_summary(
		    f,
		    "%s asks calloc for %s in blocks of %s on average; %s of CPU samples "
		    "fell inside the allocator",
		    where_name(f), finding_bytes(s->calloc_bytes, b, sizeof(b)),
		    finding_bytes(s->calloc_bytes / s->allocs, sec, sizeof(sec)),
		    finding_seconds(hooks_s, (char[32]){0}, 32));
		finding_count(f, "calloc_bytes", s->calloc_bytes);
		finding_count(f, "allocations", s->allocs);
		finding_count(f, "cpu_seconds_in_allocator", hooks_s);
		finding_recommend(f, "If the block is overwritten before it is read, allocate it "
				     "with malloc instead of calloc; if it is large and "
				     "short-lived, keep and reuse one buffer.");
	}
}
