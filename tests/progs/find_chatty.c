/*
 * chatty_network: a client sends 2000 messages of 24 bytes to a server
 * thread on 127.0.0.1. The trigger sends each message with its own send();
 * the control builds them in one buffer and sends it in one call. The
 * server reads until the client closes and prints what it got.
 */
#define _GNU_SOURCE
#include "find_net.h"

#define MESSAGES 2000
#define MESSAGE 24

static int listener;
static long received;

static void *serve(void *arg)
{
	(void)arg;
	static char buf[65536];
	int c = accept(listener, NULL, NULL);
	ssize_t n;
	while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
		received += n;
	close(c);
	return NULL;
}

__attribute__((noinline)) static void send_metrics(int s, int batched)
{
	static char out[MESSAGES * MESSAGE + 1];
	for (int i = 0; i < MESSAGES; i++) {
		char *m = batched ? out + i * MESSAGE : out;
		snprintf(m, MESSAGE + 1, "metric.%06d:1|c      \n", i);
		if (!batched && send(s, m, MESSAGE, 0) != MESSAGE)
			exit(1);
	}
	if (batched && send(s, out, MESSAGES * MESSAGE, 0) != MESSAGES * MESSAGE)
		exit(1);
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	int port;
	listener = net_listen(&port);
	pthread_t th;
	pthread_create(&th, NULL, serve, NULL);
	int s = net_connect(port);
	send_metrics(s, !trigger);
	close(s);
	pthread_join(th, NULL);
	close(listener);
	printf("messages %d\nreceived %ld\n", MESSAGES, received);
	return received == MESSAGES * MESSAGE ? 0 : 1;
}
