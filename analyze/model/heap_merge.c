/*
 * Allocation sites merged by their symbolized stack. The session's stack
 * trie keys frames by pc, so one line of code reached from two threads (or
 * through two return addresses that resolve to the same line: a shadow
 * stack's frames, an unrolled loop) makes two sites; a user reads them as
 * one place in the code and expects one row with the summed figures, as
 * heaptrack shows. Every report (text, JSON, heapprofile, folded) reads the
 * merged sites; --thread keeps one thread's view (the model only took that
 * thread's allocations).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "heap_model.h"
#include "models.h"
#include "symbols.h"

struct site_key {
	char *key; /* frames, outermost first: "function\x1f" "file:line\x1e"... */
	uint32_t site;
};

static void key_append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = pa_xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

static char *site_key_of(const struct pa_models *pm, const struct heap_site *site,
			 struct pa_vec *frames)
{
	size_t len = 0, cap = 256;
	char *buf = pa_xcalloc(1, cap), line[32];
	int n = site->stack ? pa_stack_frames(pm, site->stack, false, site->ticks, frames) : 0;
	for (int i = 0; i < n; i++) {
		const struct pa_frame *f = *(const struct pa_frame **)pa_vec_at(frames, (size_t)i);
		key_append(&buf, &len, &cap, f->function ? f->function : "?");
		key_append(&buf, &len, &cap, "\x1f");
		key_append(&buf, &len, &cap, f->file ? f->file : "");
		snprintf(line, sizeof(line), ":%d\x1e", f->line);
		key_append(&buf, &len, &cap, line);
	}
	return buf;
}

static int cmp_keys(const void *a, const void *b)
{
	const struct site_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->site > y->site) - (x->site < y->site);
}

/* Add site `from`'s figures to `to`. */
static void site_add(struct heap_site *to, const struct heap_site *from)
{
	if (from->ticks && (!to->ticks || from->ticks < to->ticks))
		to->ticks = from->ticks;
	to->allocs += from->allocs;
	to->bytes += from->bytes;
	to->frees += from->frees;
	to->live_blocks += from->live_blocks;
	to->live_bytes += from->live_bytes;
	to->peak_bytes += from->peak_bytes;
	to->temporary += from->temporary;
	to->between_blocks += from->between_blocks;
	to->between_bytes += from->between_bytes;
	/* what the findings read: realloc chains, calloc, churn, leak growth */
	to->reallocs += from->reallocs;
	to->realloc_moved_bytes += from->realloc_moved_bytes;
	to->long_chains += from->long_chains;
	if (from->chain_max > to->chain_max)
		to->chain_max = from->chain_max;
	to->calloc_bytes += from->calloc_bytes;
	to->churn += from->churn;
	if (from->live_first && (!to->live_first || from->live_first < to->live_first))
		to->live_first = from->live_first;
	if (from->live_last > to->live_last)
		to->live_last = from->live_last;
	to->live_between_marks += from->live_between_marks;
}

void heap_model_merge_sites(struct heap_model *m, const struct pa_models *pm)
{
	size_t n = m->sites.len;
	if (n < 2 || !pm->syms)
		return;
	struct site_key *keys = pa_xcalloc(n, sizeof(*keys));
	struct pa_vec frames;
	pa_vec_init(&frames, sizeof(const struct pa_frame *));
	for (size_t i = 0; i < n; i++) {
		keys[i].key = site_key_of(pm, pa_vec_at(&m->sites, i), &frames);
		keys[i].site = (uint32_t)i;
	}
	pa_vec_free(&frames);
	qsort(keys, n, sizeof(*keys), cmp_keys);
	/* into[i]: the site i goes to (the first of its key, by index) */
	uint32_t *into = pa_xcalloc(n, sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		into[keys[i].site] = i && !strcmp(keys[i].key, keys[i - 1].key)
					 ? into[keys[i - 1].site]
					 : keys[i].site;
	/* compact in the original order: a merged site stays where its
	 * first member was */
	uint32_t *new_index = pa_xcalloc(n, sizeof(uint32_t));
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		struct heap_site *site = pa_vec_at(&m->sites, i);
		if (into[i] != i) {
			site_add(pa_vec_at(&m->sites, new_index[into[i]]), site);
			continue;
		}
		new_index[i] = (uint32_t)kept;
		if (kept != i)
			*(struct heap_site *)pa_vec_at(&m->sites, kept) = *site;
		kept++;
	}
	m->sites.len = kept;
	/* stack -> site now points at the merged site (blocks are not read
	 * after the model is finished) */
	for (size_t k = 0; k < m->site_of.len; k++) {
		uint32_t *slot = pa_vec_at(&m->site_of, k);
		if (*slot)
			*slot = new_index[into[*slot - 1]] + 1;
	}
	for (size_t i = 0; i < n; i++)
		free(keys[i].key);
	free(keys);
	free(into);
	free(new_index);
}
