/*
 * Descriptors the shim keeps open for a long time (perf events, the
 * unwinder's validation pipe) live at high numbers, out of the range
 * programs close in bulk (for fd in 3..1023) or dup2 onto.
 * Async-signal-safe.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "shim.h"

int ps_fd_move_high(int fd)
{
	struct rlimit rl;
	long base = 512;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		base = pw_high_fd_base(rl.rlim_cur == RLIM_INFINITY ? 0 : (long)rl.rlim_cur,
				       rl.rlim_cur == RLIM_INFINITY);
	if (fd < 0 || fd >= base)
		return fd;
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (hi < 0)
		return fd;
	close(fd);
	return hi;
}
