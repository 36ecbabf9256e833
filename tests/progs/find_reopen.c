/*
 * reopened_file: the trigger opens, reads and closes one settings file
 * 300 times (once per "request"); the control opens it once and reads it
 * with pread 300 times. argv[2]: the directory for the file.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "find_common.h"

#define REQUESTS 300

__attribute__((noinline)) static int read_settings(const char *path, int keep_fd)
{
	char buf[256];
	int fd = keep_fd >= 0 ? keep_fd : open(path, O_RDONLY);
	if (fd < 0)
		exit(1);
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	if (keep_fd < 0)
		close(fd);
	return n > 0 ? buf[0] : 0;
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	char path[4096];
	snprintf(path, sizeof(path), "%s/settings.conf", argc > 2 ? argv[2] : "/tmp");
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	fputs("threads = 4\nlevel = 3\n", f);
	fclose(f);
	int fd = trigger ? -1 : open(path, O_RDONLY);
	long sum = 0;
	for (int i = 0; i < REQUESTS; i++)
		sum += read_settings(path, fd);
	if (fd >= 0)
		close(fd);
	unlink(path);
	printf("opens %d\nsum %ld\n", trigger ? REQUESTS : 1, sum);
	return 0;
}
