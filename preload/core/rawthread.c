/*
 * A raw thread: made with clone() directly, not pthread_create, so glibc
 * never learns the process has a second thread. Why: the first
 * pthread_create clears glibc's single-thread flag (SINGLE_THREAD_P, which
 * is __libc_single_threaded in glibc 2.36) for good, and from then on every
 * malloc and free takes the arena lock and links fastbins with
 * compare-and-swap: +6% CPU on a single-threaded allocation-heavy program
 * with only an idle thread beside it (measured: docs in README,
 * "Compression"). The compressor (zthread.c) runs in such a thread.
 *
 * What the thread gets:
 *  - its own stack (mmap, a guard page below it), never freed: a forked
 *    child reuses its copy for its own compressor;
 *  - its own thread pointer (CLONE_SETTLS) to a small zeroed block that
 *    holds only what compiled code reads there: the block's own address
 *    (tcb, self) and the stack-protector canary, copied from the thread
 *    that makes it (libzstd is built with -fstack-protector-strong and
 *    reads %fs:0x28; it uses no other TLS). It never shares the maker's
 *    thread pointer: that thread may end and its block be reused.
 *    glibc's TLS (errno) and the shim's TLS are not there: the code run
 *    must not touch them (raw system calls, zsys.h);
 *  - every signal blocked from its first instruction (the mask is set in
 *    the maker around clone and inherited), so no handler of the program
 *    or of the shim ever runs on it and process signals go elsewhere;
 *  - CLONE_CHILD_CLEARTID: the kernel clears the tid word when it ends;
 *  - glibc's clone flags for a thread (CLONE_FS included: see below).
 * It dies with the process (exit_group, exec, a fatal signal) and is not
 * copied by fork. glibc's setuid() family changes the credentials of the
 * threads glibc knows: this one keeps the old ones; it only ever writes
 * to descriptors the program's threads handed it. Like any second thread
 * it makes the kernel refuse unshare(CLONE_NEWUSER) (which wants a
 * single-threaded process) and setns() into a mount namespace (which
 * wants an unshared fs_struct).
 */
#define _GNU_SOURCE
#include "rawthread.h"

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "zsys.h"

#define GUARD_BYTES 4096u
#define STACK_BYTES (512u * 1024u) /* zstd at level 19 uses a few KiB */
/* Room below the thread pointer, where initial-exec TLS would live: never
 * used, it only keeps a stray access inside our own memory. */
#define TLS_PAD_BYTES (16u * 1024u)
#define TCB_BYTES 4096u
#define REGION_BYTES (GUARD_BYTES + STACK_BYTES + TLS_PAD_BYTES + TCB_BYTES)

static void *region; /* kept for the process's life (and its forks') */
static pid_t tid_word;

#if defined(__x86_64__)

/* x86-64 thread control block: what compiled code reads at %fs. */
#define TCB_SELF0 0x00	/* tcbhead_t.tcb */
#define TCB_SELF1 0x10	/* tcbhead_t.self */
#define TCB_CANARY 0x28 /* stack_guard */
#define TCB_PTRGUARD 0x30

static uint64_t fs_word(unsigned off)
{
	uint64_t v;
	__asm__ volatile("mov %%fs:(%1), %0" : "=r"(v) : "r"((uint64_t)off));
	return v;
}

static void fill_tcb(uint8_t *tcb)
{
	memset(tcb, 0, TCB_BYTES);
	uint64_t self = (uint64_t)(uintptr_t)tcb, canary = fs_word(TCB_CANARY),
		 ptrguard = fs_word(TCB_PTRGUARD);
	memcpy(tcb + TCB_SELF0, &self, 8);
	memcpy(tcb + TCB_SELF1, &self, 8);
	memcpy(tcb + TCB_CANARY, &canary, 8);
	memcpy(tcb + TCB_PTRGUARD, &ptrguard, 8);
}

/* clone() whose child runs fn(arg) on `stack` and then exits; the parent
 * gets the child's id or -errno. fn and arg ride in registers the kernel
 * keeps for the child (r9, r12). */
static long clone_run(unsigned long flags, void *stack, pid_t *tid, void *tls, void (*fn)(void *),
		      void *arg)
{
	register long r10 __asm__("r10") = (long)tid; /* child_tid */
	register long r8 __asm__("r8") = (long)tls;
	register long r9 __asm__("r9") = (long)fn;
	register long r12 __asm__("r12") = (long)arg;
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 /* the child, on its own stack */
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r12, %%rdi\n\t"
			 "and $-16, %%rsp\n\t"
			 "call *%%r9\n\t"
			 "mov %[exit], %%eax\n\t"
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "hlt\n\t"
			 "1:\n\t"
			 : "=a"(ret)
			 : "0"((long)SYS_clone), "D"(flags), "S"(stack), "d"(tid), "r"(r10),
			   "r"(r8), "r"(r9), "r"(r12), [exit] "i"(SYS_exit)
			 : "rcx", "r11", "memory");
	return ret;
}

int pw_raw_thread_supported(void)
{
	return 1;
}

long pw_raw_thread_start(void (*fn)(void *), void *arg)
{
	if (__atomic_load_n(&tid_word, __ATOMIC_ACQUIRE))
		return -EBUSY;
	if (!region) {
		void *m = zsys_mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED)
			return -ENOMEM;
		zsys6(SYS_mprotect, (long)m, GUARD_BYTES, PROT_NONE, 0, 0, 0);
		region = m;
	}
	uint8_t *base = region;
	uint8_t *stack_top = base + GUARD_BYTES + STACK_BYTES;
	uint8_t *tcb = stack_top + TLS_PAD_BYTES;
	fill_tcb(tcb);
	/* glibc's own flags. The thread uses no paths and would not need
	 * CLONE_FS (without it the program's setns() into a mount namespace
	 * would work), but valgrind runs only clones with CLONE_VM|CLONE_FS|
	 * CLONE_FILES and stops the program on any other. */
	unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			      CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
			      CLONE_CHILD_CLEARTID;
	uint64_t all = ~(uint64_t)0, old = 0;
	zsys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&old, 8, 0, 0);
	long r = clone_run(flags, stack_top, &tid_word, tcb, fn, arg);
	zsys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, 8, 0, 0);
	return r;
}

#else

int pw_raw_thread_supported(void)
{
	return 0;
}

long pw_raw_thread_start(void (*fn)(void *), void *arg)
{
	(void)fn;
	(void)arg;
	(void)region;
	return -ENOSYS;
}

#endif

pid_t pw_raw_thread_tid(void)
{
	return __atomic_load_n(&tid_word, __ATOMIC_ACQUIRE);
}

void pw_raw_thread_after_fork_child(void)
{
	tid_word = 0;
}
