/* Allocation ids: see alloc_ids.h. */
#include "alloc_ids.h"

#include <stdio.h>

#define CUT "malformed or cut-short record"

#define GET(v)                                                                                     \
	do {                                                                                       \
		if (pa_get_varint(c, v)) {                                                         \
			snprintf(why, PA_IDS_WHY, "%s", CUT);                                      \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

/* An address written as a delta (DELTA CODING): a user address, never a
 * block key. */
static int get_addr(struct pa_thread *t, struct pa_cursor *c, uint64_t *addr, char *why)
{
	uint64_t zz;
	GET(&zz);
	*addr = pa_undelta(&t->last_addr, zz);
	if (!*addr || *addr >> 63) {
		snprintf(why, PA_IDS_WHY, "bad block address");
		return -1;
	}
	return 0;
}

/* A key that is an address, not a numbered block: its record's dt is in
 * ticks, not rounded (ALLOCATION IDS). */
static bool by_address(uint64_t key)
{
	return key && !(key >> 63);
}

static int bad_ref(char *why)
{
	snprintf(why, PA_IDS_WHY, "bad block reference");
	return -1;
}

/* A ref (FREE, realloc's old block): its key, 0 = none. */
static int get_ref(struct pa_thread *t, struct pa_cursor *c, uint64_t *key, char *why)
{
	uint64_t ref, seq, n;
	GET(&ref);
	unsigned kind = (unsigned)(ref & ((1u << PST_REF_BITS) - 1));
	uint64_t rest = ref >> PST_REF_BITS;
	if (kind != PST_REF_OWN && rest)
		return bad_ref(why); /* unknown bits */
	switch (kind) {
	case PST_REF_NONE:
		*key = 0;
		return 0;
	case PST_REF_ADDR:
		return get_addr(t, c, key, why);
	case PST_REF_OTHER:
		GET(&seq);
		GET(&n);
		if (!seq || seq >> PST_ID_SEQ_BITS || !n || n >> PST_ID_N_BITS)
			return bad_ref(why);
		*key = pst_block_key(seq, n);
		return 0;
	default: /* PST_REF_OWN: a block this file numbered already */
		n = t->last_ref_n + (uint64_t)pst_unzigzag(rest);
		if (!n || n > t->alloc_n)
			return bad_ref(why);
		t->last_ref_n = n;
		*key = pst_block_key(t->seq, n);
		return 0;
	}
}

int pa_ids_alloc(struct pa_thread *t, struct pa_cursor *c, uint64_t q, struct pa_event *ev,
		 uint64_t *stack_local, char *why)
{
	uint64_t fn2, zz;
	GET(&fn2);
	GET(&ev->u.alloc.size);
	GET(&zz);
	*stack_local = pa_undelta(&t->last_stack, zz);
	uint64_t fn = fn2 >> PST_A_FN_SHIFT;
	unsigned bits = (unsigned)(fn2 & ((1u << PST_A_FN_SHIFT) - 1));
	bool realloc = fn == PST_FN_REALLOC || fn == PST_FN_REALLOCARRAY;
	if (fn >= PST_FN_COUNT) {
		snprintf(why, PA_IDS_WHY, "unknown allocation function %llu",
			 (unsigned long long)fn);
		return -1;
	}
	/* at most one of the bits; `same` only for a realloc */
	if ((bits & (bits - 1)) || (bits == PST_A_SAME && !realloc)) {
		snprintf(why, PA_IDS_WHY, "bad allocation flags");
		return -1;
	}
	ev->u.alloc.fn = (unsigned)fn;
	ev->u.alloc.addr = ev->u.alloc.old_addr = 0;
	if (bits == PST_A_HAS_ADDR && get_addr(t, c, &ev->u.alloc.addr, why))
		return -1;
	if (realloc && get_ref(t, c, &ev->u.alloc.old_addr, why))
		return -1;
	if (bits == PST_A_SAME) { /* resized in place: the same block */
		if (!ev->u.alloc.old_addr)
			return bad_ref(why);
		ev->u.alloc.addr = ev->u.alloc.old_addr;
	} else if (!bits) {
		if ((t->alloc_n + 1) >> PST_ID_N_BITS || t->seq >> PST_ID_SEQ_BITS) {
			snprintf(why, PA_IDS_WHY, "too many numbered blocks");
			return -1;
		}
		ev->u.alloc.addr = pst_block_key(t->seq, ++t->alloc_n);
	}
	t->now += by_address(ev->u.alloc.addr) || by_address(ev->u.alloc.old_addr)
		      ? q
		      : q << t->mem_shift;
	return 0;
}

int pa_ids_free(struct pa_thread *t, struct pa_cursor *c, uint64_t q, struct pa_event *ev,
		char *why)
{
	if (get_ref(t, c, &ev->u.free.addr, why))
		return -1;
	t->now += by_address(ev->u.free.addr) ? q : q << t->mem_shift;
	return ev->u.free.addr ? 0 : bad_ref(why);
}
