/*
 * The compressor: one background thread of the shim ("profshim-z") that
 * compresses the finished runs of thread files (zwriter.c), so the
 * program's thread that slides a window only hands the run over and goes
 * on: a malloc hook or a CPU-sample handler no longer stalls ~2 ms each
 * time a window fills.
 *
 * Hand-over: a fixed table of job slots. A writer claims a free slot with
 * a compare-and-swap, fills in the job, marks it ready and wakes the
 * compressor with a futex; all of it async-signal-safe (the slide may run
 * in a signal handler): no lock, no malloc, no pthread_cond. When no slot
 * is free the writer does not wait: its run simply goes on raw and is
 * handed over at a later slide (zwriter.c).
 *
 * A slot's state word holds a ticket (unique per job) and the step:
 * FREE -> CLAIMED (the writer fills it) -> READY -> BUSY (compressing) ->
 * OK / FAIL, which the writer takes back (-> FREE). A writer that ends
 * cancels a READY job (it then compresses it itself) or waits for a BUSY
 * one, bounded; past the bound it marks it ORPHAN and the compressor frees
 * the slot. The compressor never touches a stream: a job carries its own
 * descriptor and offsets, so a thread state reused after its thread ended
 * is never written by it.
 *
 * The thread is made on first need, never at start-up, and never in a
 * process allowed a single CPU. It blocks every signal, is never recorded
 * (no state, no file, no timer), and is gone in a forked child, which
 * makes one again when it needs one.
 *
 * What kind of thread (PROFSHIM_COMPRESS_THREAD):
 *  1 (default): a raw thread (rawthread.c) glibc does not know about, so a
 *    single-threaded program's malloc stays on its lock-free path. Its
 *    code uses raw system calls only (zsys.h) and no TLS. It can be made
 *    anywhere, a signal handler included (mmap and clone). Where raw
 *    threads are not supported (not x86-64), as 2.
 *  2: a glibc thread (pthread_create), made only where that is safe: not
 *    inside the shim's signal handlers (their signal is blocked there);
 *    until it exists such a run is compressed in place.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rawthread.h"
#include "sampler.h"
#include "shim.h"
#include "zsys.h"

enum { ZS_FREE = 0, ZS_CLAIMED, ZS_READY, ZS_BUSY, ZS_OK, ZS_FAIL, ZS_ORPHAN };
#define ZS_MASK 7u
#define ZT_SLOTS 64

struct zslot {
	uint32_t state; /* ticket << 3 | step */
	struct pw_zjob job;
};

static struct zslot slots[ZT_SLOTS];
static uint32_t tickets;
static uint32_t work; /* bumped at each hand-over: the compressor's futex */
/* The compressor: 0 none yet, 1 being made, 2 running, 3 cannot be made */
static int zt_state;
static struct pw_zscratch zt_scratch; /* the compressor's own */

int pw_zt_on = PW_ZT_RAW; /* PROFSHIM_COMPRESS_THREAD (config.c) */

/* Raw: the compressor may be a raw thread (no errno there). */
static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return zsys_futex(addr, op, val, ts);
}

static void wake_all(uint32_t *addr)
{
	futex(addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

static uint32_t step(uint32_t st)
{
	return st & ZS_MASK;
}

/* The job's descriptor is closed while it is still ours (the program may
 * have closed the number and reused it). Raw calls: the compressor's. */
static void close_job_fd(struct pw_zjob *j)
{
	struct stat st;
	if (j->fd >= 0 && zsys_fstat(j->fd, &st) == 0 && st.st_dev == j->dev && st.st_ino == j->ino)
		zsys_close(j->fd);
	j->fd = -1;
}

static void run_slot(struct zslot *sl, uint32_t ready)
{
	uint32_t busy = (ready & ~ZS_MASK) | ZS_BUSY;
	if (!__atomic_compare_exchange_n(&sl->state, &ready, busy, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return; /* cancelled by its writer */
	struct pw_zjob job = sl->job;
	int ok = pw_z_job_run(&job, &zt_scratch) == 0;
	close_job_fd(&job);
	uint32_t done = (ready & ~ZS_MASK) | (ok ? ZS_OK : ZS_FAIL);
	if (!__atomic_compare_exchange_n(&sl->state, &busy, done, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		__atomic_store_n(&sl->state, ZS_FREE, __ATOMIC_RELEASE); /* orphaned */
	wake_all(&sl->state);
}

/* The compressor's loop: raw system calls only, no TLS (it may be a raw
 * thread). */
static void compressor_loop(void)
{
	zsys6(SYS_prctl, PR_SET_NAME, (long)"profshim-z", 0, 0, 0, 0);
	for (;;) {
		uint32_t seen = __atomic_load_n(&work, __ATOMIC_ACQUIRE);
		int did = 0;
		for (int i = 0; i < ZT_SLOTS; i++) {
			uint32_t st = __atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE);
			if (step(st) == ZS_READY) {
				run_slot(&slots[i], st);
				did = 1;
			}
		}
		if (!did)
			futex(&work, FUTEX_WAIT_PRIVATE, seen, NULL);
	}
}

/* A glibc thread (PW_ZT_PTHREAD). */
static void *compressor_main(void *arg)
{
	(void)arg;
	ps_thread_over = 1; /* the hooks pass through: never recorded */
	compressor_loop();
	return NULL;
}

/* A raw thread: nothing of the shim's TLS, no hook ever runs on it. */
static void raw_compressor_main(void *arg)
{
	(void)arg;
	compressor_loop();
}

/* Inside one of the shim's signal handlers, perhaps: its signal is blocked
 * there (the sigmask wrappers keep the sampler's unblocked elsewhere).
 * A raw system call: the wrappers must not see it. */
static int maybe_in_handler(void)
{
	sigset_t cur;
	sigemptyset(&cur);
	if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, _NSIG / 8))
		return 1;
	int cs = ps_cpu_signal(), rs = ps_rss_signal();
	return (cs > 0 && sigismember(&cur, cs) == 1) || (rs > 0 && sigismember(&cur, rs) == 1);
}

/* A process allowed one CPU gains nothing from a second thread (it would
 * only make glibc's malloc take its locks): compress in place there. */
static int one_cpu(void)
{
	cpu_set_t set;
	return sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) < 2;
}

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

/* A raw compressor. Before it runs, the lazily bound calls its code makes
 * (zstd, memcpy) are bound here by one tiny compression: the dynamic
 * linker's resolver is glibc code that reads the thread's TLS. */
static int make_raw_compressor(void)
{
	if (pw_z_warm(&zt_scratch))
		return -1;
	long tid = pw_raw_thread_start(raw_compressor_main, NULL);
	return tid > 0 ? 0 : -1;
}

/* Make the compressor (the real pthread_create: the wrapper would record
 * it), with every signal blocked (glibc keeps its own two). */
static void make_pthread_compressor(void)
{
	create_fn real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
	pthread_attr_t a;
	pthread_t th;
	sigset_t all, old;
	int rc = -1;
	/* glibc allocates the new thread's TLS vector with malloc: in a hook
	 * that takes the plain path, counted as a re-entrant call. It is the
	 * shim's allocation, not the program's: not counted. */
	struct ps_thread *self = ps_self;
	uint64_t reentrant = self ? self->counters[PST_C_DROP_REENTRANT] : 0;
	if (real && pthread_attr_init(&a) == 0) {
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		sigfillset(&all);
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, _NSIG / 8);
		rc = real(&th, &a, compressor_main, NULL);
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, _NSIG / 8);
		pthread_attr_destroy(&a);
	}
	if (self)
		self->counters[PST_C_DROP_REENTRANT] = reentrant;
	__atomic_store_n(&zt_state, rc ? 3 : 2, __ATOMIC_RELEASE);
	if (rc)
		ps_log("cannot start the compression thread; runs are compressed in place", NULL);
}

static int raw_kind(void)
{
	return pw_zt_on == PW_ZT_RAW && pw_raw_thread_supported();
}

static void make_compressor(void)
{
	if (!raw_kind()) {
		make_pthread_compressor();
		return;
	}
	int rc = make_raw_compressor();
	__atomic_store_n(&zt_state, rc ? 3 : 2, __ATOMIC_RELEASE);
	if (rc)
		ps_log("cannot start the compression thread; runs are compressed in place", NULL);
}

/* Is there a compressor (making it now when safe)? */
static int have_compressor(uint32_t pid)
{
	/* A vfork child shares our memory but not our descriptors: the
	 * compressor could not use its job's. */
	if ((uint32_t)getpid() != pid)
		return 0;
	int st = __atomic_load_n(&zt_state, __ATOMIC_ACQUIRE);
	if (st == 2 || st == 1)
		return 1; /* one being made takes its slots when it starts */
	/* a raw thread can be made anywhere; pthread_create not in a handler */
	if (st == 3 || (!raw_kind() && maybe_in_handler()))
		return 0; /* no thread can be made here */
	if (one_cpu()) {
		__atomic_store_n(&zt_state, 3, __ATOMIC_RELEASE);
		return 0;
	}
	int none = 0;
	if (__atomic_compare_exchange_n(&zt_state, &none, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		make_compressor();
	return __atomic_load_n(&zt_state, __ATOMIC_ACQUIRE) != 3;
}

int pw_zt_claim(uint32_t pid, uint32_t *ticket)
{
	if (!pw_zt_on || !have_compressor(pid))
		return PW_ZT_NONE;
	for (int i = 0; i < ZT_SLOTS; i++) {
		uint32_t st = __atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE);
		if (step(st) != ZS_FREE)
			continue;
		uint32_t t = __atomic_add_fetch(&tickets, 1, __ATOMIC_RELAXED) & (UINT32_MAX >> 3);
		t += !t; /* 0 would match a free slot's word */
		uint32_t claimed = (t << 3) | ZS_CLAIMED;
		if (__atomic_compare_exchange_n(&slots[i].state, &st, claimed, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			*ticket = t;
			return i;
		}
	}
	return PW_ZT_FULL;
}

int pw_zt_running(uint32_t pid)
{
	return __atomic_load_n(&zt_state, __ATOMIC_ACQUIRE) == 2 && (uint32_t)getpid() == pid;
}

void pw_zt_post(int slot, uint32_t ticket, const struct pw_zjob *job)
{
	slots[slot].job = *job;
	__atomic_store_n(&slots[slot].state, (ticket << 3) | ZS_READY, __ATOMIC_RELEASE);
	__atomic_add_fetch(&work, 1, __ATOMIC_ACQ_REL);
	futex(&work, FUTEX_WAKE_PRIVATE, 1, NULL);
}

void pw_zt_unclaim(int slot, uint32_t ticket)
{
	uint32_t claimed = (ticket << 3) | ZS_CLAIMED;
	__atomic_compare_exchange_n(&slots[slot].state, &claimed, ZS_FREE, 0, __ATOMIC_ACQ_REL,
				    __ATOMIC_RELAXED);
}

int pw_zt_result(int slot, uint32_t ticket)
{
	uint32_t st = __atomic_load_n(&slots[slot].state, __ATOMIC_ACQUIRE);
	if (st >> 3 != ticket)
		return PW_ZT_FAIL; /* not ours any more (a forked child) */
	if (step(st) != ZS_OK && step(st) != ZS_FAIL)
		return PW_ZT_PENDING;
	int r = step(st) == ZS_OK ? PW_ZT_OK : PW_ZT_FAIL;
	__atomic_compare_exchange_n(&slots[slot].state, &st, ZS_FREE, 0, __ATOMIC_ACQ_REL,
				    __ATOMIC_RELAXED);
	return r;
}

int pw_zt_cancel(int slot, uint32_t ticket, struct pw_zjob *job)
{
	uint32_t ready = (ticket << 3) | ZS_READY;
	*job = slots[slot].job;
	return __atomic_compare_exchange_n(&slots[slot].state, &ready, ZS_FREE, 0, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

int pw_zt_wait(int slot, uint32_t ticket, unsigned ms)
{
	struct timespec now, end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		int r = pw_zt_result(slot, ticket);
		if (r != PW_ZT_PENDING)
			return r;
		uint32_t st = __atomic_load_n(&slots[slot].state, __ATOMIC_ACQUIRE);
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left_ns =
		    (end.tv_sec - now.tv_sec) * 1000000000L + (end.tv_nsec - now.tv_nsec);
		if (left_ns <= 0)
			break;
		struct timespec rel = {left_ns / 1000000000L, left_ns % 1000000000L};
		if (step(st) == ZS_BUSY || step(st) == ZS_READY)
			futex(&slots[slot].state, FUTEX_WAIT_PRIVATE, st, &rel);
	}
	/* past the bound: the compressor frees the slot when it is done */
	uint32_t busy = (ticket << 3) | ZS_BUSY;
	if (__atomic_compare_exchange_n(&slots[slot].state, &busy, (ticket << 3) | ZS_ORPHAN, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return PW_ZT_FAIL;
	return pw_zt_result(slot, ticket) == PW_ZT_OK ? PW_ZT_OK : PW_ZT_FAIL;
}

void pw_zt_after_fork_child(void)
{
	for (int i = 0; i < ZT_SLOTS; i++) {
		uint32_t s = step(slots[i].state);
		if (s == ZS_READY || s == ZS_BUSY || s == ZS_ORPHAN) /* copies of ours */
			close_job_fd(&slots[i].job);
		slots[i].state = ZS_FREE;
	}
	work = 0;
	pw_raw_thread_after_fork_child();
	if (zt_state != 3)
		zt_state = 0; /* made again on first need */
}
