/*
 * slow_peer, the DNS form: the trigger resolves "localhost" again before
 * every "request", until its lookups have taken 150 ms by its own clock
 * (so the total is known whatever the machine's speed); the control
 * resolves it once and reuses the address for as many requests. Prints
 * the lookups and the time they took ("lookups", "lookup_s").
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <sys/socket.h>

#include "find_common.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static double resolve(const char *host)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	double t = now_s();
	if (getaddrinfo(host, "80", &hints, &res))
		exit(1);
	t = now_s() - t;
	freeaddrinfo(res);
	return t;
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	double spent = 0;
	int lookups = 0, requests = 0;
	if (!trigger) {
		spent = resolve("localhost");
		lookups = 1;
	}
	while (trigger ? spent < 0.150 : requests < 1000) {
		if (trigger) {
			spent += resolve("localhost");
			lookups++;
		}
		requests++;
	}
	printf("lookups %d\nlookup_s %.6f\n", lookups, spent);
	return 0;
}
