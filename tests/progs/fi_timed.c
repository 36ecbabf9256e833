/*
 * Known answers: sleeper() sleeps SLEEP_MS (default 100) milliseconds once;
 * spinner() spins on the monotonic clock for SPIN_MS (default 50)
 * milliseconds once; tiny() is called TINY times (default 1000) and takes
 * well under a microsecond. So inclusive times: sleeper ~ SLEEP_MS,
 * spinner ~ SPIN_MS; main ~ their sum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile long sink;

__attribute__((no_instrument_function)) static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) void sleeper(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

__attribute__((noinline)) void spinner(int ms)
{
	double end = now_ms() + ms;
	while (now_ms() < end)
		sink++;
}

__attribute__((noinline)) void tiny(int i)
{
	sink += i;
}

int main(int argc, char **argv)
{
	int sleep_ms = argc > 1 ? atoi(argv[1]) : 100;
	int spin_ms = argc > 2 ? atoi(argv[2]) : 50;
	int ntiny = argc > 3 ? atoi(argv[3]) : 1000;
	sleeper(sleep_ms);
	spinner(spin_ms);
	for (int i = 0; i < ntiny; i++)
		tiny(i);
	printf("done\n");
	return 0;
}
