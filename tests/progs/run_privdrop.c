/*
 * Known answer for recording across a privilege drop. Run as root: fills
 * several trace windows (markers with long names), then drops to the uid
 * and gid given on the command line (setgroups, setgid, setuid), changes
 * directory to / and allocates AFTER_DROP blocks of 4321 bytes from
 * after_drop(). Every one of them must be in the trace.
 *
 *   run_privdrop UID GID [MARKS [JAIL|- [thread]]]   exit 0 when the drop succeeded
 *
 * With "thread", after_drop runs in a thread started after the drop (its
 * trace file cannot be created any more in a root-owned directory).
 * With JAIL it first moves to a mount namespace of its own (unshare; exit 6
 * when not permitted) and chroots into JAIL, where the trace files' paths
 * do not exist.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profshim.h"

#define AFTER_DROP 50000

void *volatile keep;

__attribute__((noinline)) void after_drop(void)
{
	for (int i = 0; i < AFTER_DROP; i++) {
		keep = malloc(4321);
		free(keep);
	}
}

static void *thread_main(void *arg)
{
	(void)arg;
	after_drop();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	uid_t uid = (uid_t)atoi(argv[1]);
	gid_t gid = (gid_t)atoi(argv[2]);
	int marks = argc > 3 ? atoi(argv[3]) : 40000;
	for (int i = 0; i < marks; i++)
		PROFSHIM_MARK("a marker with a long name to fill several trace windows quickly");
	if (argc > 4 && strcmp(argv[4], "-")) {
		if (unshare(CLONE_NEWNS) != 0)
			return 6;
		if (chroot(argv[4]) != 0 || chdir("/") != 0)
			return 7;
	}
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
		return 3;
	if (chdir("/") != 0)
		return 4;
	if (argc > 5 && !strcmp(argv[5], "thread")) {
		pthread_t th;
		if (pthread_create(&th, NULL, thread_main, NULL) != 0)
			return 8;
		pthread_join(th, NULL);
	} else {
		after_drop();
	}
	return 0;
}
