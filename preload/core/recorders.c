/*
 * The recorder table and its walks (see recorder.h), plus the descriptors
 * of the recorders that predate the interface: thin adapters onto their
 * existing entry points, so their files stay as they are.
 */
#define _GNU_SOURCE
#include <stddef.h>

#include "livemap.h"
#include "mem.h"
#include "recorder.h"
#include "shim.h"

/* --- cpu (sampler.c) --- */

static void cpu_after_fork(int side)
{
	if (side != PS_FORK_CHILD_OFF) /* a child without the shim keeps no timers */
		ps_cpu_after_fork(side);
}

static void cpu_after_failed_exec(void)
{
	ps_cpu_after_fork(PS_FORK_PARENT); /* resume the timers exec paused */
}

const struct ps_recorder ps_recorder_cpu = {
    .name = "cpu",
    .start = ps_cpu_init,
    .thread_start = ps_cpu_thread_start,
    /* first at a thread's end: the timer goes before the state does */
    .thread_end = ps_cpu_thread_end,
    .before_fork = ps_cpu_before_fork,
    .after_fork = cpu_after_fork,
    .before_exec = ps_cpu_before_exec,
    .after_failed_exec = cpu_after_failed_exec,
    .flush_other = ps_cpu_account_live,
};

/* --- mem (mem.c), its sampler (memsample.c) and RSS timer (rss.c) --- */

/* Sampling mode: the bytes charged since the thread's last sample go to
 * its exact count before its counters are written (at its end, and
 * before exec). */
static void mem_settle(struct ps_thread *t)
{
	if (t == ps_self)
		ps_memsample_settle(t);
}

/* A forked child numbers its blocks from 1 again (new thread files): the
 * parent's entries must not name them (mem_ids.h). Early, before the
 * child can record anything (single-threaded there). */
static void mem_fork_child_early(struct ps_thread *self)
{
	(void)self;
	ps_livemap_clear();
	ps_memsample_fork_child();
}

const struct ps_recorder ps_recorder_mem = {
    .name = "mem",
    .init = ps_mem_init,
    .thread_end = mem_settle,
    .flush = mem_settle,
    .before_fork = ps_rss_before_fork,
    .fork_child_early = mem_fork_child_early,
    .after_fork = ps_mem_after_fork,
    .start = ps_mem_recording_changed,
    .recording_changed = ps_mem_recording_changed,
    .before_exec = ps_rss_before_exec,
    .after_failed_exec = ps_rss_after_failed_exec,
    .finish = ps_mem_finish,
};

/* --- calls (calls.c) --- */

/* The forking thread's calls state, between fork_child_early and
 * after_fork in the child (single-threaded there). */
static struct ps_calls_thread *calls_kept;

static void calls_fork_child_early(struct ps_thread *self)
{
	calls_kept = ps_calls_fork_child_take(self);
}

static void calls_after_fork(int side)
{
	if (side == PS_FORK_PARENT)
		return;
	struct ps_calls_thread *c = calls_kept;
	calls_kept = NULL;
	/* not recorded child: ps_self is NULL, the state goes back to the pool */
	ps_calls_fork_child_adopt(side == PS_FORK_CHILD ? ps_self : NULL, c);
}

const struct ps_recorder ps_recorder_calls = {
    .name = "calls",
    .thread_end = ps_calls_thread_end,
    .fork_child_early = calls_fork_child_early,
    .after_fork = calls_after_fork,
    .flush = ps_calls_flush,
    .flush_other = ps_calls_write_live,
};

/* --- the table --- */

const struct ps_recorder *const ps_recorders[] = {
    &ps_recorder_cpu, &ps_recorder_mem, &ps_recorder_calls, &ps_recorder_io, NULL,
};

#define NREC (sizeof(ps_recorders) / sizeof(ps_recorders[0]) - 1)

#define WALK(hook, ...)                                                                            \
	do {                                                                                       \
		for (size_t i_ = 0; i_ < NREC; i_++)                                               \
			if (ps_recorders[i_]->hook)                                                \
				ps_recorders[i_]->hook(__VA_ARGS__);                               \
	} while (0)
#define WALK_BACK(hook, ...)                                                                       \
	do {                                                                                       \
		for (size_t i_ = NREC; i_-- > 0;)                                                  \
			if (ps_recorders[i_]->hook)                                                \
				ps_recorders[i_]->hook(__VA_ARGS__);                               \
	} while (0)

void ps_recorders_before_files(void)
{
	WALK(before_files);
}
void ps_recorders_init(void)
{
	WALK(init);
}
void ps_recorders_start(void)
{
	WALK(start);
}
void ps_recorders_thread_start(struct ps_thread *t)
{
	WALK(thread_start, t);
}
void ps_recorders_thread_end(struct ps_thread *t)
{
	WALK(thread_end, t);
}
void ps_recorders_before_fork(void)
{
	WALK(before_fork);
}
void ps_recorders_fork_child_early(struct ps_thread *self)
{
	WALK(fork_child_early, self);
}
void ps_recorders_after_fork(int side)
{
	WALK_BACK(after_fork, side);
}
void ps_recorders_before_exec(void)
{
	WALK(before_exec);
}
void ps_recorders_after_failed_exec(void)
{
	WALK_BACK(after_failed_exec);
}
void ps_recorders_flush(struct ps_thread *t)
{
	WALK(flush, t);
}
void ps_recorders_flush_other(struct ps_thread *t)
{
	WALK(flush_other, t);
}
void ps_recorders_recording_changed(void)
{
	WALK(recording_changed);
}
void ps_recorders_finish(void)
{
	WALK(finish);
}
