/*
 * Resident set size over time, without a thread of its own.
 *
 * A process-wide POSIX timer on the process's CPU clock
 * (CLOCK_PROCESS_CPUTIME_ID) sends a free real-time signal every
 * PROFSHIM_RSS_MS of CPU time; its handler reads /proc/self/statm
 * (open/read/close: async-signal-safe) and writes an RSS record into the
 * interrupted thread's own stream, at most once per PROFSHIM_RSS_MS of
 * wall time (several busy threads speed the CPU clock up).
 *
 * Why the CPU clock and not CLOCK_MONOTONIC: a wall-clock timer's signal
 * goes to whatever thread the kernel picks, often one asleep in
 * nanosleep, poll or select, which return EINTR whatever SA_RESTART says:
 * the program's sleep() would end early. A CPU-clock timer expires in the
 * tick of a thread that is running, and since Linux 6.3 the signal goes to
 * that thread. RSS only changes while the process runs, so nothing is
 * lost: a phase that touches pages without allocating is CPU time.
 *
 * When the interrupted thread has no state or is inside a hook (busy), the
 * handler leaves the reading to the next allocation (ps_rss_next = 0: the
 * allocation hooks compare their event time with it, one load and one
 * compare per event).
 *
 * Without the timer (no free signal, timer_create failed) the allocation
 * hooks alone take readings, every PROFSHIM_RSS_MS of event time.
 *
 * fork: the signal is blocked in the forking thread across fork (the
 * child does not inherit the timer; it makes its own). exec: the timer is
 * disarmed and a pending signal drained first (a real-time signal's
 * default action ends the new image); a failed exec re-arms it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "mem.h"
#include "sampler.h"

uint64_t ps_rss_next = UINT64_MAX;
static uint64_t interval_ticks;
static long page_bytes;

static int rss_sig; /* the timer's signal, 0 = no timer */
static timer_t rss_timer;
static pid_t timer_pid;	      /* process the timer belongs to */
static uint64_t last_reading; /* event time of the last reading */
static __thread sigset_t fork_mask PS_TLS;
static __thread int fork_blocked PS_TLS;

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

/* Read RSS and write the record into t, which the caller holds (busy). */
static void write_rss(struct ps_thread *t)
{
	int saved = errno;
	uint64_t rss = read_rss();
	errno = saved;
	if (!rss)
		return;
	uint8_t *p = ps_reserve(t, 3 * PST_VARINT_MAX);
	if (!p)
		return;
	uint64_t now = ps_now();
	__atomic_store_n(&last_reading, now, __ATOMIC_RELAXED);
	p = pst_put_tag(p, ps_dt(t, now), PST_K_RSS);
	p = pst_put_varint(p, rss);
	ps_commit(t, p);
}

/* From the allocation hooks, t entered: a reading is due. */
void ps_rss_tick(struct ps_thread *t)
{
	uint64_t due = __atomic_load_n(&ps_rss_next, __ATOMIC_RELAXED);
	uint64_t now = ps_now();
	if (now < due || due == UINT64_MAX)
		return;
	/* With the timer, the hooks only take readings it left to them. */
	uint64_t next = rss_sig ? UINT64_MAX : now + interval_ticks;
	if (!__atomic_compare_exchange_n(&ps_rss_next, &due, next, 0, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return; /* another thread takes this reading */
	write_rss(t);
}

/* --- the timer --- */

static void on_rss_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_TIMER)
		return; /* not our timer: someone sent the signal by hand */
	int saved = errno;
	uint64_t now = ps_now();
	/* Several busy threads run the CPU clock faster than the wall. */
	if (now - __atomic_load_n(&last_reading, __ATOMIC_RELAXED) < interval_ticks * 3 / 4)
		goto out;
	struct ps_thread *t = ps_self;
	if (!ps_recording || !t || t->state != PS_T_ACTIVE || t->busy) {
		/* Left to the next allocation, in any thread. */
		__atomic_store_n(&ps_rss_next, 0, __ATOMIC_RELAXED);
		goto out;
	}
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	write_rss(t);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
out:
	errno = saved;
}

static void set_timer(long ns_interval)
{
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = ns_interval / 1000000000L;
	its.it_value.tv_nsec = ns_interval % 1000000000L;
	its.it_interval = its.it_value;
	timer_settime(rss_timer, 0, &its, NULL);
}

static void arm(void)
{
	set_timer((long)ps_cfg.rss_ms * 1000000L);
}

static void disarm(void)
{
	set_timer(0);
}

/* Create and arm the process's timer; false if it cannot be had. */
static bool make_timer(void)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = rss_sig;
	if (timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &rss_timer))
		return false;
	timer_pid = getpid();
	arm();
	return true;
}

static int install_handler(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_rss_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	return ps_real_sigaction(sig, &sa, NULL);
}

static void unblock(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static bool start_timer(void)
{
	int sig = ps_free_rt_signal();
	if (!sig || install_handler(sig))
		return false;
	rss_sig = sig;
	if (!make_timer()) {
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		ps_real_sigaction(sig, &dfl, NULL);
		rss_sig = 0;
		return false;
	}
	unblock(sig); /* an exec'ing parent may have left it blocked */
	return true;
}

/* --- the program takes our signal (sigaction.c) --- */

bool ps_rss_is_handler(const void *fn)
{
	return fn == (const void *)on_rss_signal;
}

/* Called before the program's sigaction for sig takes effect: move the
 * timer to another free signal, or fall back to readings at allocations.
 * A signal of the old timer still pending is taken off first, so the
 * program's handler never sees one. */
void ps_rss_signal_taken(int sig)
{
	if (!rss_sig || sig != rss_sig || getpid() != timer_pid)
		return;
	timer_delete(rss_timer);
	ps_signal_quiesce(sig, NULL);
	int ns = ps_free_rt_signal();
	if (ns && install_handler(ns) == 0) {
		rss_sig = ns;
		if (make_timer()) {
			unblock(ns);
			return;
		}
	}
	rss_sig = 0;
	ps_rss_next = 0; /* readings at allocations from now on */
	ps_log("the program takes the RSS timer's signal and no other is free; "
	       "RSS is read at allocations only",
	       NULL);
}

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
	start_timer();
}

int ps_rss_signal(void)
{
	return rss_sig;
}

/* --- fork and exec (process.c) --- */

void ps_rss_before_fork(void)
{
	if (!rss_sig)
		return;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, rss_sig);
	fork_blocked = pthread_sigmask(SIG_BLOCK, &set, &fork_mask) == 0;
}

/* child: 1 = recorded child, -1 = child not recorded, 0 = parent. */
void ps_rss_after_fork(int child)
{
	if (!rss_sig)
		return;
	if (child > 0) {
		/* Timers are not inherited: the child's own, or none. */
		ps_rss_next = 0;
		last_reading = 0;
		if (!make_timer())
			rss_sig = 0;
	} else if (child < 0) {
		rss_sig = 0; /* a child that is not recorded */
	}
	if (fork_blocked)
		pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
	fork_blocked = 0;
}

void ps_rss_before_exec(void)
{
	if (!rss_sig || getpid() != timer_pid)
		return; /* vfork child: the timer is the parent's */
	/* A pending signal survives exec, where its default action kills. */
	ps_signal_quiesce(rss_sig, disarm);
}

void ps_rss_after_failed_exec(void)
{
	if (rss_sig && getpid() == timer_pid)
		arm();
}

/* The process ends: no readings past the trace's end. */
void ps_rss_finish(void)
{
	if (rss_sig && getpid() == timer_pid)
		disarm();
}
