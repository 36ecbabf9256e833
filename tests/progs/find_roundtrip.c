/*
 * chatty_network, the round-trip form: a client asks an echo server on
 * 127.0.0.1 for 1200 small values one at a time (send 16 bytes, wait for
 * the 16-byte reply). The trigger waits for each reply before the next
 * request; the control pipelines them: it sends all the requests in one
 * buffer, then reads the replies. Prints how many round trips it made.
 */
#define _GNU_SOURCE
#include "find_net.h"

#define REQUESTS 1200
#define SIZE 16

static int listener;

static void *serve(void *arg)
{
	(void)arg;
	static char buf[REQUESTS * SIZE];
	int c = accept(listener, NULL, NULL);
	ssize_t n;
	/* echo whatever arrives, as it arrives */
	while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
		if (send(c, buf, (size_t)n, 0) != n)
			exit(1);
	close(c);
	return NULL;
}

__attribute__((noinline)) static int fetch_values(int s, int pipelined)
{
	static char out[REQUESTS * SIZE], in[REQUESTS * SIZE];
	for (int i = 0; i < REQUESTS; i++)
		snprintf(out + i * SIZE, SIZE, "GET key:%06d", i);
	if (pipelined) {
		if (send(s, out, sizeof(out), 0) != (ssize_t)sizeof(out) ||
		    recv(s, in, sizeof(in), MSG_WAITALL) != (ssize_t)sizeof(in))
			exit(1);
		return 0;
	}
	for (int i = 0; i < REQUESTS; i++)
		if (send(s, out + i * SIZE, SIZE, 0) != SIZE ||
		    recv(s, in + i * SIZE, SIZE, MSG_WAITALL) != SIZE)
			exit(1);
	return REQUESTS;
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	int port;
	listener = net_listen(&port);
	pthread_t th;
	pthread_create(&th, NULL, serve, NULL);
	int s = net_connect(port);
	int trips = fetch_values(s, !trigger);
	close(s);
	pthread_join(th, NULL);
	close(listener);
	printf("round_trips %d\n", trips);
	return 0;
}
