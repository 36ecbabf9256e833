/*
 * small_io: the trigger writes 5000 records of 16 bytes to a file with one
 * write() each, then reads them back 16 bytes at a time; the control
 * writes the same records through a 64 KiB buffer and reads the file in
 * 64 KiB blocks, and then passes a one-byte token through a pipe 1200
 * times, as make's jobserver does (a pipe written and read one byte at a
 * time by the same process is a token channel, not unbuffered data).
 * argv[2]: the directory for the file.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "find_common.h"

#define RECORDS 5000
#define RECORD 16

__attribute__((noinline)) static void write_records(int fd, int buffered)
{
	static char buf[65536];
	size_t used = 0;
	char rec[RECORD];
	for (int i = 0; i < RECORDS; i++) {
		snprintf(rec, sizeof(rec), "rec %10d\n", i);
		if (!buffered) {
			if (write(fd, rec, RECORD) != RECORD)
				exit(1);
			continue;
		}
		if (used + RECORD > sizeof(buf)) {
			if (write(fd, buf, used) != (ssize_t)used)
				exit(1);
			used = 0;
		}
		memcpy(buf + used, rec, RECORD);
		used += RECORD;
	}
	if (used && write(fd, buf, used) != (ssize_t)used)
		exit(1);
}

__attribute__((noinline)) static long read_records(int fd, int buffered)
{
	static char buf[65536];
	long calls = 0;
	ssize_t n;
	while ((n = read(fd, buf, buffered ? sizeof(buf) : RECORD)) > 0)
		calls++;
	return calls;
}

__attribute__((noinline)) static void pass_tokens(void)
{
	int p[2];
	char token = '+';
	if (pipe(p))
		exit(1);
	for (int i = 0; i < 1200; i++)
		if (write(p[1], &token, 1) != 1 || read(p[0], &token, 1) != 1)
			exit(1);
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	char path[4096];
	snprintf(path, sizeof(path), "%s/records.txt", argc > 2 ? argv[2] : "/tmp");
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0)
		return 1;
	write_records(fd, !trigger);
	lseek(fd, 0, SEEK_SET);
	long reads = read_records(fd, !trigger);
	close(fd);
	unlink(path);
	if (!trigger)
		pass_tokens();
	printf("records %d\nreads_with_data %ld\n", RECORDS, reads);
	return 0;
}
