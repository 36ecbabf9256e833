/*
 * Full memory recording's free (every block numbered, mem_ids.h): the
 * FREE record and the block back to the allocator.
 *
 * The cost here is the live-block map's slot, a cache miss on most frees
 * (livemap.h): the hook prefetches it on entry, and the clock is read
 * before the slot is needed, so the two wait at the same time.
 */
#define _GNU_SOURCE
#include <errno.h>

#include "mem_full.h"
#include "mem_record.h"

void ps_mem_free_full(struct ps_thread *t, void *p)
{
	int saved = errno;
	uint64_t now = ps_now();
	t->live_bytes -= (int64_t)usable(p);
	/* out of the map before the block goes back (livemap.h) */
	uint64_t id = ps_livemap_take((uintptr_t)p);
	ps_write_free_id(t, (uintptr_t)p, id, now);
	REAL_FREE(t, p);
	ps_leave(t);
	errno = saved;
}
