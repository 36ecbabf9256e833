/*
 * Thread files for threads that start after a privilege drop. Files that
 * are open keep working after setuid (their descriptors are kept), but a
 * thread started later must create a file, which a root-owned directory
 * refuses to the new user. So just before a process running as root gives
 * up its uid (the setuid family, hooked here), it creates a few spare
 * thread files; a thread whose own file cannot be created takes one.
 *
 * Spares never used are emptied at the end (removed when the directory
 * still lets us): they are listed nowhere, so readers never see them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "shim.h"

#define SPARES 4
enum { SPARE_NONE = 0, SPARE_READY = 1, SPARE_TAKEN = 2 };

static struct {
	struct pw_stream out;
	uint32_t seq;
	int state;
} spares[SPARES];
static int prepared;

static void spare_path(uint32_t seq, char *path, size_t cap)
{
	char num[24];
	size_t plen = strlen(ps_process_path);
	ps_u64_to_str(num, seq);
	if (plen + 2 + strlen(num) >= cap) {
		path[0] = 0;
		return;
	}
	memcpy(path, ps_process_path, plen);
	memcpy(path + plen, ".t", 2);
	strcpy(path + plen + 2, num);
}

/* Before a drop from root: make the spares (once per process). */
static void prepare(void)
{
	if (!ps_initialized || ps_disabled || geteuid() != 0 ||
	    __atomic_exchange_n(&prepared, 1, __ATOMIC_ACQ_REL))
		return;
	for (unsigned i = 0; i < SPARES; i++) {
		char path[PATH_MAX];
		uint32_t seq = ps_thread_take_seq();
		spare_path(seq, path, sizeof(path));
		if (!path[0] || pw_open(&spares[i].out, path, PST_MAGIC_THREAD, (uint32_t)ps_pid, 0,
					seq, ps_now(), ps_cfg.buffer_bytes) != 0)
			continue;
		spares[i].seq = seq;
		__atomic_store_n(&spares[i].state, SPARE_READY, __ATOMIC_RELEASE);
	}
}

bool ps_spare_take(struct ps_thread *t, pid_t tid, uint64_t start)
{
	for (unsigned i = 0; i < SPARES; i++) {
		int ready = SPARE_READY;
		if (!__atomic_compare_exchange_n(&spares[i].state, &ready, SPARE_TAKEN, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		t->out = spares[i].out;
		t->seq = spares[i].seq;
		/* no record yet: the header can still say whose file it is */
		t->out.hdr->tid = (uint32_t)tid;
		t->out.hdr->start_ticks = start;
		return true;
	}
	return false;
}

void ps_spares_finish(void)
{
	/* Most processes never made spares: the slots (a page each, with
	 * their streams' paths) are not even touched. */
	if (!__atomic_load_n(&prepared, __ATOMIC_ACQUIRE))
		return;
	for (unsigned i = 0; i < SPARES; i++) {
		int ready = SPARE_READY;
		if (!__atomic_compare_exchange_n(&spares[i].state, &ready, SPARE_TAKEN, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		if (unlink(spares[i].out.path) != 0 && spares[i].out.fd >= 0 &&
		    ftruncate(spares[i].out.fd, 0) != 0) {
			/* left as a header-only file; it is listed nowhere */
		}
		pw_abandon(&spares[i].out);
	}
}

void ps_spares_after_fork_child(void)
{
	if (!prepared)
		return; /* no spares: nothing to touch */
	for (unsigned i = 0; i < SPARES; i++) {
		if (spares[i].state == SPARE_READY)
			pw_abandon(&spares[i].out); /* the parent's files */
		spares[i].state = SPARE_NONE;
	}
	prepared = 0;
}

/* --- the setuid family: prepare before a uid is given up --- */

static bool drops(uid_t uid)
{
	return uid != (uid_t)-1 && uid != 0;
}

#define BEFORE_DROP(cond)                                                                          \
	do {                                                                                       \
		if (cond) {                                                                        \
			int saved_ = errno;                                                        \
			ps_thread_open_lazy_self();                                                \
			prepare();                                                                 \
			errno = saved_;                                                            \
		}                                                                                  \
	} while (0)

PS_EXPORT int setuid(uid_t uid)
{
	static int (*real)(uid_t);
	if (!real)
		real = (int (*)(uid_t))dlsym(RTLD_NEXT, "setuid");
	BEFORE_DROP(drops(uid));
	return real(uid);
}

PS_EXPORT int seteuid(uid_t euid)
{
	static int (*real)(uid_t);
	if (!real)
		real = (int (*)(uid_t))dlsym(RTLD_NEXT, "seteuid");
	BEFORE_DROP(drops(euid));
	return real(euid);
}

PS_EXPORT int setreuid(uid_t ruid, uid_t euid)
{
	static int (*real)(uid_t, uid_t);
	if (!real)
		real = (int (*)(uid_t, uid_t))dlsym(RTLD_NEXT, "setreuid");
	BEFORE_DROP(drops(ruid) || drops(euid));
	return real(ruid, euid);
}

PS_EXPORT int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
	static int (*real)(uid_t, uid_t, uid_t);
	if (!real)
		real = (int (*)(uid_t, uid_t, uid_t))dlsym(RTLD_NEXT, "setresuid");
	BEFORE_DROP(drops(ruid) || drops(euid) || drops(suid));
	return real(ruid, euid, suid);
}

/* chroot: the paths of files not made yet may not exist after it. The
 * first thread's file waits for its first record (thread.c): make it now. */
PS_EXPORT int chroot(const char *path)
{
	static int (*real)(const char *);
	if (!real)
		real = (int (*)(const char *))dlsym(RTLD_NEXT, "chroot");
	int saved = errno;
	ps_thread_open_lazy_self();
	errno = saved;
	return real(path);
}
