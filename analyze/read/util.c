/* Small helpers of profanalyze: growable arrays, checked allocation, warnings. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

static void out_of_memory(size_t n)
{
	fprintf(stderr, "profanalyze: out of memory (allocating %zu bytes)\n", n);
	exit(3);
}

void *pa_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *pa_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *pa_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *pa_xstrdup(const char *s)
{
	return pa_xstrndup(s, strlen(s));
}

char *pa_xstrndup(const char *s, size_t n)
{
	char *p = pa_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void pa_vec_init(struct pa_vec *v, size_t item_size)
{
	memset(v, 0, sizeof(*v));
	v->item = item_size;
}

void *pa_vec_push(struct pa_vec *v)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		v->items = pa_xrealloc(v->items, cap * v->item);
		v->cap = cap;
	}
	void *p = (char *)v->items + v->len * v->item;
	memset(p, 0, v->item);
	v->len++;
	return p;
}

void pa_vec_free(struct pa_vec *v)
{
	free(v->items);
	v->items = NULL;
	v->len = v->cap = 0;
}

bool pa_data_damaged;

int pa_fail_at(struct pa_error *err, const char *path, size_t off, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err->msg, sizeof(err->msg), "%s: offset %zu: %s", path, off, what);
	return -1;
}

void pa_warn(struct pa_session *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* The same warning once only. */
	for (size_t i = 0; i < s->warnings.len; i++)
		if (!strcmp(*(char **)pa_vec_at(&s->warnings, i), buf))
			return;
	*(char **)pa_vec_push(&s->warnings) = pa_xstrdup(buf);
}

static inline size_t pair_hash(uint64_t a, uint64_t b)
{
	uint64_t h =
	    a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h ^ (h >> 29));
}

void pa_pairmap_init(struct pa_pairmap *m)
{
	memset(m, 0, sizeof(*m));
}

uint32_t pa_pairmap_get(const struct pa_pairmap *m, uint64_t k1, uint64_t k2)
{
	if (!m->cap)
		return 0;
	for (size_t i = pair_hash(k1, k2) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->val[i])
			return 0;
		if (m->k1[i] == k1 && m->k2[i] == k2)
			return m->val[i];
	}
}

static void pairmap_insert(struct pa_pairmap *m, uint64_t k1, uint64_t k2, uint32_t val)
{
	size_t i = pair_hash(k1, k2) & (m->cap - 1);
	while (m->val[i] && !(m->k1[i] == k1 && m->k2[i] == k2))
		i = (i + 1) & (m->cap - 1);
	if (!m->val[i])
		m->len++;
	m->k1[i] = k1;
	m->k2[i] = k2;
	m->val[i] = val;
}

void pa_pairmap_put(struct pa_pairmap *m, uint64_t k1, uint64_t k2, uint32_t val)
{
	if ((m->len + 1) * 4 >= m->cap * 3) {
		struct pa_pairmap old = *m;
		m->cap = old.cap ? old.cap * 2 : 1024;
		m->len = 0;
		m->k1 = pa_xcalloc(m->cap, sizeof(uint64_t));
		m->k2 = pa_xcalloc(m->cap, sizeof(uint64_t));
		m->val = pa_xcalloc(m->cap, sizeof(uint32_t));
		for (size_t i = 0; i < old.cap; i++)
			if (old.val[i])
				pairmap_insert(m, old.k1[i], old.k2[i], old.val[i]);
		pa_pairmap_free(&old);
	}
	pairmap_insert(m, k1, k2, val);
}

void pa_pairmap_free(struct pa_pairmap *m)
{
	free(m->k1);
	free(m->k2);
	free(m->val);
	memset(m, 0, sizeof(*m));
}
