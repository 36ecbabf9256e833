/*
 * Allocation from a signal handler. Known answers (innermost frame in
 * this program): 5 raised SIGUSR1, each handler run allocates 32 B (freed)
 * and 48 B (kept): 10 allocations, 400 bytes, 5 frees, 5 leaked blocks
 * (240 B).
 * With argument "stress": signals at a high rate interrupt a loop of
 * malloc/free, so handlers land inside the hooks too; must not crash.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

void *volatile kept[16];
volatile int nkept;
volatile long sink;

__attribute__((noinline)) static void on_signal(int sig)
{
	(void)sig;
	void *p = malloc(32);
	sink += (long)(p != NULL);
	free(p);
	if (nkept < 16)
		kept[nkept++] = malloc(48);
}

__attribute__((noinline)) static void on_alarm(int sig)
{
	(void)sig;
	void *p = malloc(16);
	sink += (long)(p != NULL);
	free(p);
}

static void stress(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 200}, {0, 200}};
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		for (int i = 0; i < 1000; i++) {
			void *p = malloc((size_t)(i % 200) + 1);
			sink += (long)(p != NULL);
			free(p);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) <
		 300000000L);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 5; i++)
		raise(SIGUSR1);
	if (argc > 1 && !strcmp(argv[1], "stress"))
		stress();
	return nkept == 5 ? 0 : 1;
}
