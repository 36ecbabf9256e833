/*
 * Trimming trace files a dying process could not cut: a process killed by
 * SIGKILL or a fatal signal leaves its files at their mapped size (up to a
 * window per thread of zeros). The reader cuts them to their data, but only
 * when no live process maps the file any more: a process that is still
 * writing would take SIGBUS on a store past the new end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"

/* Does process pid map the file (dev, ino)? Unknown counts as yes. */
static bool mapped_by(uint32_t pid, ino_t ino)
{
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return false;
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return true;
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long inode;
		/* The inode alone: on overlay file systems maps shows the
		 * lower device, not the one stat gives; a match on another
		 * device only means we do not trim (the safe way). */
		if (sscanf(line, "%*s %*s %*s %*s %llu", &inode) == 1)
			found = inode == (unsigned long long)ino;
	}
	fclose(f);
	return found;
}

void pa_trim_file(const char *path, uint32_t pid, size_t keep)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size > keep &&
	    !mapped_by(pid, st.st_ino))
		if (ftruncate(fd, (off_t)keep) != 0) {
			/* the zero tail stays; readers stop at committed */
		}
	close(fd);
}
