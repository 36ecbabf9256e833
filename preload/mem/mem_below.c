/*
 * The allocator below the shim (mem_below.h): resolving it, the bootstrap
 * arena, aligned allocation from what it has.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem_below.h"

struct real_alloc real;
volatile int resolve_state; /* 0 = no, 1 = resolving, 2 = done */
bool glibc_chunks;
bool boot_handed_out;
_Alignas(BOOT_ALIGN) char boot_arena[BOOT_BYTES];
/* --- bootstrap arena for allocations made while resolving --- */

static size_t boot_used;

/* The resolving ended between the caller's check and boot_alloc's: the
 * hooks may already jump straight to the allocator (boot_handed_out was
 * read false), so the block comes from the allocator, zeroed like the
 * arena's. */
static void *boot_alloc_late(size_t n, size_t align)
{
	if (align)
		return real_memalign(align, n ? n : 1);
	return real.calloc(1, n ? n : 1);
}

/* Bump allocation with the size kept in the 16 bytes before the block. */
void *boot_alloc(size_t n, size_t align)
{
	/* Flag first, then the state (both sequentially consistent), the
	 * reverse of set_hot_hooks (state 2 seen, then the flag): either
	 * the hooks see the flag and keep the arena check, or this sees
	 * state 2 and hands out no arena block. */
	__atomic_store_n(&boot_handed_out, true, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&resolve_state, __ATOMIC_SEQ_CST) == 2)
		return boot_alloc_late(n, align);
	if (align < BOOT_ALIGN)
		align = BOOT_ALIGN;
	size_t cur = __atomic_load_n(&boot_used, __ATOMIC_RELAXED);
	for (;;) {
		size_t start = (cur + BOOT_ALIGN + align - 1) & ~(align - 1);
		size_t end = start + ((n + BOOT_ALIGN - 1) & ~(size_t)(BOOT_ALIGN - 1));
		if (end > BOOT_BYTES || end < start)
			return NULL;
		if (__atomic_compare_exchange_n(&boot_used, &cur, end, 0, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			*(size_t *)(boot_arena + start - BOOT_ALIGN) = n;
			return boot_arena + start; /* static memory: zeroed */
		}
	}
}

size_t boot_size(const void *p)
{
	return *(const size_t *)((const char *)p - BOOT_ALIGN);
}

/* The shared object holding fn (an opaque key), or NULL. dladdr searches
 * the object's symbol table linearly (a tenth of a millisecond for ten
 * lookups in libc, at every start-up); _dl_find_object (glibc 2.35) is a
 * lookup in a sorted table of mappings. */
static const void *object_of(void *fn, bool fast)
{
	if (!fn)
		return NULL;
#if defined(DLFO_STRUCT_HAS_EH_DBASE)
	if (fast) {
		struct dl_find_object fo;
		return _dl_find_object(fn, &fo) == 0 ? (const void *)fo.dlfo_link_map : NULL;
	}
#endif
	(void)fast;
	Dl_info info;
	return dladdr(fn, &info) ? info.dli_fbase : NULL;
}

/* Same shared object as the allocator's malloc? */
static bool same_object(void *fn, const void *base, bool fast)
{
	return fn && object_of(fn, fast) == base;
}

#define RESOLVE(name) (__typeof__(real.name))dlsym(RTLD_NEXT, #name)

void resolve_real(void)
{
	int expect = 0;
	if (!__atomic_compare_exchange_n(&resolve_state, &expect, 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	struct real_alloc r;
	r.malloc = RESOLVE(malloc);
	r.free = RESOLVE(free);
	r.calloc = RESOLVE(calloc);
	r.realloc = RESOLVE(realloc);
	r.posix_memalign = RESOLVE(posix_memalign);
	r.aligned_alloc = RESOLVE(aligned_alloc);
	r.memalign = RESOLVE(memalign);
	r.valloc = RESOLVE(valloc);
	r.pvalloc = RESOLVE(pvalloc);
	r.malloc_usable_size = RESOLVE(malloc_usable_size);
	if (!r.malloc || !r.free || !r.calloc || !r.realloc) {
		ps_log("cannot find the allocator below the shim; aborting", NULL);
		abort();
	}
	bool fast = true; /* the loader's table is there once it has started */
	const void *base = object_of((void *)r.malloc, fast);
	if (!base) {
		fast = false;
		base = object_of((void *)r.malloc, fast);
	}
	/* Optional functions only from the same allocator as malloc. */
	if (!same_object((void *)r.posix_memalign, base, fast))
		r.posix_memalign = NULL;
	if (!same_object((void *)r.aligned_alloc, base, fast))
		r.aligned_alloc = NULL;
	if (!same_object((void *)r.memalign, base, fast))
		r.memalign = NULL;
	if (!same_object((void *)r.valloc, base, fast))
		r.valloc = NULL;
	if (!same_object((void *)r.pvalloc, base, fast))
		r.pvalloc = NULL;
	if (!same_object((void *)r.malloc_usable_size, base, fast))
		r.malloc_usable_size = NULL;
	glibc_chunks = base && base == object_of((void *)&getpid, fast);
	real = r;
	__atomic_store_n(&resolve_state, 2, __ATOMIC_SEQ_CST); /* boot_alloc */
}

/* --- aligned allocation built from what the allocator has --- */

void *real_memalign(size_t align, size_t n)
{
	if (real.memalign)
		return real.memalign(align, n);
	if (real.posix_memalign) {
		void *p = NULL;
		int rc = real.posix_memalign(&p, align, n);
		if (rc) {
			errno = rc;
			return NULL;
		}
		return p;
	}
	if (real.aligned_alloc)
		return real.aligned_alloc(align, (n + align - 1) & ~(align - 1));
	errno = ENOMEM;
	return NULL;
}

/* realloc of a bootstrap block: move it to the real allocator. */
void *boot_realloc(void *p, size_t n)
{
	void *q = real.malloc(n ? n : 1);
	if (q) {
		size_t old = boot_size(p);
		memcpy(q, p, old < n ? old : n);
	}
	return q;
}

size_t page_size(void)
{
	static size_t pg;
	if (!pg) {
		long v = sysconf(_SC_PAGESIZE);
		pg = v > 0 ? (size_t)v : 4096;
	}
	return pg;
}

void *pvalloc_fallback(size_t n)
{
	size_t pg = page_size();
	size_t rounded = (n + pg - 1) & ~(pg - 1);
	if (rounded < n) {
		errno = ENOMEM;
		return NULL;
	}
	return real_memalign(pg, rounded ? rounded : pg);
}
