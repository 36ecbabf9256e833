/*
 * Set-up of allocation ids (mem_ids.h): the time quantum of memory events
 * and the live-block map.
 *
 * Why numbers and coarse times (measured on the Lua binary-trees trace at
 * depth 12, zstd level 1 over 256 KiB windows): with addresses, ALLOC and
 * FREE cost 7.9 bytes per call on disk, of which the addresses were 4.5
 * and the exact times 1.4. Numbered blocks with a free written as the
 * distance to the last number named, and times in units of 2^k ticks:
 * 2.0 bytes per call at k = 0, 0.97 at k = 4, 0.76 at k = 6, 0.35 at
 * k = 8. A microsecond is finer than any heap question a user asks (the
 * order of events within a thread is kept exactly).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "mem_ids.h"

uint32_t ps_mem_time_shift;

/* The largest k with 2^k ticks <= 1 us. */
static uint32_t shift_for_clock(void)
{
	ps_clock_settle(); /* the rate (a no-op once the process file has it) */
	uint64_t per_us = ps_ticks_per_sec_x1000 / 1000000000ull;
	uint32_t k = 0;
	while (k < 31 && (2ull << k) <= per_us)
		k++;
	return k;
}

void ps_mem_ids_init(void)
{
	const char *v = getenv("PROFSHIM_MEM_TIME");
	uint32_t k = shift_for_clock();
	if (v && !strcmp(v, "exact"))
		k = 0;
	else if (v && *v && strcmp(v, "us"))
		ps_log("PROFSHIM_MEM_TIME must be 'exact' or 'us'; using 'us'", NULL);
	/* Without the map every block is written by address, and addresses
	 * need exact times: a block freed by one thread and allocated again
	 * by another within one quantum could sort in the wrong order, and
	 * nothing tells the two blocks apart. */
	if (!ps_livemap_init())
		k = 0;
	ps_mem_time_shift = k;
	pw_thread_mem_time_shift = k;
	pw_thread_flags_extra |= PST_FLAG_ALLOC_IDS;
}
