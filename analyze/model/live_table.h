/*
 * The heap model's live blocks, by key. The reader hands the heap model
 * one of two kinds of 64-bit key per block:
 *   - a real address (bit 63 clear): kept in an open-addressing hash
 *     whose slots follow the heap's layout (neighbouring granules in
 *     neighbouring slots), with a switch to a scattering hash when an
 *     address pattern piles up;
 *   - a synthetic key LIVE_SYNTHETIC | thread_seq << 40 | n, n = 1, 2, 3,
 *     ... numbering one thread's allocations in order: kept in a window
 *     per thread, pages of LIVE_PAGE blocks indexed by n, so allocations
 *     fill a page in order and frees (which come in a similar order) walk
 *     it, where a hash costs a cache and a TLB miss per event.
 * A page is given back when its last block goes; a sweep moves the blocks
 * of sparse pages (a few long-lived blocks among many freed) into the
 * hash, so the pages never hold much more than the live blocks need.
 * Lookups of a synthetic key try its page, then the hash.
 */
#ifndef PA_LIVE_TABLE_H
#define PA_LIVE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

#define LIVE_SYNTHETIC (1ull << 63)
#define LIVE_SEQ_SHIFT 40
#define LIVE_SEQ_MASK ((1ull << 23) - 1)
#define LIVE_N_MASK ((1ull << LIVE_SEQ_SHIFT) - 1)

#define LIVE_PAGE_BITS 8 /* 256 blocks, 8 KiB a page */
#define LIVE_PAGE (1u << LIVE_PAGE_BITS)

/* A live block: 32 bytes, two to a cache line. Its sampling weight is not
 * kept: it is a function of the size (heap_model.c). */
struct heap_block {
	uint64_t addr; /* the key (address or synthetic); 0 = empty slot */
	uint64_t size;
	uint64_t ticks;
	uint32_t site;
	uint32_t chain; /* reallocs this block went through */
};

struct live_window; /* live_table.c */

struct live_table {
	/* the hash: address keys, and synthetic keys of swept pages */
	struct heap_block *slots;
	size_t cap, len;
	unsigned cap_bits;
	bool scatter;	       /* scattering hash (switched to once) */
	uint32_t finds;	       /* searches since the last probe check */
	uint64_t probes;       /* slots past the first, likewise */
	size_t hash_synthetic; /* synthetic keys in the hash */
	/* synthetic keys: one window per thread seq */
	struct live_window **windows;
	size_t n_windows;
	struct pa_pairmap window_of; /* (thread seq, 0) -> index + 1 */
	struct live_window *last;    /* window of the last synthetic key */
	uint64_t last_seq;
	size_t pages, page_blocks; /* pages held, live blocks in them */
	size_t sweeps;		   /* sweeps of sparse pages so far */
};

void live_init(struct live_table *t);
void live_free(struct live_table *t);
/* The live block of key, or NULL. */
struct heap_block *live_find(struct live_table *t, uint64_t key);
/* The slot for a new block of key (key must not be live): its addr is set,
 * the rest is the caller's. The pointer holds until the next insert or
 * remove. */
struct heap_block *live_insert(struct live_table *t, uint64_t key);
/* live_find, and when key is not live live_insert, in one search:
 * *was_live tells which. */
struct heap_block *live_claim(struct live_table *t, uint64_t key, bool *was_live);
/* Remove a block live_find or live_insert returned. */
void live_remove(struct live_table *t, struct heap_block *b);
/* Start loading the memory a lookup of key will touch, and with removal
 * what removing its block will (a hint: the heap model asks a few events
 * ahead, so cache misses overlap). */
void live_prefetch(const struct live_table *t, uint64_t key, bool removal);
size_t live_count(const struct live_table *t);
/* Every live block: the hash in slot order, then the windows in the order
 * their threads first came, each in key order. */
typedef void (*live_fn)(const struct heap_block *b, void *ctx);
void live_for_each(const struct live_table *t, live_fn fn, void *ctx);

#endif
