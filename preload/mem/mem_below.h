/*
 * The allocator below the shim, as the hooks (mem.c) and the full
 * recording paths see it: its functions found with dlsym(RTLD_NEXT), the
 * bootstrap arena that serves dlsym's own allocations meanwhile, aligned
 * allocation built from what it has, and block sizes read from it.
 *
 * The globals are the memory recorder's own (hidden): the hooks read them
 * on every call, so they are declared hidden for a direct load.
 */
#ifndef PS_MEM_BELOW_H
#define PS_MEM_BELOW_H

#include <stdbool.h>
#include <stddef.h>

#include "shim.h"

#define PS_MEM_HIDDEN __attribute__((visibility("hidden")))

/* --- the allocator below --- */

struct real_alloc {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
};
extern struct real_alloc real PS_MEM_HIDDEN;
extern volatile int resolve_state PS_MEM_HIDDEN; /* 0 = no, 1 = resolving, 2 = done */
/* The allocator below is glibc's (see block_bytes). */
extern bool glibc_chunks PS_MEM_HIDDEN;

/* --- bootstrap arena for allocations made while resolving --- */

#define BOOT_BYTES (64 * 1024)
#define BOOT_ALIGN 16
extern char boot_arena[BOOT_BYTES] PS_MEM_HIDDEN;
/* A bootstrap block was ever handed out (sticky). While none was, no
 * pointer into the arena can reach free or realloc: the hooks then jump
 * straight to the allocator, with no arena check (mem.c, set_hot_hooks).
 * Read only once resolve_state is 2 (sequentially consistent with
 * boot_alloc's own check; see there). */
extern bool boot_handed_out PS_MEM_HIDDEN;

static inline bool is_boot(const void *p)
{
	return (const char *)p >= boot_arena && (const char *)p < boot_arena + BOOT_BYTES;
}

void *boot_alloc(size_t n, size_t align) PS_MEM_HIDDEN;
size_t boot_size(const void *p) PS_MEM_HIDDEN;
/* realloc of a bootstrap block: move it to the real allocator. */
void *boot_realloc(void *p, size_t n) PS_MEM_HIDDEN;

void resolve_real(void) PS_MEM_HIDDEN;
void *real_memalign(size_t align, size_t n) PS_MEM_HIDDEN;
size_t page_size(void) PS_MEM_HIDDEN;
void *pvalloc_fallback(size_t n) PS_MEM_HIDDEN;

static inline void ensure_real(void)
{
	if (PS_UNLIKELY(__atomic_load_n(&resolve_state, __ATOMIC_ACQUIRE) != 2))
		resolve_real();
}

/* Resolve the real functions if needed; true while dlsym runs (state 1),
 * when allocations must come from the arena. One load when resolved. */
static inline bool resolving(void)
{
	if (PS_LIKELY(__atomic_load_n(&resolve_state, __ATOMIC_ACQUIRE) == 2))
		return false;
	resolve_real();
	return __atomic_load_n(&resolve_state, __ATOMIC_ACQUIRE) == 1;
}

/* The API's live-bytes counter (profshim_get_counters) costs a
 * malloc_usable_size call per allocation and per free (7% of a recorded
 * run of an allocation-heavy program): it is kept only once the program
 * has asked for the counters (api.c sets ps_live_wanted). */
static inline size_t usable(void *p)
{
	if (PS_LIKELY(!__atomic_load_n(&ps_live_wanted, __ATOMIC_RELAXED)))
		return 0;
	return p && real.malloc_usable_size ? real.malloc_usable_size(p) : 0;
}

/* Sampling mode's exact live bytes count each block's size in the
 * allocator, read at every allocation and free. glibc's allocator keeps
 * it in the word before the block (the chunk size, with 3 flag bits): a
 * load, where malloc_usable_size is a call and a dozen instructions on
 * the hottest path. Counted alike at allocation and free, either measure
 * adds up; the reader only needs the slack share of the sampled blocks,
 * measured the same way. */
static inline size_t block_bytes(void *p)
{
	if (PS_LIKELY(glibc_chunks)) {
		if (!p)
			return 0;
		/* about malloc_usable_size's value: the chunk less its one-word
		 * header (an mmapped chunk has two: 8 bytes off in 128 KiB or
		 * more, the same at its allocation and free). The less slack,
		 * the less the reader has to estimate. */
		return (((const size_t *)p)[-1] & ~(size_t)7) - sizeof(size_t);
	}
	/* not usable(): that one counts only once the API asked for it */
	return p && real.malloc_usable_size ? real.malloc_usable_size(p) : 0;
}

#endif
