/*
 * The live-block map of full memory recording (ALLOCATION IDS in
 * include/profshim_trace.h): the address of every live block the shim
 * recorded -> its allocation id, so a FREE names its block by a small
 * number instead of a heap address (the address is what zstd cannot
 * squeeze: 2-4 bytes per call on disk).
 *
 * One table for the process, mmap'd once: no lock, no malloc and no
 * syscall per event. Each entry is written only by the thread that owns
 * the block (malloc returned it to that thread, or the program handed it
 * on, which orders the handover), so two threads never race on one key;
 * they only race to claim a free slot, which a CAS on the key settles.
 */
#ifndef PS_LIVEMAP_H
#define PS_LIVEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profshim_trace.h"

/* id = thread_seq << PS_LIVEMAP_SEQ_SHIFT | n (n = 1, 2, ... per thread
 * file); a thread_seq of 2^23 or more cannot be written in an id (the
 * reader's key, pst_block_key, has 23 bits for it). */
#define PS_LIVEMAP_SEQ_SHIFT PST_ID_N_BITS
#define PS_LIVEMAP_N_MASK ((1ull << PS_LIVEMAP_SEQ_SHIFT) - 1)
#define PS_LIVEMAP_MAX_SEQ (1u << PST_ID_SEQ_BITS)

/* Slot keys besides addresses. */
#define PS_LIVEMAP_EMPTY 0
#define PS_LIVEMAP_TOMB 1

/* The table (livemap.c); here for the inline take and prefetch. */
struct ps_livemap_slot {
	uint64_t key;	/* 0 = empty, 1 = tombstone, else a block address */
	uint64_t value; /* its id */
};
struct ps_livemap_table {
	struct ps_livemap_slot *slots; /* NULL: no map */
	size_t mask;
	unsigned bits;
	unsigned probes;
};
extern struct ps_livemap_table ps_livemap __attribute__((visibility("hidden")));

/* The home slot of addr: addr / 32 plus an offset per 2^(5 + bits)-byte
 * region (livemap.c, "Locality"). */
static inline size_t ps_livemap_home(uintptr_t addr)
{
	uint64_t region = (uint64_t)addr >> (5 + ps_livemap.bits);
	uint64_t offset = (region * 0x9e3779b97f4a7c15ull) >> 40;
	return (size_t)(((uint64_t)addr >> 5) + offset) & ps_livemap.mask;
}

/* Start loading addr's home slot into the cache: the slot is a cache miss
 * on most events (the table is half the size of the heap's small blocks),
 * and an allocation knows its block's address long before it inserts it
 * (the stack walk comes in between). */
static inline void ps_livemap_prefetch(uintptr_t addr)
{
	if (!ps_livemap.slots)
		return;
	const struct ps_livemap_slot *s = &ps_livemap.slots[ps_livemap_home(addr)];
#if defined(__x86_64__)
	/* GCC 12 dropped __builtin_prefetch here once inlined into the hooks */
	__asm__ volatile("prefetcht0 %0" : : "m"(*s));
#else
	__builtin_prefetch(s, 1, 3);
#endif
}

/* Map the table (slots: PROFSHIM_LIVEMAP_SLOTS, a power of two, default
 * 2^22; 0 = none). False when there is none: every block is then written
 * with its address. */
bool ps_livemap_init(void);
/* The table is there. */
bool ps_livemap_on(void);
/* addr -> id, in the first free slot from addr's home; false when none is
 * free near it (the block is then written with its address). A stale
 * entry for addr (a free the shim did not see) met before that slot is
 * overwritten; one further on stays behind the new entry (searches stop
 * at the first), which is why the hooks' plain paths forget their blocks. */
bool ps_livemap_insert(uintptr_t addr, uint64_t id);
/* The id of addr, removing it; 0 when addr is not in the map. Call it
 * before the block goes back to the allocator: afterwards another thread
 * may get the same address and insert it. */
/* Inline: it runs on every free, and the caller has work to overlap with
 * the slot's load. */
static inline uint64_t ps_livemap_take(uintptr_t addr)
{
	/* the table's fields read once: the acquire loads below would make
	 * the compiler read them again at every probe */
	struct ps_livemap_slot *slots = ps_livemap.slots;
	if (!slots || addr <= PS_LIVEMAP_TOMB)
		return 0;
	size_t mask = ps_livemap.mask;
	unsigned probes = ps_livemap.probes;
	size_t i = ps_livemap_home(addr);
	for (unsigned k = 0; k < probes; k++, i = (i + 1) & mask) {
		uint64_t key = __atomic_load_n(&slots[i].key, __ATOMIC_ACQUIRE);
		if (key == addr) {
			uint64_t id = __atomic_load_n(&slots[i].value, __ATOMIC_ACQUIRE);
			__atomic_store_n(&slots[i].key, PS_LIVEMAP_TOMB, __ATOMIC_RELEASE);
			return id;
		}
		if (key == PS_LIVEMAP_EMPTY)
			return 0;
	}
	return 0;
}
/* addr's block was freed or allocated on a hook's plain path (not
 * recorded): any entry for addr goes, so that no stale entry outlives it
 * (ps_livemap_insert stops at the first free slot). */
static inline void ps_livemap_forget(uintptr_t addr)
{
	if (ps_livemap.slots)
		(void)ps_livemap_take(addr);
}
/* A forked child: forget every entry (its thread files number their
 * blocks from 1 again). Single-threaded (in the child after fork). */
void ps_livemap_clear(void);

#endif
