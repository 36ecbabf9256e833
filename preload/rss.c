/*
 * Resident set size over time, without a thread of its own: the allocation
 * hooks compare the event time they already have with the time the next
 * reading is due (one load and one compare per event); the first thread to
 * pass that time claims the reading with a compare-and-swap, reads
 * /proc/self/statm (open/read/close: async-signal-safe, so a timer-driven
 * caller may use it too) and writes an RSS record into its own trace.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "clock.h"
#include "mem.h"

uint64_t ps_rss_next = UINT64_MAX;
static uint64_t interval_ticks;
static long page_bytes;

void ps_rss_init(void)
{
	page_bytes = sysconf(_SC_PAGESIZE);
	if (page_bytes <= 0)
		page_bytes = 4096;
	if (!ps_cfg.rss_ms || !(ps_cfg.record & PST_REC_MEM)) {
		ps_rss_next = UINT64_MAX;
		return;
	}
	/* ticks per ms = ticks per second x1000 / 10^6 */
	interval_ticks = ps_ticks_per_sec_x1000 / 1000000u * ps_cfg.rss_ms;
	if (!interval_ticks)
		interval_ticks = 1;
	ps_rss_next = 0; /* a first reading at the first event */
}

/* Resident bytes from the second field of /proc/self/statm; 0 on error. */
static uint64_t read_rss(void)
{
	char buf[128];
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	const char *p = buf;
	while (*p && *p != ' ')
		p++;
	uint64_t pages = 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		pages = pages * 10 + (uint64_t)(*p - '0');
	return pages * (uint64_t)page_bytes;
}

void ps_rss_tick(struct ps_thread *t)
{
	uint64_t due = __atomic_load_n(&ps_rss_next, __ATOMIC_RELAXED);
	uint64_t now = ps_now();
	if (now < due || due == UINT64_MAX)
		return;
	if (!__atomic_compare_exchange_n(&ps_rss_next, &due, now + interval_ticks, 0,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return; /* another thread takes this reading */
	int saved = errno;
	uint64_t rss = read_rss();
	errno = saved;
	if (!rss)
		return;
	uint8_t *p = ps_reserve(t, 3 * PST_VARINT_MAX);
	if (!p)
		return;
	p = pst_put_tag(p, ps_dt(t, ps_now()), PST_K_RSS);
	p = pst_put_varint(p, rss);
	ps_commit(t, p);
}
