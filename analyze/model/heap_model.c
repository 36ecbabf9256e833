/* The heap model: see heap_model.h. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heap_model.h"
#include "heap_sampled.h"

/* The weight the block was added to the sums with: the same value is
 * taken away at its free (a different rounding left the sums off:
 * negative leaks). 1 without sampling. */
static inline double block_weight(const struct heap_model *m, const struct heap_block *b);

/* --- live blocks (live_table.c) --- */

static struct heap_block *block_find(struct heap_model *m, uint64_t addr)
{
	return live_find(&m->live, addr);
}

/* The slot for a new block at addr (addr must not be live). */
static struct heap_block *block_insert(struct heap_model *m, uint64_t addr)
{
	return live_insert(&m->live, addr);
}

/* The slot for a new block at addr, or (*was_live) the live block there. */
static struct heap_block *block_claim(struct heap_model *m, uint64_t addr, bool *was_live)
{
	return live_claim(&m->live, addr, was_live);
}

static void block_remove(struct heap_model *m, struct heap_block *b)
{
	live_remove(&m->live, b);
}

/* --- sites --- */

static struct heap_site *site_at(const struct heap_model *m, uint32_t i)
{
	return pa_vec_at(&m->sites, i);
}

static uint32_t site_for_stack(struct heap_model *m, uint32_t stack)
{
	while (m->site_of.len <= stack)
		pa_vec_push(&m->site_of);
	uint32_t *slot = pa_vec_at(&m->site_of, stack);
	if (!*slot) {
		struct heap_site *site = pa_vec_push(&m->sites);
		site->stack = stack;
		site->peak_epoch = m->peak_epoch;
		*slot = (uint32_t)m->sites.len;
	}
	return *slot - 1;
}

/* Before a site's live bytes change: if a peak was set since the site last
 * changed, its live bytes then were its current ones. */
static void site_touch(struct heap_model *m, struct heap_site *site)
{
	if (site->peak_epoch != m->peak_epoch) {
		site->peak_bytes = site->live_bytes;
		site->peak_epoch = m->peak_epoch;
	}
}

/* --- time series --- */

static void series_push(struct pa_vec *v, uint64_t ticks, double bytes)
{
	struct heap_point *p = pa_vec_push(v);
	p->ticks = ticks;
	p->bytes = bytes;
}

/* Heap size over time, at most about two points per step: the highest
 * value in the step and the value at its end. */
static void series_note(struct heap_model *m, uint64_t ticks)
{
	if (ticks >= m->series_next) {
		if (m->series_max_ticks)
			series_push(&m->heap_series, m->series_max_ticks, m->series_max);
		m->series_next = ticks + m->series_step;
		m->series_max = -1;
		m->series_max_ticks = 0;
	}
	if (m->live_bytes > m->series_max) {
		m->series_max = m->live_bytes;
		m->series_max_ticks = ticks;
	}
}

/* --- events --- */

/* Weight of a sampled allocation of size bytes (1 without sampling). */
static double sample_weight(const struct heap_model *m, uint64_t size)
{
	if (m->sample_bytes <= 0)
		return 1.0;
	double p = -expm1(-(double)(size ? size : 1) / m->sample_bytes);
	return p > 0 ? 1.0 / p : 1.0;
}

static inline double block_weight(const struct heap_model *m, const struct heap_block *b)
{
	return (float)sample_weight(m, b->size);
}

static unsigned hist_bucket(uint64_t size)
{
	return size ? 64u - (unsigned)__builtin_clzll(size) : 0;
}

static uint64_t *last_alloc_of(struct heap_model *m, const struct pa_thread *t)
{
	while (m->last_alloc.len <= t->index)
		pa_vec_push(&m->last_alloc);
	return pa_vec_at(&m->last_alloc, t->index);
}

/* Remove a live block; counted as a free when `is_free`. */
static void release(struct heap_model *m, struct heap_block *b, const struct pa_event *ev,
		    bool is_free)
{
	struct heap_site *site = site_at(m, b->site);
	double w = block_weight(m, b), bytes = (double)b->size * w;
	site_touch(m, site);
	site->live_blocks -= w;
	site->live_bytes -= bytes;
	m->live_blocks -= w;
	m->live_bytes -= bytes;
	m->live_var_blocks -= w * (w - 1);
	m->live_var_bytes -= (double)b->size * bytes * (w - 1);
	if (m->usable) /* sampling mode's exact live bytes: the block's slack */
		heap_usable_release(m, b->addr, b->size);
	uint64_t *last = last_alloc_of(m, ev->thread);
	if (is_free)
		site->frees += w;
	if (is_free && m->estimated)
		m->frees += w;
	if (is_free && *last == b->addr) {
		m->temporary += w;
		site->temporary += w;
	}
	/* churn (findings): temporary, or freed soon after its allocation */
	if (is_free && (*last == b->addr || ev->ticks - b->ticks < m->short_lived_ticks))
		site->churn += w;
	if (*last == b->addr)
		*last = 0;
	block_remove(m, b);
}

/* A block's realloc chain ends (freed, or live at the end): charged to
 * the site of its last realloc. */
static void chain_end(struct heap_model *m, const struct heap_block *b)
{
	if (!b->chain)
		return;
	struct heap_site *site = site_at(m, b->site);
	if (b->chain > site->chain_max)
		site->chain_max = b->chain;
	if (b->chain >= HEAP_LONG_CHAIN)
		site->long_chains += block_weight(m, b);
}

/* What every ALLOC that creates a block adds, live or not: the site's
 * and the run's allocation counts and bytes, the size histogram, and a
 * realloc's place in its chain (moved: bytes realloc copied, 0 in place). */
static void count_allocation(struct heap_model *m, struct heap_site *site,
			     const struct pa_event *ev, double w, uint32_t chain, uint64_t moved)
{
	uint64_t size = ev->u.alloc.size;
	double bytes = (double)size * w;
	site_touch(m, site);
	if (site->allocs == 0)
		site->ticks = ev->ticks;
	site->allocs += w;
	site->bytes += bytes;
	if (ev->u.alloc.fn == PST_FN_CALLOC)
		site->calloc_bytes += bytes;
	m->alloc_bytes += bytes;
	unsigned k = hist_bucket(size);
	m->hist_count[k] += w;
	m->hist_bytes[k] += bytes;
	if (chain) {
		site->reallocs += w;
		site->realloc_moved_bytes += (double)moved * w;
	}
}

/* The ALLOC of a block whose free (or move by realloc) was merged before
 * it: counted as allocated and ended at once, never live (the peak is
 * not raised by a block that was gone). */
static void on_alloc_ended(struct heap_model *m, const struct pa_event *ev, uint32_t chain,
			   uint64_t moved, const struct heap_early_entry *e)
{
	struct heap_block b = {.addr = ev->u.alloc.addr,
			       .size = ev->u.alloc.size,
			       .ticks = ev->ticks,
			       .site = site_for_stack(m, ev->u.alloc.stack),
			       .chain = chain};
	struct heap_site *site = site_at(m, b.site);
	double w = block_weight(m, &b);
	count_allocation(m, site, ev, w, chain, moved);
	if (e->is_free) {
		site->frees += w;
		site->churn += w; /* freed within a microsecond */
		if (!e->counted)
			m->frees += w;
		chain_end(m, &b);
	}
	*last_alloc_of(m, ev->thread) = b.addr;
	series_note(m, ev->ticks);
}

static void on_alloc(struct heap_model *m, const struct pa_event *ev)
{
	uint64_t size = ev->u.alloc.size, addr = ev->u.alloc.addr, old = ev->u.alloc.old_addr;
	bool is_realloc = ev->u.alloc.fn == PST_FN_REALLOC || ev->u.alloc.fn == PST_FN_REALLOCARRAY;
	double w = sample_weight(m, size);
	m->allocs += w;
	uint32_t chain = 0;
	uint64_t moved = 0;
	if (is_realloc && old) {
		/* realloc(p, 0) that returned NULL freed p (glibc): that is a
		 * free of p; a move to a new block is not. */
		bool freed = !addr && size == 0;
		if (freed)
			m->frees += w;
		struct heap_block *b = block_find(m, old);
		if (b) {
			chain = b->chain + 1;
			moved = addr && addr != old ? b->size : 0;
			if (freed)
				chain_end(m, b);
			release(m, b, ev, freed);
		} else if (heap_early_numbered(old)) {
			heap_early_add(&m->early, old, freed, true); /* its ALLOC is to come */
		}
	}
	if (!addr) {
		if (!(is_realloc && old && size == 0)) /* realloc(p, 0) freed p */
			m->failed += w;
		*last_alloc_of(m, ev->thread) = 0;
		series_note(m, ev->ticks);
		return;
	}
	/* a numbered block another thread ended already (heap_early.h); not
	 * a realloc in place, whose block goes on */
	struct heap_early_entry ended;
	if (!(is_realloc && addr == old) && heap_early_take(&m->early, addr, &ended)) {
		on_alloc_ended(m, ev, chain, moved, &ended);
		return;
	}
	bool lost;
	struct heap_block *b = block_claim(m, addr, &lost);
	if (lost) { /* the free was lost (a race, or not recorded): replace */
		release(m, b, ev, false);
		b = block_insert(m, addr);
	}
	uint32_t si = site_for_stack(m, ev->u.alloc.stack);
	struct heap_site *site = site_at(m, si);
	double bytes = (double)size * w;
	count_allocation(m, site, ev, w, chain, moved);
	site->live_blocks += w;
	site->live_bytes += bytes;
	m->live_blocks += w;
	m->live_bytes += bytes;
	/* the estimate's variance (Horvitz-Thompson, estimated from the
	 * samples): size^2 (1 - p) / p^2 per sampled block; 0 unsampled */
	m->live_var_blocks += w * (w - 1);
	m->live_var_bytes += (double)size * bytes * (w - 1);
	b->size = size;
	b->ticks = ev->ticks;
	b->site = si;
	b->chain = chain;
	*last_alloc_of(m, ev->thread) = addr;
	if (!m->usable_mode && m->live_bytes > m->peak_bytes) {
		m->peak_bytes = m->live_bytes;
		m->peak_var_bytes = m->live_var_bytes;
		m->peak_ticks = ev->ticks;
		m->peak_epoch++;
	}
	series_note(m, ev->ticks);
}

static void on_free(struct heap_model *m, const struct pa_event *ev)
{
	/* sampling mode: only sampled blocks' frees come, each standing for
	 * its block's weight (release); exact counts come from COUNTERS */
	if (!m->estimated)
		m->frees += 1;
	struct heap_block *b = block_find(m, ev->u.free.addr);
	if (!b && heap_early_numbered(ev->u.free.addr)) { /* its ALLOC is to come */
		heap_early_add(&m->early, ev->u.free.addr, true, true);
		return;
	}
	if (!b) {
		m->unknown_frees++;
		return;
	}
	chain_end(m, b);
	release(m, b, ev, true);
	series_note(m, ev->ticks);
}

static void between_block(const struct heap_block *b, void *ctx)
{
	struct heap_model *m = ctx;
	if (b->ticks < m->between_from)
		return;
	struct heap_site *site = site_at(m, b->site);
	double w = block_weight(m, b);
	site->between_blocks += w;
	site->between_bytes += (double)b->size * w;
	m->between_blocks += w;
	m->between_bytes += (double)b->size * w;
}

static void between_snapshot(struct heap_model *m)
{
	live_for_each(&m->live, between_block, m);
}

static void on_mark(struct heap_model *m, const struct pa_event *ev)
{
	if (!m->o || !m->o->between[0] || m->between_done)
		return;
	const struct pa_marker *mk = pa_vec_at(&m->s->markers, ev->u.mark.index);
	if (!m->between_started && !strcmp(mk->name, m->o->between[0])) {
		m->between_started = true;
		m->between_from = ev->ticks;
	} else if (m->between_started && !strcmp(mk->name, m->o->between[1])) {
		m->between_done = true;
		m->between_to = ev->ticks;
		between_snapshot(m);
	}
}

static void on_rss(struct heap_model *m, const struct pa_event *ev)
{
	double rss = (double)ev->u.rss.bytes;
	series_push(&m->rss_series, ev->ticks, rss);
	if (rss > m->rss_peak) {
		m->rss_peak = rss;
		m->rss_peak_ticks = ev->ticks;
	}
}

/* --thread=TID: only that thread's allocations (and the frees of them,
 * from any thread); RSS and markers stay the process's. */
static bool other_thread(const struct heap_model *m, const struct pa_event *ev)
{
	return m->o && m->o->thread >= 0 && ev->thread && (long)ev->thread->tid != m->o->thread;
}

static void apply_event(struct heap_model *m, const struct pa_event *ev)
{
	switch (ev->kind) {
	case PA_EV_ALLOC:
		if (other_thread(m, ev))
			return;
		on_alloc(m, ev);
		break;
	case PA_EV_FREE:
		if (other_thread(m, ev) && !block_find(m, ev->u.free.addr)) {
			/* maybe the shown thread's block, its ALLOC still to come */
			if (heap_early_numbered(ev->u.free.addr))
				heap_early_add(&m->early, ev->u.free.addr, true, false);
			return;
		}
		on_free(m, ev);
		break;
	case PA_EV_RSS:
		on_rss(m, ev);
		break;
	case PA_EV_MARK:
		on_mark(m, ev);
		return;
	case PA_EV_MEM_USABLE:
		if (m->estimated && !(m->o && m->o->thread >= 0))
			heap_usable_event(m, ev);
		return;
	default:
		return;
	}
	if (!m->has_data)
		m->first_ticks = ev->ticks;
	m->has_data = true;
	m->last_ticks = ev->ticks;
}

/* --- reading ahead --- */

/* The waiting events, oldest first: before any other event (its order
 * against them matters: a marker's snapshot, an RSS point, usable bytes)
 * and at the end. */
void heap_model_flush(struct heap_model *m)
{
	while (m->ahead_len) {
		apply_event(m, &m->ahead[m->ahead_first]);
		m->ahead_first = (m->ahead_first + 1) % HEAP_AHEAD;
		m->ahead_len--;
	}
}

void heap_model_event(struct heap_model *m, const struct pa_event *ev)
{
	switch (ev->kind) {
	case PA_EV_ALLOC:
		live_prefetch(&m->live, ev->u.alloc.addr, false);
		if (ev->u.alloc.old_addr)
			live_prefetch(&m->live, ev->u.alloc.old_addr, true);
		break;
	case PA_EV_FREE:
		live_prefetch(&m->live, ev->u.free.addr, true);
		break;
	case PA_EV_RSS:
	case PA_EV_MARK:
	case PA_EV_MEM_USABLE:
		heap_model_flush(m);
		apply_event(m, ev);
		return;
	default: /* not the heap's */
		return;
	}
	if (m->ahead_len < HEAP_AHEAD) {
		m->ahead[(m->ahead_first + m->ahead_len++) % HEAP_AHEAD] = *ev;
		return;
	}
	apply_event(m, &m->ahead[m->ahead_first]);
	m->ahead[m->ahead_first] = *ev;
	m->ahead_first = (m->ahead_first + 1) % HEAP_AHEAD;
}

struct heap_model *heap_model_new(struct pa_session *s, const struct pa_options *o)
{
	struct heap_model *m = pa_xcalloc(1, sizeof(*m));
	m->s = s;
	m->o = o;
	m->sample_bytes = (double)s->mem_sample_bytes;
	m->estimated = s->mem_sample_bytes != 0;
	pa_vec_init(&m->sites, sizeof(struct heap_site));
	pa_vec_init(&m->site_of, sizeof(uint32_t));
	pa_vec_init(&m->last_alloc, sizeof(uint64_t));
	pa_vec_init(&m->heap_series, sizeof(struct heap_point));
	pa_vec_init(&m->rss_series, sizeof(struct heap_point));
	/* About 4000 steps over the run for the heap-size counter. */
	m->series_step = pa_session_duration_ticks(s) / 4000 + 1;
	double ns_per_tick = pa_ticks_to_ns(s, 1);
	m->short_lived_ticks = ns_per_tick > 0 ? (uint64_t)(HEAP_SHORT_LIVED_NS / ns_per_tick) : 0;
	m->series_max = -1;
	live_init(&m->live);
	return m;
}

bool heap_block_size(struct heap_model *m, uint64_t addr, uint64_t *size)
{
	const struct heap_block *b = block_find(m, addr);
	if (b)
		*size = b->size;
	return b != NULL;
}

/* Sums of weights added and taken away leave rounding dust: a figure
 * under half a unit is none (never a negative leak). */
static double settled(double v)
{
	return v < 0.5 ? 0 : v;
}

/* Sampling mode: what the shim counted exactly replaces the estimates,
 * and no estimate exceeds what it is part of (leaked <= allocated; a
 * site's share of a total can still be estimated above the exact
 * total, so the totals are the bounds). */
static void settle_estimates(struct heap_model *m)
{
	for (size_t i = 0; i < m->sites.len; i++) {
		struct heap_site *site = site_at(m, (uint32_t)i);
		site->live_blocks = settled(site->live_blocks);
		site->live_bytes = settled(site->live_bytes);
		site->peak_bytes = settled(site->peak_bytes);
	}
	m->live_blocks = settled(m->live_blocks);
	m->live_bytes = settled(m->live_bytes);
	m->live_var_blocks = settled(m->live_var_blocks);
	m->live_var_bytes = settled(m->live_var_bytes);
	if (!m->estimated)
		return;
	/* Temporary allocations need every call: the sampled "last
	 * allocation" is not the thread's last one. Zero, never a guess (the
	 * reports say "not estimable"). */
	m->temporary = 0;
	for (size_t i = 0; i < m->sites.len; i++)
		site_at(m, (uint32_t)i)->temporary = 0;
	const uint64_t *c = m->s->counters;
	if (m->o && m->o->thread >= 0) /* --thread: that thread's counts */
		for (size_t i = 0; i < m->s->threads.len; i++) {
			const struct pa_thread *t =
			    *(struct pa_thread **)pa_vec_at(&m->s->threads, i);
			if ((long)t->tid == m->o->thread)
				c = t->counters;
		}
	if (c[PST_C_ALLOCS])
		m->allocs = (double)c[PST_C_ALLOCS];
	if (c[PST_C_FREES] || c[PST_C_ALLOCS])
		m->frees = (double)c[PST_C_FREES];
	m->bytes_exact = c[PST_C_MEM_SAMPLE_BYTES] != 0;
	if (m->bytes_exact)
		m->alloc_bytes = (double)c[PST_C_MEM_SAMPLE_BYTES];
	m->counts_partial = !m->s->ended;
	if (!m->has_data && c[PST_C_ALLOCS]) {
		/* calls counted, none sampled: the figures are there, the
		 * sampled blocks are none (not "no allocation") */
		m->has_data = true;
		m->first_ticks = m->s->start_ticks;
		m->last_ticks = m->s->end_ticks;
	}
	heap_usable_finish(m);
	if (m->live_bytes > m->alloc_bytes)
		m->live_bytes = m->alloc_bytes;
	if (m->live_blocks > m->allocs)
		m->live_blocks = m->allocs;
	if (m->peak_bytes < m->live_bytes)
		m->peak_bytes = m->live_bytes;
	if (m->peak_bytes > m->alloc_bytes)
		m->peak_bytes = m->alloc_bytes;
}

/* The most frequent marker name (markers are sorted by time by now): a
 * repeated marker (one per request, per frame) is the unit leak growth is
 * counted in. */
static void pick_growth_marker(struct heap_model *m)
{
	struct name_count {
		const char *name;
		size_t n;
		uint64_t first, last;
	};
	const struct pa_vec *mk = &m->s->markers;
	struct pa_vec counts;
	struct pa_pairmap index; /* (hash of name, 0) -> count + 1 */
	pa_vec_init(&counts, sizeof(struct name_count));
	pa_pairmap_init(&index);
	for (size_t i = 0; i < mk->len; i++) {
		const struct pa_marker *a = pa_vec_at(mk, i);
		uint64_t h = 0xcbf29ce484222325ull;
		for (const char *c = a->name; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
		uint32_t k = pa_pairmap_get(&index, h, 0);
		if (!k) {
			struct name_count *nc = pa_vec_push(&counts);
			nc->name = a->name;
			nc->first = a->ticks;
			k = (uint32_t)counts.len;
			pa_pairmap_put(&index, h, 0, k);
		}
		struct name_count *nc = pa_vec_at(&counts, k - 1);
		nc->n++;
		nc->last = a->ticks;
	}
	for (size_t i = 0; i < counts.len; i++) {
		const struct name_count *nc = pa_vec_at(&counts, i);
		if (nc->n >= 3 && nc->n > m->growth_marks) {
			m->growth_marker = nc->name;
			m->growth_marks = nc->n;
			m->growth_from = nc->first;
			m->growth_to = nc->last;
		}
	}
	pa_vec_free(&counts);
	pa_pairmap_free(&index);
}

/* Blocks live at the end: their chains end, and their allocation times
 * tell whether a site's leak grew over the run. */
static void settle_live_block(const struct heap_block *b, void *ctx)
{
	struct heap_model *m = ctx;
	chain_end(m, b);
	struct heap_site *site = site_at(m, b->site);
	if (!site->live_first || b->ticks < site->live_first)
		site->live_first = b->ticks;
	if (b->ticks > site->live_last)
		site->live_last = b->ticks;
	if (m->growth_marks && b->ticks >= m->growth_from && b->ticks < m->growth_to)
		site->live_between_marks += (double)b->size * block_weight(m, b);
}

static void settle_live_blocks(struct heap_model *m)
{
	pick_growth_marker(m);
	live_for_each(&m->live, settle_live_block, m);
}

int heap_model_finish(struct heap_model *m, struct pa_error *err)
{
	heap_model_flush(m);
	/* frees of numbered blocks whose ALLOC never came (a lost record) */
	m->unknown_frees += heap_early_counted_left(&m->early);
	settle_live_blocks(m);
	for (size_t i = 0; i < m->sites.len; i++)
		site_touch(m, site_at(m, (uint32_t)i));
	settle_estimates(m);
	if (m->series_max_ticks)
		series_push(&m->heap_series, m->series_max_ticks, m->series_max);
	if (m->has_data)
		series_push(&m->heap_series, m->last_ticks, m->live_bytes);
	if (m->o && m->o->between[0] && !m->between_done) {
		snprintf(err->msg, sizeof(err->msg), "--between=%s,%s: %s", m->o->between[0],
			 m->o->between[1],
			 !m->between_started ? "the first marker never came"
					     : "the second marker never came after the first");
		return -1;
	}
	return 0;
}

void heap_model_free(struct heap_model *m)
{
	if (!m)
		return;
	pa_vec_free(&m->sites);
	pa_vec_free(&m->site_of);
	pa_vec_free(&m->last_alloc);
	pa_vec_free(&m->heap_series);
	pa_vec_free(&m->rss_series);
	live_free(&m->live);
	heap_early_free(&m->early);
	heap_usable_free(m);
	free(m);
}

double heap_site_value(const struct heap_model *m, const struct heap_site *site)
{
	if (m->o && m->o->between[0])
		return site->between_bytes;
	switch (m->o ? m->o->heap : PA_HEAP_ALLOCATED) {
	case PA_HEAP_LEAKED:
		return site->live_bytes;
	case PA_HEAP_PEAK:
		return site->peak_bytes;
	default:
		return site->bytes;
	}
}

static double sort_key(const struct heap_site *s, enum heap_sort by)
{
	switch (by) {
	case HEAP_BY_COUNT:
		return s->allocs;
	case HEAP_BY_PEAK:
		return s->peak_bytes;
	case HEAP_BY_LEAKED:
		return s->live_bytes;
	case HEAP_BY_BETWEEN:
		return s->between_bytes;
	default:
		return s->bytes;
	}
}

static enum heap_sort sort_by;

static int cmp_sites(const void *a, const void *b)
{
	const struct heap_site *x = *(const struct heap_site *const *)a;
	const struct heap_site *y = *(const struct heap_site *const *)b;
	double kx = sort_key(x, sort_by), ky = sort_key(y, sort_by);
	if (kx != ky)
		return kx < ky ? 1 : -1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

const struct heap_site **heap_sites_sorted(const struct heap_model *m, enum heap_sort by, size_t *n)
{
	const struct heap_site **v = pa_xcalloc(m->sites.len + 1, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *s = site_at(m, (uint32_t)i);
		/* Sites of zero-byte blocks (malloc(0), realloc(NULL, 0))
		 * still count by bytes and by leaks. */
		bool any = sort_key(s, by) > 0 || (by == HEAP_BY_BYTES && s->allocs > 0) ||
			   (by == HEAP_BY_LEAKED && s->live_blocks > 0);
		if (any)
			v[k++] = s;
	}
	sort_by = by;
	qsort(v, k, sizeof(*v), cmp_sites);
	*n = k;
	return v;
}
