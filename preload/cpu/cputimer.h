/*
 * Per-thread CPU-time timers that signal their own thread.
 *
 * Two mechanisms (enum pst_cpu_timer):
 *   PERF  a perf_event software cpu-clock counter of the thread, sampling
 *         every period; each overflow raises the signal in that thread
 *         (O_ASYNC, F_SETOWN_EX F_OWNER_TID, F_SETSIG). hrtimer based, so
 *         rates above the kernel tick are real.
 *   POSIX timer_create on the thread's CPU clock with SIGEV_THREAD_ID.
 *         Fires on the kernel tick only; overruns carry the rest.
 * The first expiry is random in (0, period] so short threads are sampled
 * in proportion to their CPU time.
 *
 * Nothing here allocates; ps_ct_weight is async-signal-safe.
 */
#ifndef PS_CPUTIMER_H
#define PS_CPUTIMER_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* A sample that landed inside a hook, held until the hook ends (the
 * hook may be in the middle of writing a record). */
#define PS_CPU_PENDING_MAX 4
#define PS_CPU_PENDING_DEPTH 256
struct ps_cpu_pending {
	uint64_t weight;
	int n;		/* frames in pcs */
	int need_stack; /* [profshim] under the hook's stack, not yet known */
	int depth;	/* shadow depth */
	uintptr_t pcs[PS_CPU_PENDING_DEPTH];
};

struct ps_cpu_thread {
	volatile int used; /* slot in use */
	pid_t tid;	   /* thread the timer measures and signals */
	int mech;	   /* enum pst_cpu_timer */
	int fd;		   /* PERF: the event, -1 if none */
	timer_t timer;	   /* POSIX */
	int has_timer;
	int armed;	/* counting (not disarmed for exec) */
	int first_done; /* PERF: period switched from the first one */
	int warmed;	/* the thread's unwinder caches exist */
	/* A sample came while the thread was not warmed: warm it up at its
	 * next hook's end (ps_cpu_flush), outside the handler. */
	volatile int warm_due;
	uint64_t period_ns;
	uint64_t first_ns;		 /* first expiry */
	uint64_t charged;		 /* periods charged to samples (taken or dropped) */
	uint64_t start_cpu_ns;		 /* POSIX: the thread's CPU clock when armed */
	uint64_t last_stack;		 /* stack id of the thread's last sample */
	volatile int last_profshim;	 /* ... and it was the [profshim] frame */
	struct ps_cpu_thread *next;	 /* registry, push-only */
	volatile uint64_t kernel_weight; /* PERF: periods in the kernel, to write */
	/* PERF: telling the thread's time in the kernel from vCPU steal
	 * (sampler.c, kernel_periods) */
	uint64_t last_count;	 /* the event's count read at the last signal */
	uint64_t steal_count;	 /* the count ... */
	uint64_t steal_cpu;	 /* ... and the thread's CPU clock, when steal was last measured */
	uint64_t steal_ns;	 /* count gained beyond the thread's CPU clock */
	uint64_t steal_charged;	 /* periods of that left on the stacks sampled */
	uint64_t sys_base_ns;	 /* the thread's system time (getrusage) at the base */
	uint64_t kernel_charged; /* periods charged to [kernel] so far */
	int steal_base_set;
	volatile uint32_t npending; /* pending[0..npending): appended by the handler */
	volatile int flushing;	    /* the thread is writing its queue out */
	/* Process end while the thread still runs (ps_cpu_account_live): the
	 * exiting thread sets `closed`, then waits until `inside` (the thread
	 * charging or writing samples) is 0, so its figures are final. */
	int closed;
	int inside;
	struct ps_cpu_pending pending[PS_CPU_PENDING_MAX];
};

/* Which mechanism works here: tries perf_event_open on the calling thread
 * unless `want` forces one (-1 = auto). Returns enum pst_cpu_timer. */
int ps_ct_probe(int want);
/* Create and start c's timer for thread c->tid, signal sig; 0 or -errno. */
int ps_ct_arm(struct ps_cpu_thread *c, int sig);
/* Stop counting (exec) / start again (failed exec). */
void ps_ct_pause(struct ps_cpu_thread *c);
void ps_ct_resume(struct ps_cpu_thread *c);
/* Send to another signal from now on; 0 or -errno. */
int ps_ct_retarget(struct ps_cpu_thread *c, int sig);
/* Destroy the timer. The descriptor is closed only if it is still ours
 * (a program may have closed it and reused the number); returns 0, or -1
 * when it was gone. */
int ps_ct_destroy(struct ps_cpu_thread *c, int sig);
/* Periods of CPU time the thread used that no sample has charged yet
 * (the expiries the kernel had not delivered when the thread ended);
 * call in the thread, before ps_ct_destroy. */
uint64_t ps_ct_uncharged(struct ps_cpu_thread *c);
/* CPU time (ns, user + system) thread c->tid used since its timer was
 * armed; 0 when unknown. Call in the thread. */
uint64_t ps_ct_used_ns(struct ps_cpu_thread *c);
/* In a forked child: drop the parent's timer without touching its event. */
void ps_ct_forget(struct ps_cpu_thread *c);
/* Signal handler: is si from c's timer? If so, the sample's weight
 * (periods of CPU time it stands for, >= 1); 0 if not ours. */
uint64_t ps_ct_weight(struct ps_cpu_thread *c, const siginfo_t *si);

#endif
