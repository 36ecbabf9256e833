/*
 * Window mapping off the program's thread. At a slide the writer maps the
 * next window itself (its pages are written already: grow_file), but
 * making its page table entries writable (MADV_POPULATE_WRITE) and
 * unmapping the window it leaves are kernel work the program's thread
 * need not wait for: they go to the compressor thread (zthread.c) as one
 * job. Populating never changes the file's bytes, so the program can
 * write into the window while the compressor populates it; a page it
 * reaches first it simply faults in itself.
 *
 * The one hazard is order: an address range must never be populated after
 * it was unmapped (the program could have mapped something else there).
 * So a window is unmapped only by the job that populated it being over:
 * - at the next slide, the previous job is taken back if the compressor
 *   has not started it (its old window is then unmapped here, its new one
 *   is not populated); if it is running, it is left to finish (orphaned)
 *   and the new job, which unmaps its window, is queued behind it: there
 *   is one compressor and it runs one job at a time;
 * - before the writer unmaps its current window (close, trim before exec,
 *   abandon), the job on it is taken back or waited for, bounded; past the
 *   bound the window stays mapped (never a populate after an unmap).
 * Where no compressor runs yet (the stream's first slides), in a forked
 * or vfork child, or with no free slot, the writer does both itself, as
 * before (if the previous job still runs on the old window, that window
 * stays mapped instead). A forked child's copies of the windows are
 * unmapped by the child itself (its copy of the slot table is reset); a
 * child made without the fork handlers (vfork, a raw fork) never waits
 * for a job. Everything here is async-signal-safe but the
 * bounded wait (a slide may run in a signal handler; close, trim and abandon do not).
 */
#define _GNU_SOURCE
#include "writer.h"

#include <sys/mman.h>
#include <unistd.h>

#include "zsys.h"

#define SETTLE_MS 2000u

/* The compressor's half: raw system calls only (zsys.h). */
int pw_z_map_job_run(const struct pw_zjob *j)
{
#ifdef MADV_POPULATE_WRITE
	if (j->map_new) /* older kernels say EINVAL: the pages fault in */
		zsys_madvise(j->map_new, j->map_new_len, MADV_POPULATE_WRITE);
#endif
	if (j->map_old)
		zsys_munmap(j->map_old, j->map_old_len);
	return 0;
}

static void forget_job(struct pw_zstate *z)
{
	z->map_job = 0;
	z->map_old = NULL;
	z->map_old_len = 0;
}

/* Done with the job on the current window: 1 when no job can touch it any
 * more, 0 when it still runs (orphaned if wait_ms passed). */
static int end_job(struct pw_stream *s, unsigned wait_ms)
{
	struct pw_zstate *z = &s->z;
	if (!z->map_job)
		return 1;
	int slot = z->map_job - 1, over = 1;
	struct pw_zjob j;
	if (pw_zt_cancel(slot, z->map_ticket, &j)) {
		if (j.map_old) /* not started: its unmap is done here */
			munmap(j.map_old, j.map_old_len);
	} else {
		int r = pw_zt_result(slot, z->map_ticket);
		if (r == PW_ZT_FAIL) {
			/* A map job never fails: the slot is not ours any more.
			 * A forked child (zthread.c reset its table): no
			 * compressor works on its copies, the old one goes. */
			if (z->map_old)
				munmap(z->map_old, z->map_old_len);
		} else if (r == PW_ZT_PENDING) {
			/* Running. Never wait in a child made without the fork
			 * handlers: a vfork child's compressor is its parent's,
			 * a raw fork child's copy of the slot never changes. */
			if ((uint32_t)getpid() != s->hdr->pid)
				wait_ms = 0;
			over = pw_zt_wait(slot, z->map_ticket, wait_ms) == PW_ZT_OK;
		}
	}
	forget_job(z);
	return over;
}

/* Hand the new window s->win (to populate) and old (to unmap) over: 1 when
 * posted. */
static int hand_over(struct pw_stream *s, void *old, size_t old_len)
{
	struct pw_zstate *z = &s->z;
	uint32_t ticket;
	if (!pw_zt_running(s->hdr->pid))
		return 0; /* made on first need by a run's hand-over, not here */
	int slot = pw_zt_claim(s->hdr->pid, &ticket);
	if (slot < 0)
		return 0;
	struct pw_zjob j = {.kind = PW_ZJ_MAP,
			    .fd = -1,
			    .map_new = s->win,
			    .map_new_len = s->win_len,
			    .map_old = old,
			    .map_old_len = old_len};
	pw_zt_post(slot, ticket, &j);
	z->map_job = slot + 1;
	z->map_ticket = ticket;
	z->map_old = old;
	z->map_old_len = old_len;
	return 1;
}

int pw_z_map(struct pw_stream *s, void *old, size_t old_len, int settle)
{
	if (settle)
		return end_job(s, SETTLE_MS);
	/* The previous job: taken back, or left to finish before this one. */
	int over = end_job(s, 0);
	if (hand_over(s, old, old_len))
		return 1;
	/* Else the writer populates and unmaps, as before; but if the
	 * previous job still runs on old (and no slot was free, or we are a
	 * vfork child), unmapping old here could come before its populate: it
	 * stays mapped (address space only, its pages are the file's) and
	 * only the new window is populated here. */
	if (over)
		return 0;
#ifdef MADV_POPULATE_WRITE
	madvise(s->win, s->win_len, MADV_POPULATE_WRITE);
#endif
	return 1;
}
