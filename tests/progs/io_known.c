/* Known answers for the io recorder: exact reads and writes of known sizes
 * to a file, a pipe, a UNIX socket and a TCP connection on 127.0.0.1, the
 * same through stdio, dup2 onto stdout, EINTR and a short write. Prints
 * what it did (key=value) for the test to compare. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static char buf[8192];

static void must(int ok, const char *what)
{
	if (!ok) {
		perror(what);
		exit(1);
	}
}

static void file_io(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/data.bin", dir);
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	must(fd >= 0, "open");
	for (int i = 0; i < 10; i++)
		must(write(fd, buf, 100) == 100, "write");
	must(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	for (int i = 0; i < 10; i++)
		must(read(fd, buf, 100) == 100, "read");
	close(fd);
	/* a failed open is charged to its path */
	snprintf(path, sizeof(path), "%s/missing/none", dir);
	must(open(path, O_RDONLY) < 0 && errno == ENOENT, "open missing");
}

static void pipe_io(void)
{
	int p[2];
	must(pipe(p) == 0, "pipe");
	for (int i = 0; i < 7; i++)
		must(write(p[1], buf, 50) == 50, "pipe write");
	for (int i = 0; i < 7; i++)
		must(read(p[0], buf, 50) == 50, "pipe read");
	close(p[0]);
	close(p[1]);
}

static void unix_io(const char *dir)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/sock", dir);
	unlink(a.sun_path);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	must(l >= 0 && bind(l, (void *)&a, sizeof(a)) == 0 && listen(l, 1) == 0, "unix listen");
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	must(c >= 0 && connect(c, (void *)&a, sizeof(a)) == 0, "unix connect");
	int s = accept(l, NULL, NULL);
	must(s >= 0, "unix accept");
	for (int i = 0; i < 5; i++)
		must(send(c, buf, 64, 0) == 64, "unix send");
	for (int i = 0; i < 5; i++)
		must(recv(s, buf, 64, MSG_WAITALL) == 64, "unix recv");
	close(s);
	close(c);
	close(l);
}

static void tcp_io(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	must(l >= 0 && bind(l, (void *)&a, sizeof(a)) == 0 && listen(l, 1) == 0, "tcp listen");
	must(getsockname(l, (void *)&a, &len) == 0, "getsockname");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	must(c >= 0 && connect(c, (void *)&a, sizeof(a)) == 0, "tcp connect");
	int s = accept(l, NULL, NULL);
	must(s >= 0, "tcp accept");
	for (int i = 0; i < 6; i++)
		must(send(c, buf, 128, 0) == 128, "tcp send");
	for (int i = 0; i < 6; i++)
		must(recv(s, buf, 128, MSG_WAITALL) == 128, "tcp recv");
	for (int i = 0; i < 3; i++)
		must(write(s, buf, 200) == 200, "tcp write back");
	for (int i = 0; i < 3; i++)
		must(recv(c, buf, 200, MSG_WAITALL) == 200, "tcp recv back");
	printf("tcp_port=%d\n", ntohs(a.sin_port));
	close(s);
	close(c);
	close(l);
}

static void stdio_io(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/lines.txt", dir);
	FILE *f = fopen(path, "w");
	must(f != NULL, "fopen w");
	for (int i = 0; i < 8; i++)
		fprintf(f, "line %d of the file\n", i); /* 20 bytes each */
	fflush(f);
	fclose(f);
	f = fopen(path, "r");
	must(f != NULL, "fopen r");
	int lines = 0;
	while (fgets(buf, sizeof(buf), f))
		lines++;
	fclose(f);
	printf("stdio_lines=%d\n", lines);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void eintr_and_short(void)
{
	int p[2];
	must(pipe(p) == 0, "pipe");
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_value = {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	ssize_t r = read(p[0], buf, 10); /* nothing to read: interrupted */
	printf("eintr_read=%zd errno=%d\n", r, r < 0 ? errno : 0);
	/* a short write: a one-page pipe, non-blocking, asked for more */
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	ssize_t w = write(p[1], buf, 6000);
	printf("short_write=%zd\n", w);
	close(p[0]);
	close(p[1]);
}

static void dup2_stdout(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/stdout.txt", dir);
	fflush(stdout);
	int saved = dup(1);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	must(fd >= 0 && dup2(fd, 1) == 1, "dup2");
	close(fd);
	for (int i = 0; i < 3; i++)
		must(write(1, "0123456789", 10) == 10, "write 1");
	dup2(saved, 1);
	close(saved);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	memset(buf, 'x', sizeof(buf));
	file_io(dir);
	pipe_io();
	unix_io(dir);
	tcp_io();
	stdio_io(dir);
	eintr_and_short();
	dup2_stdout(dir);
	printf("done\n");
	return 0;
}
