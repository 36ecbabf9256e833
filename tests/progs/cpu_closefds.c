/*
 * CPU sampler test, a program that closes every descriptor: a worker
 * thread burns, the main thread closes every descriptor above 2 and puts a
 * file of its own on each of those numbers, then lets the worker end. The
 * shim must not close or touch the program's file at the worker's end:
 * prints "kept=N of N".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile int go;
static volatile unsigned long sink;

static void *worker(void *arg)
{
	(void)arg;
	unsigned long x = 1;
	while (!go)
		for (int i = 0; i < 10000; i++)
			x = x * 6364136223846793005ul + 1;
	sink += x;
	return NULL;
}

int main(void)
{
	pthread_t th;
	pthread_create(&th, NULL, worker, NULL);
	struct timespec ts = {0, 50000000};
	nanosleep(&ts, NULL);
	int fds[4096], n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d)) && n < 4096) {
		int fd = atoi(e->d_name);
		if (fd > 2 && fd != dirfd(d))
			fds[n++] = fd;
	}
	if (d)
		closedir(d);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	int mine = open("/dev/null", O_RDONLY);
	for (int i = 0; i < n; i++)
		if (fds[i] != mine)
			dup2(mine, fds[i]);
	go = 1;
	pthread_join(th, NULL);
	int kept = 0;
	for (int i = 0; i < n; i++)
		kept += fcntl(fds[i], F_GETFD) >= 0;
	printf("kept=%d of %d\n", kept, n);
	return 0;
}
