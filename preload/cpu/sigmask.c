/*
 * Signal-mask wrappers: the CPU sampler's signal stays deliverable in
 * every thread.
 *
 * Many thread pools block every signal in their workers (liblzma, for
 * one: its creating thread blocks all signals around pthread_create, so
 * the worker starts with all of them blocked). A timer signal aimed at
 * such a thread stays pending forever and the thread is never sampled.
 * The sampling signal is the shim's own: it is directed at one thread (a
 * perf_event owner or a SIGEV_THREAD_ID timer), the program has no
 * handler for it (sigaction.c hides the shim's) and cannot expect it. So
 * when the program blocks it, the shim leaves it unblocked, and shows the
 * program the mask it asked for: a later query (the old set) has the
 * signal in it again while the program believes it blocked.
 *
 * Calls from the shim itself (blocking the signal across fork and exec),
 * from libunwind (it blocks every signal around its cache lock and
 * restores the mask after: the restore must block the sampling signal
 * again inside the sampler's own handler, or samples would nest and
 * deadlock on that lock) and any call while the thread is inside the shim
 * (busy) pass through unchanged. Masks set without libc (a raw rt_sigprocmask
 * system call) are not seen: such threads show up in the report as
 * unsampled, with their CPU time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdbool.h>

#include "sampler.h"
#include "shim.h"
#include "sigunwind.h"
#include "unwind.h"

typedef int (*sigmask_fn)(int, const sigset_t *, sigset_t *);

/* The program asked for the sampling signal blocked in this thread. */
static __thread int program_blocked PS_TLS;

static sigmask_fn real_fn(sigmask_fn *cache, const char *name)
{
	if (!*cache)
		*cache = (sigmask_fn)dlsym(RTLD_NEXT, name);
	return *cache;
}

/* The program's request with the sampling signal taken out; *want: does
 * the program want it blocked after the call. */
static const sigset_t *filtered(int how, const sigset_t *set, int sig, sigset_t *copy, int *want)
{
	*want = program_blocked;
	if (!set)
		return set;
	bool has = sigismember(set, sig) == 1;
	if (how == SIG_UNBLOCK) {
		if (has)
			*want = 0;
		return set;
	}
	if (how == SIG_SETMASK)
		*want = has;
	else if (how == SIG_BLOCK && has)
		*want = 1;
	if (!has)
		return set;
	*copy = *set;
	sigdelset(copy, sig);
	return copy;
}

static int masked(sigmask_fn real, int how, const sigset_t *set, sigset_t *old, uintptr_t from)
{
	int sig = ps_cpu_signal();
	if (!real)
		return ENOSYS;
	struct ps_thread *t = ps_self;
	if (!sig || ps_in_shim(from) || ps_in_unwinder(from) || (t && t->busy))
		return real(how, set, old);
	sigset_t copy;
	int want;
	int was = program_blocked;
	const sigset_t *use = filtered(how, set, sig, &copy, &want);
	int rc = real(how, use, old);
	if (rc == 0) {
		if (old && was)
			sigaddset(old, sig);
		program_blocked = want;
	}
	return rc;
}

PS_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	static sigmask_fn real;
	return masked(real_fn(&real, "pthread_sigmask"), how, set, old,
		      (uintptr_t)__builtin_return_address(0));
}

PS_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	static sigmask_fn real;
	sigmask_fn fn = real_fn(&real, "sigprocmask");
	int rc = masked(fn, how, set, old, (uintptr_t)__builtin_return_address(0));
	if (rc > 0) { /* sigprocmask reports through errno */
		errno = rc;
		return -1;
	}
	return rc;
}

/* Every catchable standard signal but sig is in set: the thread was made
 * with everything blocked (the creator's sigfillset, of which the shim
 * kept sig out). */
static bool all_others_blocked(const sigset_t *set, int sig)
{
	for (int s = 1; s < 32; s++)
		if (s != sig && s != SIGKILL && s != SIGSTOP && sigismember(set, s) != 1)
			return false;
	return true;
}

void ps_sigmask_thread_start(int sig)
{
	static sigmask_fn real;
	sigmask_fn fn = real_fn(&real, "pthread_sigmask");
	sigset_t cur, one;
	if (!fn || !sig || fn(SIG_BLOCK, NULL, &cur))
		return;
	if (sigismember(&cur, sig) == 1) {
		sigemptyset(&one);
		sigaddset(&one, sig);
		fn(SIG_UNBLOCK, &one, NULL);
		program_blocked = 1;
	} else if (all_others_blocked(&cur, sig)) {
		program_blocked = 1;
	}
}
