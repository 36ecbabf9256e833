/*
 * System calls for the compressor that never touch errno or any other
 * thread-local storage: the compressor may run as a raw thread that glibc
 * does not know about (rawthread.c), whose thread pointer leads to no
 * glibc TLS. glibc's wrappers (and syscall()) write errno on failure, and
 * its cancellable ones (pwrite, close) read the thread's cancel state;
 * the shim's I/O hooks read their own TLS. These return the kernel's
 * answer: a value >= 0, or -errno.
 *
 * On x86-64 they are inline system calls. Elsewhere no raw thread is made
 * (zthread.c then uses pthread_create), so glibc's calls are fine there.
 */
#ifndef PROFSHIM_ZSYS_H
#define PROFSHIM_ZSYS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#if defined(__x86_64__)
#define PW_RAW_SYSCALLS 1

static inline long zsys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#else
#define PW_RAW_SYSCALLS 0

/* glibc's syscall(): only ever called from a glibc thread here. */
static inline long zsys6(long nr, long a, long b, long c, long d, long e, long f)
{
	int saved = errno;
	long r = syscall(nr, a, b, c, d, e, f);
	if (r == -1) {
		r = -errno;
		errno = saved;
	}
	return r;
}
#endif

static inline long zsys_pwrite(int fd, const void *p, size_t n, uint64_t off)
{
	return zsys6(SYS_pwrite64, fd, (long)p, (long)n, (long)off, 0, 0);
}

static inline long zsys_pwritev(int fd, const struct iovec *iov, int n, uint64_t off)
{
	/* the kernel takes the offset as (low, high) longs and rebuilds it
	 * as high << 32 | low on 32-bit; a 64-bit kernel shifts high out */
	return zsys6(SYS_pwritev, fd, (long)iov, n, (long)off, (long)(off >> 32), 0);
}

static inline int zsys_fstat(int fd, struct stat *st)
{
#ifdef SYS_fstat
	return (int)zsys6(SYS_fstat, fd, (long)st, 0, 0, 0, 0);
#else
	return (int)zsys6(SYS_newfstatat, fd, (long)"", (long)st, AT_EMPTY_PATH, 0, 0);
#endif
}

static inline int zsys_close(int fd)
{
	return (int)zsys6(SYS_close, fd, 0, 0, 0, 0, 0);
}

/* MAP_FAILED on failure, as mmap(). */
static inline void *zsys_mmap(void *addr, size_t n, int prot, int flags, int fd, uint64_t off)
{
	long r = zsys6(SYS_mmap, (long)addr, (long)n, prot, flags, fd, (long)off);
	return r < 0 && r > -4096 ? MAP_FAILED : (void *)r;
}

static inline int zsys_munmap(void *p, size_t n)
{
	return (int)zsys6(SYS_munmap, (long)p, (long)n, 0, 0, 0, 0);
}

static inline int zsys_madvise(void *p, size_t n, int advice)
{
	return (int)zsys6(SYS_madvise, (long)p, (long)n, advice, 0, 0, 0);
}

static inline int zsys_fallocate(int fd, int mode, uint64_t off, uint64_t len)
{
	return (int)zsys6(SYS_fallocate, fd, mode, (long)off, (long)len, 0, 0);
}

static inline long zsys_futex(uint32_t *addr, int op, uint32_t val, const void *timeout)
{
	return zsys6(SYS_futex, (long)addr, op, val, (long)timeout, 0, 0);
}

#endif
