/*
 * Known answers: sleeper() sleeps SLEEP_MS (default 100) milliseconds once;
 * spinner() spins on the monotonic clock for SPIN_MS (default 50)
 * milliseconds once; tiny() is called TINY times (default 1000) and takes
 * well under a microsecond. So inclusive times: sleeper ~ SLEEP_MS,
 * spinner ~ SPIN_MS; main ~ their sum. On a loaded machine both can take
 * longer than asked, so each function also measures itself (first to last
 * statement) and the program prints what it measured: sleeper_ms=,
 * spinner_ms=, and main_ms= (main's first to last statement, printed after
 * main returned so the printing is not inside it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile long sink;
static double slept_ms, spun_ms, main_ms;

__attribute__((no_instrument_function)) static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((no_instrument_function)) static void print_main_ms(void)
{
	printf("main_ms=%.3f\n", main_ms);
}

__attribute__((noinline)) void sleeper(int ms)
{
	double t0 = now_ms();
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
	slept_ms = now_ms() - t0;
}

__attribute__((noinline)) void spinner(int ms)
{
	double t0 = now_ms(), end = t0 + ms, t;
	while ((t = now_ms()) < end)
		sink++;
	spun_ms = t - t0;
}

__attribute__((noinline)) void tiny(int i)
{
	sink += i;
}

int main(int argc, char **argv)
{
	double t0 = now_ms();
	int sleep_ms = argc > 1 ? atoi(argv[1]) : 100;
	int spin_ms = argc > 2 ? atoi(argv[2]) : 50;
	int ntiny = argc > 3 ? atoi(argv[3]) : 1000;
	sleeper(sleep_ms);
	spinner(spin_ms);
	for (int i = 0; i < ntiny; i++)
		tiny(i);
	printf("sleeper_ms=%.3f\nspinner_ms=%.3f\n", slept_ms, spun_ms);
	atexit(print_main_ms);
	main_ms = now_ms() - t0;
	return 0;
}
