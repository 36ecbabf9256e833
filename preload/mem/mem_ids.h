/*
 * Full memory recording's ALLOC and FREE records (ALLOCATION IDS in
 * include/profshim_trace.h): blocks named by allocation number through the
 * live-block map (livemap.h), times rounded to 2^k ticks. Sampling mode
 * keeps the address records of mem.c.
 *
 * Inline: these run on every allocation call and free.
 */
#ifndef PS_MEM_IDS_H
#define PS_MEM_IDS_H

#include "livemap.h"
#include "shim.h"

/* k of the thread files' mem_time_shift (mem_ids.c). */
extern uint32_t ps_mem_time_shift __attribute__((visibility("hidden")));
/* Choose k from the clock (PROFSHIM_MEM_TIME=exact: 0), map the live-block
 * table and mark the thread files to come (full recording only). */
void ps_mem_ids_init(void);

/* dt of an ALLOC or FREE at `now`, in units of 2^k ticks; the thread's
 * clock advances by the rounded amount only, so rounding never drifts and
 * the next record of another kind keeps its exact time. */
static inline uint64_t ps_mem_dt(struct ps_thread *t, uint64_t now)
{
	uint64_t last = t->last_ticks;
	if (now <= last)
		return 0;
	unsigned k = ps_mem_time_shift;
	uint64_t q = (now - last) >> k;
	t->last_ticks = last + (q << k);
	return q;
}

/* A ref to the block at addr whose map id is `id` (0: not in the map, so
 * by address; addr 0: none). */
static inline uint8_t *ps_put_ref(struct ps_thread *t, uint8_t *w, uint64_t id, uintptr_t addr)
{
	if (!addr)
		return pst_put_varint(w, PST_REF_NONE);
	if (!id) {
		w = pst_put_varint(w, PST_REF_ADDR);
		return pst_put_varint(w, pw_delta(&t->out.last_addr, addr));
	}
	uint64_t seq = id >> PS_LIVEMAP_SEQ_SHIFT, n = id & PS_LIVEMAP_N_MASK;
	if (seq == t->out.hdr->thread_seq) {
		uint64_t d = pst_zigzag((int64_t)(n - t->out.last_ref_n));
		t->out.last_ref_n = n;
		return pst_put_varint(w, d << PST_REF_BITS | PST_REF_OWN);
	}
	w = pst_put_varint(w, PST_REF_OTHER);
	w = pst_put_varint(w, seq);
	return pst_put_varint(w, n);
}

/* The next number of t's file for a block at p, entered in the map; 0
 * when the map has no room (or the file's seq is too large for an id). */
static inline uint64_t ps_number_block(struct ps_thread *t, uintptr_t p)
{
	uint32_t seq = t->out.hdr->thread_seq;
	uint64_t n = t->out.alloc_n + 1;
	if (PS_UNLIKELY(seq >= PS_LIVEMAP_MAX_SEQ))
		return 0;
	if (!ps_livemap_insert(p, (uint64_t)seq << PS_LIVEMAP_SEQ_SHIFT | n))
		return 0;
	t->out.alloc_n = n;
	return n;
}

/* What an ALLOC record says about its block. */
struct ps_alloc_rec {
	unsigned fn;	 /* enum pst_alloc_fn */
	uint64_t size;	 /* requested */
	uintptr_t addr;	 /* the block, 0 = failed / freed by realloc(p, 0) */
	uint64_t stack;	 /* leaf STACK node */
	uintptr_t old;	 /* realloc: the block it was given, 0 = none */
	uint64_t old_id; /* its map id, 0 = by address */
	bool same;	 /* realloc resized old in place and it keeps its id */
};

/* Write the ALLOC record; false when there was no room (dropped, counted
 * by ps_reserve; the block was not numbered). */
static inline bool ps_write_alloc_id(struct ps_thread *t, const struct ps_alloc_rec *r,
				     uint64_t now)
{
	uint8_t *w = ps_reserve(t, 9 * PST_VARINT_MAX);
	if (!w)
		return false;
	unsigned bits = 0;
	if (!r->addr)
		bits = PST_A_FAILED;
	else if (r->same)
		bits = PST_A_SAME;
	else if (!ps_number_block(t, r->addr))
		bits = PST_A_HAS_ADDR;
	bool realloc = r->fn == PST_FN_REALLOC || r->fn == PST_FN_REALLOCARRAY;
	/* a record naming a block by address keeps its exact time (see
	 * ALLOCATION IDS: two blocks at one address are told apart by order) */
	bool by_addr = bits == PST_A_HAS_ADDR || (realloc && r->old && !r->old_id);
	w = pst_put_tag(w, by_addr ? ps_dt(t, now) : ps_mem_dt(t, now), PST_K_ALLOC);
	w = pst_put_varint(w, (uint64_t)r->fn << PST_A_FN_SHIFT | bits);
	w = pst_put_varint(w, r->size);
	w = pst_put_varint(w, pw_delta(&t->out.last_stack, r->stack));
	if (bits == PST_A_HAS_ADDR)
		w = pst_put_varint(w, pw_delta(&t->out.last_addr, r->addr));
	if (realloc)
		w = ps_put_ref(t, w, r->old_id, r->old);
	ps_commit(t, w);
	return true;
}

/* Write the FREE of the block at addr whose map id was `id`. */
static inline void ps_write_free_id(struct ps_thread *t, uintptr_t addr, uint64_t id, uint64_t now)
{
	uint8_t *w = ps_reserve(t, 4 * PST_VARINT_MAX);
	if (!w)
		return;
	w = pst_put_tag(w, id ? ps_mem_dt(t, now) : ps_dt(t, now), PST_K_FREE);
	w = ps_put_ref(t, w, id, addr);
	ps_commit(t, w);
}

#endif
