/*
 * fsync_storm: the trigger appends 200 log records and syncs after each;
 * the control appends the same records and syncs once at the end.
 * argv[2]: the directory for the file. Prints the time the syncs took as
 * measured by the program ("sync_s").
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "find_common.h"

#define RECORDS 200

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static double append_record(int fd, int i, int sync)
{
	char rec[64];
	int n = snprintf(rec, sizeof(rec), "record %d committed\n", i);
	if (write(fd, rec, (size_t)n) != n)
		exit(1);
	if (!sync)
		return 0;
	double t = now_s();
	if (fsync(fd))
		exit(1);
	return now_s() - t;
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	char path[4096];
	snprintf(path, sizeof(path), "%s/journal.log", argc > 2 ? argv[2] : "/tmp");
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		return 1;
	double sync_s = 0;
	for (int i = 0; i < RECORDS; i++)
		sync_s += append_record(fd, i, trigger);
	if (!trigger) {
		double t = now_s();
		fsync(fd);
		sync_s = now_s() - t;
	}
	close(fd);
	unlink(path);
	printf("syncs %d\nsync_s %.6f\n", trigger ? RECORDS : 1, sync_s);
	return 0;
}
