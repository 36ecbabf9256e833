/*
 * CPU sampler test, a program with its own SIGPROF profiler: it installs a
 * SIGPROF handler with sigaction (and SIGPROF again with signal) and runs
 * ITIMER_PROF at 100 Hz while burning ~300 ms of CPU in own_burn. Prints
 * how many SIGPROFs its handler saw and whether any arrived that the
 * kernel's ITIMER_PROF did not send.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile int ticks, foreign;
static volatile unsigned long sink;

static void on_prof(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == SI_KERNEL)
		ticks++;
	else
		foreign++;
}

static long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) static void own_burn(long ms)
{
	long long until = cpu_ns() + ms * 1000000LL;
	unsigned long x = 1;
	while (cpu_ns() < until)
		for (int i = 0; i < 20000; i++)
			x = x * 6364136223846793005ul + 1;
	sink += x;
}

int main(void)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(SIGPROF, &sa, &old))
		return 2;
	int saw_default = old.sa_handler == SIG_DFL;
	struct itimerval it = {{0, 10000}, {0, 10000}};
	setitimer(ITIMER_PROF, &it, NULL);
	own_burn(300);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_PROF, &it, NULL);
	signal(SIGPROF, SIG_IGN);
	own_burn(50);
	printf("ticks=%d foreign=%d saw_default=%d\n", ticks, foreign, saw_default);
	return 0;
}
