/* Per-thread CPU-time timers: perf_event cpu-clock or POSIX (cputimer.h). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "cputimer.h"
#include "shim.h"

/*
 * perf_attr_note: kernel mode is excluded. An overflow that lands while
 * the thread is in the kernel then raises no signal, so the signal only
 * ever interrupts user code: it can never be pending while the thread
 * enters a blocking call, which would make poll, epoll_wait or nanosleep
 * fail with EINTR. The CPU time is not lost: the count includes kernel
 * time, and the next sample's weight comes from it (ps_ct_weight); the
 * periods beyond its own are the thread's time in the kernel, or vCPU
 * steal while it ran user code (the hypervisor held the vCPU past an
 * expiry, which then fired late, in user mode). The sampler tells them
 * apart (sampler.c, kernel_periods) and charges the kernel's to a
 * [kernel] frame rather than to the stack the next sample happens to
 * interrupt. So CPU time is user + system with both timers (the POSIX
 * timer's clock is the thread's CPU clock).
 * Excluding the kernel is also what perf_event_paranoid=2 allows.
 */

static long perf_open(struct perf_event_attr *a, pid_t tid)
{
	return syscall(SYS_perf_event_open, a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static void perf_attr(struct perf_event_attr *a, uint64_t period)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_CPU_CLOCK;
	a->sample_period = period;
	a->wakeup_events = 1; /* a signal on every overflow */
	a->disabled = 1;
	a->exclude_hv = 1;
	a->exclude_kernel = 1; /* see perf_attr_note */
}

/* Open a cpu-clock event on tid. */
static int perf_open_event(pid_t tid, uint64_t period)
{
	struct perf_event_attr a;
	perf_attr(&a, period);
	long fd = perf_open(&a, tid);
	return fd < 0 ? -errno : (int)fd;
}

int ps_ct_probe(int want)
{
	if (want == PST_TIMER_POSIX)
		return PST_TIMER_POSIX;
	int fd = perf_open_event(ps_gettid(), 10000000);
	if (fd < 0)
		return PST_TIMER_POSIX;
	close(fd);
	return PST_TIMER_PERF;
}

/* A pseudo-random first expiry in [period/64, period]: splitmix of the
 * clock and the tid, enough to break lock-step between threads. */
static uint64_t random_first(uint64_t period, pid_t tid)
{
	uint64_t x = ps_now() ^ ((uint64_t)tid << 32);
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	uint64_t lo = period / 64 + 1;
	return lo + x % (period - lo + 1);
}

static int perf_signal_to(int fd, pid_t tid, int sig)
{
	struct f_owner_ex own = {.type = F_OWNER_TID, .pid = tid};
	/* a new event has no status flags to keep (F_SETFL leaves the
	 * access mode alone): no F_GETFL */
	if (fcntl(fd, F_SETOWN_EX, &own) || fcntl(fd, F_SETSIG, sig) ||
	    fcntl(fd, F_SETFL, O_ASYNC | O_NONBLOCK))
		return -errno;
	return 0;
}

static int perf_arm(struct ps_cpu_thread *c, int sig)
{
	int fd = perf_open_event(c->tid, c->first_ns);
	if (fd < 0)
		return fd;
	fd = ps_fd_move_high(fd);
	int rc = perf_signal_to(fd, c->tid, sig);
	if (rc == 0 && ioctl(fd, PERF_EVENT_IOC_ENABLE, 0))
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	c->fd = fd;
	return 0;
}

/* The CPU clock of thread tid (the kernel's encoding of a per-thread
 * CPUCLOCK_SCHED clock id; what pthread_getcpuclockid returns). */
static clockid_t thread_clock(pid_t tid)
{
	if (tid == ps_gettid())
		return CLOCK_THREAD_CPUTIME_ID;
	return (clockid_t)((~(unsigned)tid << 3) | 6);
}

static void posix_settime(struct ps_cpu_thread *c, uint64_t first, uint64_t period)
{
	struct itimerspec its = {
	    .it_value = {(time_t)(first / 1000000000u), (long)(first % 1000000000u)},
	    .it_interval = {(time_t)(period / 1000000000u), (long)(period % 1000000000u)},
	};
	timer_settime(c->timer, 0, &its, NULL);
}

static int posix_create(struct ps_cpu_thread *c, int sig, timer_t *out)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = sig;
	sev._sigev_un._tid = c->tid;
	if (timer_create(thread_clock(c->tid), &sev, out))
		return -errno;
	return 0;
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;
	if (clock_gettime(clk, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int posix_arm(struct ps_cpu_thread *c, int sig)
{
	c->start_cpu_ns = clock_ns(thread_clock(c->tid));
	int rc = posix_create(c, sig, &c->timer);
	if (rc)
		return rc;
	c->has_timer = 1;
	posix_settime(c, c->first_ns, c->period_ns);
	return 0;
}

int ps_ct_arm(struct ps_cpu_thread *c, int sig)
{
	c->fd = -1;
	c->has_timer = 0;
	c->first_done = 0;
	c->warmed = 0;
	c->warm_due = 0;
	c->charged = 0;
	c->last_stack = 0;
	c->last_profshim = 0;
	c->kernel_weight = 0;
	c->last_count = 0;
	c->steal_ns = 0;
	c->steal_charged = 0;
	c->kernel_charged = 0;
	c->steal_base_set = 0;
	c->npending = 0;
	c->first_ns = random_first(c->period_ns, c->tid);
	int rc = c->mech == PST_TIMER_PERF ? perf_arm(c, sig) : posix_arm(c, sig);
	c->armed = rc == 0;
	return rc;
}

void ps_ct_pause(struct ps_cpu_thread *c)
{
	if (!c->armed)
		return;
	if (c->fd >= 0)
		ioctl(c->fd, PERF_EVENT_IOC_DISABLE, 0);
	if (c->has_timer)
		posix_settime(c, 0, 0);
	c->armed = 0;
}

void ps_ct_resume(struct ps_cpu_thread *c)
{
	if (c->armed)
		return;
	if (c->fd >= 0)
		ioctl(c->fd, PERF_EVENT_IOC_ENABLE, 0);
	if (c->has_timer)
		posix_settime(c, c->period_ns, c->period_ns);
	c->armed = c->fd >= 0 || c->has_timer;
}

/* Is fd still the event we opened for c? A program that closed every
 * descriptor may have reused the number for a file of its own. Only a
 * perf event answers PERF_EVENT_IOC_ID ('$' is perf's ioctl type; files,
 * sockets, pipes and ttys refuse it): one call instead of an fstat and a
 * readlink of /proc/self/fd/N. */
static int perf_fd_is_ours(const struct ps_cpu_thread *c, int sig)
{
	struct f_owner_ex own;
	uint64_t id;
	if (fcntl(c->fd, F_GETOWN_EX, &own) || own.type != F_OWNER_TID || own.pid != c->tid)
		return 0;
	return fcntl(c->fd, F_GETSIG) == sig && ioctl(c->fd, PERF_EVENT_IOC_ID, &id) == 0;
}

int ps_ct_retarget(struct ps_cpu_thread *c, int sig)
{
	if (c->fd >= 0)
		return fcntl(c->fd, F_SETSIG, sig) ? -errno : 0;
	if (!c->has_timer)
		return 0;
	timer_t nt;
	int rc = posix_create(c, sig, &nt);
	if (rc)
		return rc;
	timer_t old = c->timer;
	c->timer = nt;
	posix_settime(c, c->armed ? c->period_ns : 0, c->armed ? c->period_ns : 0);
	timer_delete(old);
	return 0;
}

int ps_ct_destroy(struct ps_cpu_thread *c, int sig)
{
	int rc = 0;
	if (c->fd >= 0) {
		if (perf_fd_is_ours(c, sig)) {
			/* closing stops it (a signal already queued finds the
			 * slot unhooked, as after a disable) */
			close(c->fd);
		} else {
			rc = -1;
		}
	}
	if (c->has_timer)
		timer_delete(c->timer);
	c->fd = -1;
	c->has_timer = 0;
	c->armed = 0;
	return rc;
}

void ps_ct_forget(struct ps_cpu_thread *c)
{
	/* The child's copy of the descriptor only: the event is the
	 * parent's thread's and goes on there. POSIX timers are not
	 * inherited. */
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->has_timer = 0;
	c->armed = 0;
}

/* Expiries a timer has passed after `used` ns of the thread's CPU time:
 * at first_ns, first_ns + period, ... */
static uint64_t periods_due(const struct ps_cpu_thread *c, uint64_t used)
{
	if (used + c->period_ns < c->first_ns)
		return 0;
	return (used + c->period_ns - c->first_ns) / c->period_ns;
}

uint64_t ps_ct_weight(struct ps_cpu_thread *c, const siginfo_t *si)
{
	if (c->mech == PST_TIMER_POSIX) {
		/* glibc's timer_t of a SIGEV_THREAD_ID timer is the kernel's id. */
		if (si->si_code != SI_TIMER || !c->has_timer ||
		    si->si_timerid != (int)(intptr_t)c->timer)
			return 0;
		uint64_t w = 1 + (uint64_t)(si->si_overrun > 0 ? si->si_overrun : 0);
		c->charged += w;
		return w;
	}
	if (si->si_code != POLL_IN && si->si_code != POLL_HUP)
		return 0;
	if (si->si_fd != c->fd || c->fd < 0)
		return 0;
	if (!c->first_done) {
		uint64_t p = c->period_ns;
		ioctl(c->fd, PERF_EVENT_IOC_PERIOD, &p);
		c->first_done = 1;
	}
	/* Charge every period boundary the count has passed (first_ns,
	 * first_ns + period, ...): exact however late the signal came. */
	uint64_t count = 0;
	if (read(c->fd, &count, sizeof(count)) != (ssize_t)sizeof(count)) {
		c->charged++;
		return 1;
	}
	c->last_count = count;
	uint64_t due = periods_due(c, count);
	uint64_t w = due > c->charged ? due - c->charged : 1;
	c->charged += w;
	return w;
}

uint64_t ps_ct_used_ns(struct ps_cpu_thread *c)
{
	uint64_t used = 0;
	if (c->fd >= 0) {
		/* cpu-clock counts kernel time too: exclude_kernel only keeps
		 * overflows in kernel mode from signalling. */
		if (read(c->fd, &used, sizeof(used)) != (ssize_t)sizeof(used))
			return 0;
	} else if (c->has_timer) {
		uint64_t now = clock_ns(thread_clock(c->tid));
		used = now > c->start_cpu_ns ? now - c->start_cpu_ns : 0;
	}
	return used;
}

uint64_t ps_ct_uncharged(struct ps_cpu_thread *c)
{
	uint64_t used = ps_ct_used_ns(c);
	if (!used)
		return 0;
	uint64_t due = periods_due(c, used);
	return due > c->charged ? due - c->charged : 0;
}
