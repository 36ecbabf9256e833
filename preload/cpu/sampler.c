/*
 * CPU sampler: every thread gets a timer on its own CPU time that signals
 * that thread (cputimer.c); the handler records the interrupted stack as a
 * SAMPLE into the thread's own stream.
 *
 * Life cycle
 *   start        ps_cpu_init: pick the mechanism and the signal, install
 *                the handler, arm the starting thread and every thread
 *                already running (/proc/self/task).
 *   new thread   ps_cpu_thread_start, in the thread: warm up libunwind,
 *                arm its timer.
 *   thread end   ps_cpu_thread_end, in the thread: unhook the slot from
 *                the state first (a late signal then finds nothing), then
 *                delete the timer. Slots are reused, never freed.
 *   fork         the signal is blocked in the forking thread across fork
 *                (a pending signal makes the kernel restart fork); the
 *                child drops the parent's timers and arms its own thread.
 *   exec         every timer is disarmed and a pending signal drained, so
 *                the new image never gets a signal it has no handler for;
 *                a failed exec re-arms.
 *
 * Threads running before the shim started have no state and cannot make
 * one in a signal handler. The starting thread makes their states
 * (ps_thread_start_for, trace file and all) and arms timers targeting
 * their tids; the handler only adopts the ready-made state
 * (ps_thread_adopt: a registry walk and a compare-and-swap).
 *
 * A sample that lands inside one of the shim's hooks waits in the
 * thread's queue for the hook's end (sample_queue.c).
 *
 * The signal is SIGPROF unless the program already handles it; when the
 * program installs a handler for our signal later (sigaction.c), the
 * sampler moves to a free real-time signal, or stops with one line.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#endif
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "cputimer.h"
#include "rawthread.h"
#include "sampler.h"
#include "shim.h"
#include "sample_queue.h"
#include "sigunwind.h"

#define MAX_DEPTH 256

static int cpu_on;	     /* timers are in use */
static int cpu_mech;	     /* enum pst_cpu_timer */
static volatile int cpu_sig; /* the signal in use, 0 = none */
static uint64_t cpu_period_ns;
static pid_t cpu_pid;	/* process the slots belong to */
static int exec_paused; /* disarmed for an exec that may fail */
static int fds_lost_logged;
static struct ps_cpu_thread *slots; /* push-only registry */
static int slots_lock;		    /* arm/disarm/retarget; never in a handler */
static __thread sigset_t fork_saved_mask PS_TLS;
static __thread int fork_blocked PS_TLS; /* fork_saved_mask is to restore */
static __thread int fork_warmed PS_TLS;	 /* the forking thread was warmed */

static void lock_slots(void)
{
	while (__atomic_exchange_n(&slots_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void unlock_slots(void)
{
	__atomic_store_n(&slots_lock, 0, __ATOMIC_RELEASE);
}

/* --- the signal handler --- */

/* A SAMPLE record of `weight` at `stack` (an id already interned). */
void ps_sample_write(struct ps_thread *t, uint64_t weight, uint64_t stack, int depth)
{
	uint8_t *p = ps_reserve(t, 4 * PST_VARINT_MAX);
	if (!p) {
		ps_sample_drop(t, weight);
		return;
	}
	p = pst_put_tag(p, ps_dt(t, ps_now()), PST_K_SAMPLE);
	p = pst_put_varint(p, weight);
	p = pst_put_varint(p, stack);
	p = pst_put_varint(p, (uint64_t)depth);
	ps_commit(t, p);
	t->counters[PST_C_SAMPLES]++;
}

static void write_sample(struct ps_thread *t, void *uc, uint64_t weight)
{
	uintptr_t pcs[MAX_DEPTH];
	int n = ps_sample_capture(t, uc, pcs, ps_sample_max_frames(), false);
	if (n == PS_UNWIND_IN_LOADER) {
		t->counters[PST_C_DROP_SAMPLE_LOADER]++;
		ps_sample_drop(t, weight);
		return;
	}
	uint64_t stack = ps_stack_intern(t, pcs, n);
	if (t->cpu) {
		t->cpu->last_stack = stack;
		t->cpu->last_profshim = n > 0 && pcs[0] == PST_PC_PROFSHIM;
	}
	if (n > 0 && pcs[0] == PST_PC_PROFSHIM)
		t->counters[PST_C_SAMPLES_PROFSHIM] += weight;
	ps_sample_write(t, weight, stack, ps_sample_depth(t));
}

/* The calling thread's CPU clock, ns (a system call: async-signal-safe). */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* From here on, steal is what the perf count (at `count`) gains beyond
 * the calling thread's CPU clock. */
/* The calling thread's system time, ns (getrusage: async-signal-safe). */
static uint64_t thread_sys_ns(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return (uint64_t)ru.ru_stime.tv_sec * 1000000000u + (uint64_t)ru.ru_stime.tv_usec * 1000u;
}

static void steal_base(struct ps_cpu_thread *c, uint64_t count)
{
	c->steal_count = count;
	c->steal_cpu = thread_cpu_ns();
	c->sys_base_ns = thread_sys_ns();
	c->steal_base_set = 1;
}

/* One kernel tick at 250 Hz: the system time's own granularity. */
#define SYS_TICK_NS 4000000u

/* How many more periods [kernel] may take: the thread's system time so
 * far, half again for its tick sampling's error, and a tick. */
static uint64_t kernel_allowance(const struct ps_cpu_thread *c)
{
	uint64_t sys = thread_sys_ns();
	uint64_t used = sys > c->sys_base_ns ? sys - c->sys_base_ns : 0;
	uint64_t cap = (used + used / 2 + SYS_TICK_NS) / c->period_ns;
	return cap > c->kernel_charged ? cap - c->kernel_charged : 0;
}

/*
 * Of `extra` periods the perf count passed without a signal (its count
 * now `count`), those spent in the kernel; the rest are vCPU steal in
 * user code and stay with the stack sampled (perf_attr_note, cputimer.c).
 *
 * Steal is measured, not guessed: cpu-clock counts by local_clock(),
 * which runs on while the hypervisor holds the vCPU, and the thread's CPU
 * clock (sum_exec_runtime) leaves steal out where the guest knows it
 * (paravirt steal time). What one gains over the other between two
 * signals is steal; it is taken in each interval on its own, so an
 * interval where the event was paused (the count stood still) does not
 * hide the steal of later ones.
 *
 * Periods can also pass without a signal in user code when the timer's
 * interrupt comes late without the guest seeing steal (a loaded host):
 * on a CPU-bound program beside a second test suite, up to 10% of its
 * time. The thread's system time (getrusage) bounds what [kernel] takes,
 * loosely: it is the kernel's tick sampling (250 Hz) of user against
 * kernel mode, off by 40% at times on a loaded machine, and a tight bound
 * turned that noise into a deficit (only the ticks' undercounts kept).
 * So [kernel] may take up to one and a half times that system time and
 * a tick.
 */
static uint64_t kernel_periods(struct ps_cpu_thread *c, uint64_t count, uint64_t extra)
{
	uint64_t cpu = thread_cpu_ns();
	if (count > c->steal_count && cpu > c->steal_cpu) {
		uint64_t gained = count - c->steal_count, ran = cpu - c->steal_cpu;
		if (gained > ran)
			c->steal_ns += gained - ran;
	}
	c->steal_count = count;
	c->steal_cpu = cpu;
	uint64_t due = c->steal_ns / c->period_ns;
	uint64_t s = due > c->steal_charged ? due - c->steal_charged : 0;
	if (s > extra)
		s = extra;
	c->steal_charged += s;
	uint64_t k = extra - s, most = kernel_allowance(c);
	if (k > most)
		k = most;
	c->kernel_charged += k;
	return k;
}

static void on_own_signal(struct ps_thread *t, struct ps_cpu_thread *c, siginfo_t *si, void *uc);

static void on_cpu_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	int saved = errno;
	struct ps_thread *t = ps_self;
	if (!t && !ps_thread_over)
		t = ps_thread_adopt();
	if (!t || t->state != PS_T_ACTIVE)
		goto out;
	struct ps_cpu_thread *c = t->cpu;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (!c || !ps_cpu_slot_enter(c))
		goto out;
	on_own_signal(t, c, si, uc);
	ps_cpu_slot_leave(c);
out:
	errno = saved;
}

/* A signal of t's own timer c (inside c's section). */
static void on_own_signal(struct ps_thread *t, struct ps_cpu_thread *c, siginfo_t *si, void *uc)
{
	uint64_t weight = ps_ct_weight(c, si);
	if (!weight)
		return;
	if (!ps_recording) {
		t->counters[PST_C_CPU_PAUSED] += weight;
		return;
	}
	if (c->mech != PST_TIMER_PERF) {
		;
	} else if (!c->steal_base_set) {
		steal_base(c, c->last_count);
	} else if (weight > 1) {
		/* perf_attr_note (cputimer.c): periods that passed without a
		 * signal were spent in the kernel (the interrupted stack is not
		 * theirs), or stolen from the vCPU while the thread ran this code
		 * (they are). */
		uint64_t k = kernel_periods(c, c->last_count, weight - 1);
		if (k) {
			c->kernel_weight += k;
			weight -= k;
			t->cpu_pending = 1;
		}
	}
	if (t->busy) {
		ps_sample_defer(t, c, uc, weight);
		return;
	}
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (t->cpu_pending)
		ps_cpu_flush_queue(t);
	write_sample(t, uc, weight);
	if (!c->warmed) {
		/* the fast walk's cache is made at the next hook's end */
		c->warm_due = 1;
		t->cpu_pending = 1;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
}

bool ps_cpu_is_handler(const void *fn)
{
	return fn == (const void *)on_cpu_signal;
}

static int install_handler(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_cpu_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	int rc = ps_real_sigaction(sig, &sa, NULL);
	struct sigaction now;
	if (rc == 0 && ps_real_sigaction(sig, NULL, &now) == 0)
		ps_sample_trampoline = (uintptr_t)now.sa_restorer;
	return rc;
}

static void write_timer_ext(void)
{
	uint8_t buf[32], *p = buf;
	p = pst_put_varint(p, ps_cfg.cpu_hz);
	p = pst_put_varint(p, (uint64_t)cpu_mech);
	p = pst_put_varint(p, (uint64_t)cpu_sig);
	ps_process_ext(PST_X_CPU_TIMER, buf, (size_t)(p - buf));
}

/* --- slots --- */

static struct ps_cpu_thread *claim_slot(void)
{
	for (struct ps_cpu_thread *c = slots; c; c = c->next)
		if (!c->used) {
			c->used = 1;
			c->closed = 0;
			c->inside = 0;
			c->flushing = 0;
			return c;
		}
	struct ps_cpu_thread *c = ps_alloc_pages(sizeof(*c));
	if (!c)
		return NULL;
	c->used = 1;
	c->fd = -1;
	c->next = slots;
	slots = c;
	return c;
}

/* In a forked child: the slots are the parent's. */
static void forget_parent_slots(void)
{
	slots_lock = 0;
	for (struct ps_cpu_thread *c = slots; c; c = c->next) {
		if (c->used)
			ps_ct_forget(c);
		c->used = 0;
	}
	exec_paused = 0;
	cpu_pid = ps_pid;
}

/* Arm a timer for thread tid and hang it on t. */
static void arm_thread(struct ps_thread *t, pid_t tid)
{
	if (!cpu_on || !cpu_sig || t->cpu)
		return;
	lock_slots();
	if (cpu_pid != ps_pid)
		forget_parent_slots();
	struct ps_cpu_thread *c = claim_slot();
	if (c) {
		c->tid = tid;
		c->mech = cpu_mech;
		c->period_ns = cpu_period_ns;
		int rc = ps_ct_arm(c, cpu_sig);
		if (rc == 0 && exec_paused)
			ps_ct_pause(c);
		if (rc == 0 && tid == ps_gettid() && c->mech == PST_TIMER_PERF) {
			/* In the thread itself, the count just enabled: steal is
			 * measured from here (a thread armed from another one
			 * starts at its first sample) */
			steal_base(c, 0);
		}
		if (rc) {
			c->used = 0;
			c = NULL;
		}
	}
	unlock_slots();
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->cpu = c;
}

void ps_cpu_thread_start(struct ps_thread *t)
{
	if (!cpu_on)
		return;
	/* The fast walk's cache is made before the first sample, not on its
	 * demand: a thread that computes without calling a hook reaches no
	 * point where the cache can be made (not in a handler), and its
	 * samples took the general walk all along (diff_v1: 1.5-2% of the
	 * run's CPU in [profshim], none with the cache). Threads adopted
	 * from /proc/self/task are warmed on their first sample's demand
	 * (sample_queue.c). */
	ps_sigunwind_warm();
	arm_thread(t, t->tid);
	if (t->cpu)
		t->cpu->warmed = 1;
	/* A thread created with every signal blocked (sigmask.c keeps the
	 * program from blocking ours, but not a mask set before the shim
	 * started or by a raw system call in the creator). */
	if (t->cpu)
		ps_sigmask_thread_start(cpu_sig);
}

/* Is sig blocked in the calling thread? Asked of the kernel: a mask set
 * with a raw system call is not seen by sigmask.c. */
static bool signal_blocked_here(int sig)
{
	uint64_t mask = 0;
	if (sig <= 0 || sig > 64 || syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8))
		return false;
	return mask >> (sig - 1) & 1;
}

/* The thread's final accounting, in the thread, its slot c already
 * unhooked: the queue is written, and the CPU time since the last
 * delivered expiry, which the kernel had counted but not signalled yet,
 * is charged to where the thread was last seen, so the thread's samples
 * add up to its CPU time. */
static void account_thread_end(struct ps_thread *t, struct ps_cpu_thread *c)
{
	ps_sample_flush_slot(t, c);
	uint64_t rest = ps_ct_uncharged(c);
	c->charged += rest;
	if (rest && ps_recording && c->mech == PST_TIMER_PERF && c->steal_base_set &&
	    !signal_blocked_here(cpu_sig)) {
		/* The perf timer signals only in user mode: periods counted
		 * and never signalled are the thread's system time (a program
		 * that lives in read() sees few signals), less steal. They go
		 * to [kernel], as during the run, not to the stack sampled
		 * last. Unless the thread blocks the signal (without libc:
		 * sigmask.c keeps libc's calls from blocking it): then they are
		 * its time with the signal blocked, user code or not, which no
		 * sample saw. (A thread that blocks it that way for a while and
		 * unblocks it later has that time charged as kernel time.) */
		uint64_t k = kernel_periods(c, ps_ct_used_ns(c), rest);
		if (k) {
			uintptr_t pc = PST_PC_KERNEL;
			ps_sample_write(t, k, ps_stack_intern(t, &pc, 1), 0);
			rest -= k;
		}
	}
	if (!rest)
		;
	else if (!ps_recording)
		t->counters[PST_C_CPU_PAUSED] += rest;
	else if (c->last_stack && !c->last_profshim)
		ps_sample_write(t, rest, c->last_stack, 0);
	else /* never the profiler's own frame: what it did not take is unknown */
		t->counters[PST_C_CPU_UNSAMPLED] += rest;
	t->counters[PST_C_CPU_PERIODS] = c->charged;
	t->counters[PST_C_CPU_NS] = ps_ct_used_ns(c);
}

void ps_cpu_thread_end(struct ps_thread *t)
{
	struct ps_cpu_thread *c = t->cpu;
	if (!c)
		return;
	/* Unhook first: a signal from here on finds no timer and charges
	 * nothing. Accounting on a slot still hooked lost weight: a signal
	 * between the queue's flush and the final count charged its periods
	 * to c->charged (so to CPU_PERIODS) and queued its sample (the thread
	 * is busy) where nothing wrote it any more; its [kernel] share too. */
	t->cpu = NULL;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	/* (a slot the process's end has closed is accounted already) */
	if (cpu_pid == ps_pid && c->tid == t->tid && ps_gettid() == t->tid &&
	    ps_cpu_slot_enter(c)) {
		account_thread_end(t, c);
		ps_cpu_slot_leave(c);
	}
	lock_slots();
	if (cpu_pid == ps_pid) {
		if (ps_ct_destroy(c, cpu_sig) && !fds_lost_logged) {
			fds_lost_logged = 1;
			ps_log("the program closed the CPU sampler's descriptors; "
			       "some threads were not sampled to their end",
			       NULL);
		}
		c->used = 0;
	}
	unlock_slots();
}

/* At the process's end, for a thread still running (from the exiting
 * thread; nothing is written into t's stream): its CPU accounting, with
 * the periods its samples did not reach as unsampled, and samples still
 * waiting in its queue as dropped. The slot is closed first and the
 * thread's sample in progress, if any, let finish: a sample charged or
 * written after these figures were taken would count twice or never. */
void ps_cpu_account_live(struct ps_thread *t)
{
	struct ps_cpu_thread *c = t->cpu;
	if (!c || cpu_pid != ps_pid || t == ps_self)
		return;
	if (!ps_cpu_slot_close(c))
		ps_log("a thread stayed inside the CPU sampler at the process's end; "
		       "its CPU figures may be off by a sample",
		       NULL);
	uint64_t rest = ps_ct_uncharged(c);
	uint32_t n = __atomic_load_n(&c->npending, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n && i < PS_CPU_PENDING_MAX; i++)
		t->counters[PST_C_DROP_SAMPLE_WEIGHT] += c->pending[i].weight;
	t->counters[PST_C_CPU_UNSAMPLED] += rest + c->kernel_weight;
	t->counters[PST_C_CPU_PERIODS] = c->charged + rest;
	t->counters[PST_C_CPU_NS] = ps_ct_used_ns(c);
}

/* A process that never created a thread has none running before us: no
 * /proc/self/task walk (a tenth of this recorder's start-up). glibc clears
 * __libc_single_threaded at the first pthread_create, ours or not (a shim
 * loaded late by dlopen, a preloaded library's constructor); a raw clone()
 * is not seen, as it would not be by the walk's later states either. */
static bool process_never_threaded(void)
{
#if __has_include(<sys/single_threaded.h>)
	return __libc_single_threaded;
#else
	return false;
#endif
}

/* Threads that were running before us: states and timers made here. */
static void cover_running_threads(void)
{
	/* /proc/self/task read with raw syscalls into a buffer on
	 * the stack. opendir would malloc 32 KiB, which the memory recorder
	 * reported as the program's; an I/O recorder's open/close hooks must
	 * not see the profiler's own descriptor either. */
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/task",
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	pid_t self = ps_gettid();
	char buf[4096] __attribute__((aligned(8)));
	long n;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			const struct dirent64 *e = (const struct dirent64 *)(buf + off);
			off += e->d_reclen;
			/* a thread id, or 0 for "." and ".." */
			long tid = 0;
			const char *c = e->d_name;
			for (; *c >= '0' && *c <= '9'; c++)
				tid = tid * 10 + (*c - '0');
			if (*c || tid <= 0 || tid == self)
				continue;
			if (tid == pw_raw_thread_tid())
				continue; /* the shim's compressor: never sampled */
			struct ps_thread *t = ps_thread_start_for((pid_t)tid);
			if (t)
				arm_thread(t, (pid_t)tid);
		}
	}
	syscall(SYS_close, fd);
}

static int want_mechanism(void)
{
	const char *v = getenv("PROFSHIM_CPU_TIMER");
	if (!v || !*v || !strcmp(v, "auto"))
		return -1;
	if (!strcmp(v, "posix"))
		return PST_TIMER_POSIX;
	if (!strcmp(v, "perf"))
		return PST_TIMER_PERF;
	ps_log("ignoring PROFSHIM_CPU_TIMER=", v, ": expected auto, perf or posix", NULL);
	return -1;
}

void ps_cpu_init(void)
{
	if (!(ps_cfg.record & PST_REC_CPU) || ps_disabled || !ps_cfg.cpu_hz)
		return;
	int sig = ps_signal_is_free(SIGPROF) ? SIGPROF : ps_free_rt_signal();
	if (!sig) {
		ps_log("SIGPROF and every real-time signal are taken; CPU sampling is off", NULL);
		return;
	}
	cpu_period_ns = 1000000000ull / ps_cfg.cpu_hz;
	int want = want_mechanism();
	/* perf unless asked otherwise: arming the starting thread is the
	 * probe (a separate probe event was a quarter of the recorder's
	 * start-up); without a starting thread, probe */
	cpu_mech = want == PST_TIMER_POSIX ? PST_TIMER_POSIX
		   : ps_self		   ? PST_TIMER_PERF
					   : ps_ct_probe(want);
	cpu_pid = ps_pid;
	ps_sigunwind_init();
	if (install_handler(sig)) {
		ps_log("cannot install the CPU sampling signal handler; CPU sampling is off", NULL);
		return;
	}
	cpu_sig = sig;
	cpu_on = 1;
	struct ps_thread *self = ps_self;
	if (self) {
		self->busy = 1;
		/* Not warmed here (a third of a short process's start-up): its
		 * first sample does it (ps_sigunwind_may_warm), unless the
		 * allocator is not glibc's */
		bool warm = !ps_sigunwind_lazy_ok();
		if (warm)
			ps_sigunwind_warm();
		arm_thread(self, self->tid);
		if (!self->cpu && cpu_mech == PST_TIMER_PERF) {
			cpu_mech = PST_TIMER_POSIX; /* perf_event_open refused */
			arm_thread(self, self->tid);
		}
		if (warm && self->cpu)
			self->cpu->warmed = 1;
		self->busy = 0;
	}
	write_timer_ext(); /* the mechanism is known now */
	if (!process_never_threaded())
		cover_running_threads();
	/* An exec'ing parent may have left the signal blocked. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* --- fork and exec --- */

void ps_cpu_before_fork(void)
{
	if (!cpu_on)
		return;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, cpu_sig);
	if (pthread_sigmask(SIG_BLOCK, &set, &fork_saved_mask) == 0)
		fork_blocked = 1;
	struct ps_thread *self = ps_self;
	fork_warmed = self && self->cpu && self->cpu->warmed;
}

static void restore_fork_mask(void)
{
	if (fork_blocked)
		pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
	fork_blocked = 0;
}

static void resume_all(void)
{
	lock_slots();
	for (struct ps_cpu_thread *c = slots; c; c = c->next)
		if (c->used)
			ps_ct_resume(c);
	exec_paused = 0;
	unlock_slots();
}

void ps_cpu_after_fork(int child)
{
	if (!cpu_on)
		return;
	if (!child) {
		/* After fork in the parent, or after a failed exec. */
		restore_fork_mask();
		if (exec_paused)
			resume_all();
		return;
	}
	lock_slots();
	if (cpu_pid != ps_pid)
		forget_parent_slots();
	unlock_slots();
	write_timer_ext();
	struct ps_thread *self = ps_self;
	if (self && !self->cpu)
		arm_thread(self, self->tid);
	if (self && self->cpu && fork_warmed)
		self->cpu->warmed = 1; /* the forking thread's caches came along */
	restore_fork_mask();
}

static void pause_all_timers(void)
{
	lock_slots();
	for (struct ps_cpu_thread *c = slots; c; c = c->next)
		if (c->used)
			ps_ct_pause(c);
	exec_paused = 1;
	unlock_slots();
}

void ps_cpu_before_exec(void)
{
	if (!cpu_on || getpid() != ps_pid)
		return; /* vfork child: the timers are the parent's */
	/* Pending signals survive exec: take ours off first. */
	ps_signal_quiesce(cpu_sig, pause_all_timers);
}

/* --- the program takes our signal (sigaction.c) --- */

int ps_cpu_signal(void)
{
	return cpu_on ? cpu_sig : 0;
}

void ps_cpu_signal_taken(int sig)
{
	if (!cpu_on || sig != cpu_sig)
		return;
	int ns = ps_free_rt_signal();
	lock_slots();
	if (ns && install_handler(ns) == 0) {
		for (struct ps_cpu_thread *c = slots; c; c = c->next)
			if (c->used)
				ps_ct_retarget(c, ns);
		cpu_sig = ns;
	} else {
		for (struct ps_cpu_thread *c = slots; c; c = c->next)
			if (c->used)
				ps_ct_pause(c);
		exec_paused = 1; /* stays off */
		cpu_on = 0;
		cpu_sig = 0;
		ps_log("the program handles the CPU sampling signal and no real-time "
		       "signal is free; CPU sampling is off",
		       NULL);
	}
	unlock_slots();
	if (cpu_on)
		write_timer_ext();
}
