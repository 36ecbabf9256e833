/*
 * slow_peer: a client makes 8 requests to a server on 127.0.0.1, each on
 * a connection of its own (connect, send 16 bytes, wait for a 16-byte
 * reply, close). The trigger's server answers after 40 ms, the control's
 * at once. Prints the time the client waited for its replies, measured
 * from each send to the reply ("reply_wait_s").
 */
#define _GNU_SOURCE
#include "find_net.h"

#define REQUESTS 8

static int listener, delay_ms;

static void *serve(void *arg)
{
	(void)arg;
	char buf[16];
	for (int i = 0; i < REQUESTS; i++) {
		int c = accept(listener, NULL, NULL);
		if (c < 0 || recv(c, buf, sizeof(buf), MSG_WAITALL) != sizeof(buf))
			exit(1);
		if (delay_ms)
			usleep((useconds_t)delay_ms * 1000);
		if (send(c, buf, sizeof(buf), 0) != sizeof(buf))
			exit(1);
		close(c);
	}
	return NULL;
}

__attribute__((noinline)) static double ask_server(int port)
{
	char buf[16] = "GET /status    ";
	int s = net_connect(port);
	if (send(s, buf, sizeof(buf), 0) != sizeof(buf))
		exit(1);
	double t = net_now_s();
	if (recv(s, buf, sizeof(buf), MSG_WAITALL) != sizeof(buf))
		exit(1);
	t = net_now_s() - t;
	close(s);
	return t;
}

int main(int argc, char **argv)
{
	delay_ms = trigger_mode(argc, argv) ? 40 : 0;
	int port;
	listener = net_listen(&port);
	pthread_t th;
	pthread_create(&th, NULL, serve, NULL);
	double wait = 0;
	for (int i = 0; i < REQUESTS; i++)
		wait += ask_server(port);
	pthread_join(th, NULL);
	close(listener);
	printf("requests %d\nreply_wait_s %.6f\n", REQUESTS, wait);
	return 0;
}
