/*
 * sigaction and signal wrappers: a program that installs a handler (or
 * SIG_IGN, or SIG_DFL) for the signal the CPU sampler uses gets it, and
 * the sampler moves to another signal first. Queries of that signal show
 * the program's view (the default action), not the sampler's handler.
 * The same for the memory recorder's RSS timer signal (rss.c).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <time.h>

#include "sampler.h"
#include "shim.h"

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

int ps_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	static sigaction_fn real;
	if (!real)
		real = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
	return real(sig, act, old);
}

int ps_signal_is_free(int sig)
{
	struct sigaction old;
	if (ps_real_sigaction(sig, NULL, &old))
		return 0;
	return !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL;
}

int ps_free_rt_signal(void)
{
	for (int s = SIGRTMAX - 1; s >= SIGRTMIN + 4; s--)
		if (ps_signal_is_free(s))
			return s;
	return 0;
}

void ps_signal_quiesce(int sig, void (*stop)(void))
{
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (stop)
		stop();
	struct timespec zero = {0, 0};
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void hide_sampler(struct sigaction *old)
{
	if (old && (ps_cpu_is_handler((const void *)old->sa_sigaction) ||
		    ps_rss_is_handler((const void *)old->sa_sigaction))) {
		memset(old, 0, sizeof(*old));
		old->sa_handler = SIG_DFL;
	}
}

PS_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (act && sig > 0 && sig == ps_cpu_signal())
		ps_cpu_signal_taken(sig);
	if (act && sig > 0 && sig == ps_rss_signal())
		ps_rss_signal_taken(sig); /* the memory recorder's RSS timer */
	int rc = ps_real_sigaction(sig, act, old);
	if (rc == 0)
		hide_sampler(old);
	return rc;
}

/* glibc's signal(): BSD semantics (SA_RESTART, handler stays). */
PS_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	if (sigaction(sig, &sa, &old))
		return SIG_ERR;
	return old.sa_handler;
}
