/*
 * Instrumented signal handler: an interval timer (ITIMER_REAL) sends
 * SIGALRM every 200 us while main runs a
 * call-heavy loop of LOOPS (default 2000000) calls of busy(). The handler
 * calls on_signal() -> handler_work(). Prints the exact number of handler
 * calls; main's count of busy() is exactly LOOPS, whatever the handler did.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

static volatile long sink;
static volatile long handled;

__attribute__((noinline)) void handler_work(int sig)
{
	sink += sig;
}

__attribute__((noinline)) void on_signal(int sig)
{
	handled++;
	handler_work(sig);
}

__attribute__((noinline)) void busy(long i)
{
	sink += i;
}

int main(int argc, char **argv)
{
	long loops = argc > 1 ? atol(argv[1]) : 2000000;
	struct sigaction sa;
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 200}, {0, 200}};
	setitimer(ITIMER_REAL, &it, NULL);
	for (long i = 0; i < loops; i++)
		busy(i);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	printf("handled=%ld\n", handled);
	return 0;
}
