/*
 * Full memory recording's free and realloc (every block numbered,
 * mem_ids.h), past the hook's entry: the records, the live-block map and
 * the real call.
 *
 * The cost here is the live-block map's slot, a cache miss on most frees
 * (livemap.h), and the clock (rdtsc, ~20 ns here). Nothing earlier knows
 * the address (a prefetch at the hook's entry cost 16 instructions and
 * hid nothing measurable); the clock does not depend on the slot, so the
 * CPU reads it while the slot loads.
 */
#define _GNU_SOURCE
#include <errno.h>

#include "mem_full.h"
#include "mem_record.h"

void ps_mem_free_full(struct ps_thread *t, void *p)
{
	int saved = errno;
	/* out of the map before the block goes back (livemap.h) */
	uint64_t id = ps_livemap_take((uintptr_t)p);
	t->live_bytes -= (int64_t)usable(p);
	ps_write_free_id(t, (uintptr_t)p, id, ps_now());
	REAL_FREE(t, p);
	ps_leave(t);
	errno = saved;
}

void *ps_mem_realloc_full(struct ps_thread *t, void *p, size_t n, unsigned fn)
{
	size_t old_usable = p ? usable(p) : 0;
	/* p's id out of the map before the block may go (NULL: none) */
	uint64_t old_id = ps_livemap_take((uintptr_t)p);
	void *q = REAL_CALL(t, real.realloc(p, n));
	int e = errno;
	t->counters[PST_C_ALLOCS]++;
	/* p is gone unless the call failed (NULL result for a non-zero size). */
	bool old_gone = p && (q || n == 0);
	if (old_gone)
		t->live_bytes -= (int64_t)old_usable;
	t->live_bytes += (int64_t)usable(q);
	uint64_t now = note_realloc(t, fn, n, p, q, old_gone, old_id);
	if (now)
		rss_check(t, now);
	ps_leave(t);
	errno = e;
	return q;
}
