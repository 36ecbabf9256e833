/* Known answer: closes every file descriptor, opens files of its own and
 * writes known text into them while recording enough markers to make the
 * shim grow its trace files several times, starts a thread (a new trace
 * file) and checks that its own files hold exactly what it wrote.
 * Prints "files intact" and exits 0 when they do. Markers: MARKS in main,
 * MARKS in the thread. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "profshim.h"

#define MARKS 60000
#define NFILES 8
static const char line[] = "my own data\n";

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < MARKS; i++)
		PROFSHIM_MARK("a marker with a long name to fill the trace window quickly");
	return NULL;
}

static int check(const char *path, int times)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != (ssize_t)(times * (sizeof(line) - 1)))
		return -1;
	for (int i = 0; i < times; i++)
		if (memcmp(buf + i * (sizeof(line) - 1), line, sizeof(line) - 1))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	for (int fd = 0; fd < 1024; fd++)
		close(fd);
	int fds[NFILES];
	char path[NFILES][512];
	for (int i = 0; i < NFILES; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/own-%d.txt", dir, i);
		fds[i] = open(path[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	}
	for (int i = 0; i < MARKS; i++) {
		PROFSHIM_MARK("a marker with a long name to fill the trace window quickly");
		if (i % (MARKS / 4) == 0)
			for (int f = 0; f < NFILES; f++)
				if (write(fds[f], line, sizeof(line) - 1) < 0)
					return 2;
	}
	pthread_t th;
	pthread_create(&th, NULL, worker, NULL);
	pthread_join(th, NULL);
	for (int f = 0; f < NFILES; f++)
		close(fds[f]);
	int ok = 1;
	for (int f = 0; f < NFILES; f++)
		ok &= check(path[f], 4) == 0;
	/* stdout was closed: report through a file. */
	char res[512];
	snprintf(res, sizeof(res), "%s/result.txt", dir);
	int fd = open(res, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	const char *msg = ok ? "files intact\n" : "files damaged\n";
	if (fd >= 0 && write(fd, msg, strlen(msg)) < 0)
		return 2;
	return ok ? 0 : 1;
}
