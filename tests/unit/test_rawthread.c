/* Unit tests of the raw thread (preload/core/rawthread.c): it runs, glibc
 * still sees one thread (__libc_single_threaded stays 1), the kernel lists
 * it, every signal is blocked in it, its thread pointer is its own and
 * code built with the stack protector runs there (the canary it reads at
 * %fs:0x28 is the maker's), and a second one is refused while it lives.
 * A forked child has none until it makes its own. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/wait.h>

#include "../../preload/core/rawthread.c"
#include "unit.h"

#if !defined(__x86_64__) || defined(__SANITIZE_ADDRESS__)
/* ASan's runtime needs TLS a raw thread has not (the shim is never built
 * with it). */
int main(void)
{
	printf("%s: no raw threads here (not x86-64, or ASan): skipped\n", __FILE__);
	return UNIT_DONE();
}
#else

static uint32_t started, release;
static uint64_t seen_fs;

/* The stack protector on: a wrong canary would abort the process. */
__attribute__((optimize("stack-protector-all"), noinline)) static uint64_t
guarded_sum(const char *s)
{
	char buf[64];
	uint64_t sum = 0;
	size_t n = strlen(s) < sizeof(buf) - 1 ? strlen(s) : sizeof(buf) - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = s[i];
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)buf[i];
	return sum;
}

static void body(void *arg)
{
	uint64_t fs;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(fs));
	seen_fs = fs;
	*(uint64_t *)arg = guarded_sum("raw thread");
	__atomic_store_n(&started, 1, __ATOMIC_RELEASE);
	zsys_futex(&started, FUTEX_WAKE_PRIVATE, 1, NULL);
	while (!__atomic_load_n(&release, __ATOMIC_ACQUIRE))
		zsys_futex(&release, FUTEX_WAIT_PRIVATE, 0, NULL);
	for (;;) /* parked for good: the process's end takes it */
		zsys_futex(&release, FUTEX_WAIT_PRIVATE, 1, NULL);
}

/* The thread's blocked-signal mask as /proc shows it. */
static unsigned long long sig_blocked(long tid)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/status", tid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "SigBlk:", 7))
			mask = strtoull(line + 7, NULL, 16);
	if (f)
		fclose(f);
	return mask;
}

static void wait_started(void)
{
	while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
		zsys_futex(&started, FUTEX_WAIT_PRIVATE, 0, NULL);
}

int main(void)
{
	if (!pw_raw_thread_supported()) {
		printf("%s: no raw threads on this machine: skipped\n", __FILE__);
		return 0;
	}
	static uint64_t sum;
	CHECK(pw_raw_thread_tid() == 0);
	long tid = pw_raw_thread_start(body, &sum);
	CHECK(tid > 0);
	wait_started();
	CHECK(sum == guarded_sum("raw thread"));
	CHECK(pw_raw_thread_tid() == tid);
	CHECK(__libc_single_threaded == 1); /* glibc did not see it */
	uint64_t fs;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(fs));
	CHECK(seen_fs && seen_fs != fs); /* a thread pointer of its own */
	/* every signal but the two the kernel never lets block */
	unsigned long long all = ~0ull & ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
	CHECK(sig_blocked(tid) == all);
	CHECK(sig_blocked(getpid()) != all); /* the maker's mask is back */
	CHECK(pw_raw_thread_start(body, &sum) == -EBUSY);
	/* a forked child has no raw thread and can make its own */
	pid_t pid = fork();
	if (pid == 0) {
		pw_raw_thread_after_fork_child();
		__atomic_store_n(&started, 0, __ATOMIC_RELEASE);
		int ok = pw_raw_thread_tid() == 0;
		long t = pw_raw_thread_start(body, &sum);
		ok = ok && t > 0 && t != tid;
		if (ok)
			wait_started();
		_exit(ok && __libc_single_threaded == 1 ? 0 : 1);
	}
	int st = -1;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	__atomic_store_n(&release, 1, __ATOMIC_RELEASE);
	zsys_futex(&release, FUTEX_WAKE_PRIVATE, 1, NULL);
	return UNIT_DONE();
}
#endif
