/*
 * Known answers for failed accepts (tests/io.bats): a non-blocking TCP
 * listening socket on 127.0.0.1 (any port), then 3 accept() calls with
 * no client, each failing with EAGAIN; prints the port and the count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 4) ||
	    getsockname(l, (void *)&a, &len))
		return 1;
	int eagain = 0;
	for (int i = 0; i < 3; i++)
		eagain += accept(l, NULL, NULL) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	printf("port=%u eagain=%d\n", ntohs(a.sin_port), eagain);
	close(l);
	return eagain == 3 ? 0 : 1;
}
