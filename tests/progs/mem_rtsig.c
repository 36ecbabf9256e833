/* A program that takes every real-time signal (SIGRTMIN..SIGRTMAX) with
 * handlers of its own, then spins 150 ms touching memory: the shim's RSS
 * timer must move off each signal the program takes and never signal the
 * program's handlers (exit status 1 if one ran). Prints how many handlers
 * it installed. Queries before installing must show the default action. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	(void)sig;
	caught++;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(void)
{
	int n = 0, shown_taken = 0;
	for (int s = SIGRTMAX; s >= SIGRTMIN; s--) {
		struct sigaction sa, old;
		if (sigaction(s, NULL, &old) == 0 && old.sa_handler != SIG_DFL)
			shown_taken++;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		if (sigaction(s, &sa, NULL) == 0)
			n++;
	}
	char *block = malloc(16 << 20);
	double until = now_ms() + 150;
	for (size_t i = 0; now_ms() < until; i = (i + 4096) % (16 << 20))
		block[i]++;
	free(malloc(100)); /* an allocation: RSS read there */
	printf("handlers=%d shown_taken=%d caught=%d\n", n, shown_taken, (int)caught);
	free(block);
	return caught != 0;
}
