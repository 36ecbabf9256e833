/*
 * io recorder: wrappers of the file calls — open/openat/creat (and their
 * 64 variants), close, dup*, fcntl(F_DUPFD), pipe, read/write and their
 * positioned and vectored forms, sync, truncate, allocate, sendfile,
 * copy_file_range and splice. Each runs the real call and records it (see
 * io.h for the rules); results and errno are the real call's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io.h"

static size_t iov_bytes(const struct iovec *iov, int n)
{
	size_t sum = 0;
	for (int i = 0; iov && i < n; i++)
		sum += iov[i].iov_len;
	return sum;
}

/* An open ended: describe the fd (or the failed path) and record it. */
static void end_open(struct io_call *c, unsigned op, int dirfd, const char *path, int rc)
{
	uint64_t end = ps_now();
	int saved = errno;
	struct ps_thread *t = io_enter(c);
	if (t) {
		char full[PATH_MAX];
		ps_io_resolve_path(dirfd, path, full, sizeof(full));
		uint32_t desc = ps_io_desc_new(t, PST_FD_FILE, rc, 0, full, NULL);
		ps_io_write(t, c, end, op, desc, rc >= 0 ? (uint64_t)rc + 1 : 0, 0,
			    rc < 0 ? -(int64_t)saved : rc);
		ps_leave(t);
	}
	errno = saved;
}

/* The mode argument exists only with O_CREAT or O_TMPFILE (whose bits
 * include O_DIRECTORY: all of them must be set), as glibc reads it. */
static mode_t open_mode(int flags, va_list ap)
{
	bool needs = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
	return needs ? va_arg(ap, mode_t) : 0;
}

#define OPEN_WRAPPER(name)                                                                         \
	PS_EXPORT int name(const char *path, int flags, ...)                                       \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, flags);                                                               \
		mode_t mode = open_mode(flags, ap);                                                \
		va_end(ap);                                                                        \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN(&c))                                                                 \
			return real_##name(path, flags, mode);                                     \
		int rc = real_##name(path, flags, mode);                                           \
		end_open(&c, PST_IO_OPEN, AT_FDCWD, path, rc);                                     \
		return rc;                                                                         \
	}
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)

#define OPENAT_WRAPPER(name)                                                                       \
	PS_EXPORT int name(int dirfd, const char *path, int flags, ...)                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, flags);                                                               \
		mode_t mode = open_mode(flags, ap);                                                \
		va_end(ap);                                                                        \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN(&c))                                                                 \
			return real_##name(dirfd, path, flags, mode);                              \
		int rc = real_##name(dirfd, path, flags, mode);                                    \
		end_open(&c, PST_IO_OPEN, dirfd, path, rc);                                        \
		return rc;                                                                         \
	}
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)

#define CREAT_WRAPPER(name)                                                                        \
	PS_EXPORT int name(const char *path, mode_t mode)                                          \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN(&c))                                                                 \
			return real_##name(path, mode);                                            \
		int rc = real_##name(path, mode);                                                  \
		end_open(&c, PST_IO_OPEN, AT_FDCWD, path, rc);                                     \
		return rc;                                                                         \
	}
CREAT_WRAPPER(creat)
CREAT_WRAPPER(creat64)

/* The _FORTIFY_SOURCE forms (Debian builds programs with it): open() with
 * flags the compiler cannot see compiles to __open_2 and friends. The
 * real one still does its checks. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

#define OPEN2_WRAPPER(name, dparams, dargs, dirfd)                                                 \
	PS_EXPORT int name dparams                                                                 \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN(&c))                                                                 \
			return real_##name dargs;                                                  \
		int rc = real_##name dargs;                                                        \
		end_open(&c, PST_IO_OPEN, dirfd, path, rc);                                        \
		return rc;                                                                         \
	}
OPEN2_WRAPPER(__open_2, (const char *path, int flags), (path, flags), AT_FDCWD)
OPEN2_WRAPPER(__open64_2, (const char *path, int flags), (path, flags), AT_FDCWD)
OPEN2_WRAPPER(__openat_2, (int dirfd, const char *path, int flags), (dirfd, path, flags), dirfd)
OPEN2_WRAPPER(__openat64_2, (int dirfd, const char *path, int flags), (dirfd, path, flags), dirfd)

PS_EXPORT int close(int fd)
{
	IO_REAL(close);
	struct io_call c;
	if (!IO_BEGIN(&c)) {
		/* not recorded, but the fd's description ends all the same
		 * (unless the shim closes its own) */
		if (ps_io_on && !ps_in_shim((uintptr_t)__builtin_return_address(0)))
			ps_io_fd_closed(fd);
		return real_close(fd);
	}
	uint64_t end;
	int rc, saved;
	struct ps_thread *t;
	/* the description is looked up before the fd goes away */
	if (!(t = io_enter(&c))) {
		ps_io_fd_closed(fd);
		return real_close(fd);
	}
	uint32_t desc = ps_io_fd_desc(t, fd);
	ps_leave(t);
	ps_io_depth = 1;
	rc = real_close(fd);
	end = ps_now();
	saved = errno;
	ps_io_depth = 0;
	if (rc == 0 || saved != EBADF)
		ps_io_fd_closed(fd); /* Linux frees the fd even on EINTR/EIO */
	if (ps_enter(t)) {
		ps_io_write(t, &c, end, PST_IO_CLOSE, desc, (uint64_t)fd + 1, 0,
			    rc < 0 ? -saved : 0);
		ps_leave(t);
	}
	errno = saved;
	return rc;
}

/* --- dup family: the new fd shares the old one's description --- */

static int after_dup(int oldfd, int rc)
{
	if (rc < 0 || !ps_io_on)
		return rc;
	int saved = errno;
	struct ps_thread *t = ps_self;
	if (t && ps_enter(t)) {
		ps_io_fd_dup(t, oldfd, rc);
		ps_leave(t);
	}
	errno = saved;
	return rc;
}

PS_EXPORT int dup(int fd)
{
	IO_REAL(dup);
	int rc = real_dup(fd);
	return ps_in_shim((uintptr_t)__builtin_return_address(0)) ? rc : after_dup(fd, rc);
}

PS_EXPORT int dup2(int fd, int fd2)
{
	IO_REAL(dup2);
	int rc = real_dup2(fd, fd2);
	return ps_in_shim((uintptr_t)__builtin_return_address(0)) ? rc : after_dup(fd, rc);
}

PS_EXPORT int dup3(int fd, int fd2, int flags)
{
	IO_REAL(dup3);
	int rc = real_dup3(fd, fd2, flags);
	return ps_in_shim((uintptr_t)__builtin_return_address(0)) ? rc : after_dup(fd, rc);
}

#define FCNTL_WRAPPER(name)                                                                        \
	PS_EXPORT int name(int fd, int cmd, ...)                                                   \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, cmd);                                                                 \
		void *arg = va_arg(ap, void *); /* every command takes at most one */              \
		va_end(ap);                                                                        \
		IO_REAL(name);                                                                     \
		int rc = real_##name(fd, cmd, arg);                                                \
		if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) &&                                  \
		    !ps_in_shim((uintptr_t)__builtin_return_address(0)))                           \
			after_dup(fd, rc);                                                         \
		return rc;                                                                         \
	}
FCNTL_WRAPPER(fcntl)
FCNTL_WRAPPER(fcntl64)

/* --- pipes: both ends share one description --- */

static void describe_pair(int fds[2])
{
	if (!ps_io_on)
		return;
	int saved = errno;
	struct ps_thread *t = ps_thread_get();
	if (t && ps_enter(t)) {
		uint32_t d = ps_io_fd_describe(t, fds[0], PST_FD_PIPE, 0);
		ps_io_fd_set(fds[1], d);
		ps_leave(t);
	}
	errno = saved;
}

PS_EXPORT int pipe(int fds[2])
{
	IO_REAL(pipe);
	int rc = real_pipe(fds);
	if (rc == 0 && !ps_in_shim((uintptr_t)__builtin_return_address(0)))
		describe_pair(fds);
	return rc;
}

/* pipe2 is wrapped by the shim already (sigaction.c keeps its own pipe off
 * low numbers); it calls this for the program's pipes. */
void ps_io_pipe_made(int fds[2], uintptr_t from)
{
	if (!ps_in_shim(from))
		describe_pair(fds);
}

/* --- reads and writes --- */

IO_FD_WRAPPER(read, PST_IO_READ, ssize_t, (int fd, void *buf, size_t n), (fd, buf, n), n)
IO_FD_WRAPPER(write, PST_IO_WRITE, ssize_t, (int fd, const void *buf, size_t n), (fd, buf, n), n)
IO_FD_WRAPPER(pread, PST_IO_PREAD, ssize_t, (int fd, void *buf, size_t n, off_t off),
	      (fd, buf, n, off), n)
IO_FD_WRAPPER(pwrite, PST_IO_PWRITE, ssize_t, (int fd, const void *buf, size_t n, off_t off),
	      (fd, buf, n, off), n)
IO_FD_WRAPPER(pread64, PST_IO_PREAD, ssize_t, (int fd, void *buf, size_t n, off64_t off),
	      (fd, buf, n, off), n)
IO_FD_WRAPPER(pwrite64, PST_IO_PWRITE, ssize_t, (int fd, const void *buf, size_t n, off64_t off),
	      (fd, buf, n, off), n)
IO_FD_WRAPPER(readv, PST_IO_READV, ssize_t, (int fd, const struct iovec *iov, int n), (fd, iov, n),
	      iov_bytes(iov, n))
IO_FD_WRAPPER(writev, PST_IO_WRITEV, ssize_t, (int fd, const struct iovec *iov, int n),
	      (fd, iov, n), iov_bytes(iov, n))
IO_FD_WRAPPER(preadv, PST_IO_PREADV, ssize_t, (int fd, const struct iovec *iov, int n, off_t off),
	      (fd, iov, n, off), iov_bytes(iov, n))
IO_FD_WRAPPER(pwritev, PST_IO_PWRITEV, ssize_t, (int fd, const struct iovec *iov, int n, off_t off),
	      (fd, iov, n, off), iov_bytes(iov, n))
IO_FD_WRAPPER(preadv64, PST_IO_PREADV, ssize_t,
	      (int fd, const struct iovec *iov, int n, off64_t off), (fd, iov, n, off),
	      iov_bytes(iov, n))
IO_FD_WRAPPER(pwritev64, PST_IO_PWRITEV, ssize_t,
	      (int fd, const struct iovec *iov, int n, off64_t off), (fd, iov, n, off),
	      iov_bytes(iov, n))
IO_FD_WRAPPER(preadv2, PST_IO_PREADV, ssize_t,
	      (int fd, const struct iovec *iov, int n, off_t off, int flags),
	      (fd, iov, n, off, flags), iov_bytes(iov, n))
IO_FD_WRAPPER(pwritev2, PST_IO_PWRITEV, ssize_t,
	      (int fd, const struct iovec *iov, int n, off_t off, int flags),
	      (fd, iov, n, off, flags), iov_bytes(iov, n))
/* _FORTIFY_SOURCE forms: a read into a buffer of known size */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);
IO_FD_WRAPPER(__read_chk, PST_IO_READ, ssize_t, (int fd, void *buf, size_t n, size_t buflen),
	      (fd, buf, n, buflen), n)
IO_FD_WRAPPER(__pread_chk, PST_IO_PREAD, ssize_t,
	      (int fd, void *buf, size_t n, off_t off, size_t buflen), (fd, buf, n, off, buflen), n)
IO_FD_WRAPPER(__pread64_chk, PST_IO_PREAD, ssize_t,
	      (int fd, void *buf, size_t n, off64_t off, size_t buflen), (fd, buf, n, off, buflen),
	      n)
IO_FD_WRAPPER(fsync, PST_IO_FSYNC, int, (int fd), (fd), 0)
IO_FD_WRAPPER(fdatasync, PST_IO_FDATASYNC, int, (int fd), (fd), 0)
IO_FD_WRAPPER(sync_file_range, PST_IO_SYNC_RANGE, int,
	      (int fd, off64_t off, off64_t n, unsigned int flags), (fd, off, n, flags), n)
IO_FD_WRAPPER(ftruncate, PST_IO_FTRUNCATE, int, (int fd, off_t len), (fd, len), len)
IO_FD_WRAPPER(ftruncate64, PST_IO_FTRUNCATE, int, (int fd, off64_t len), (fd, len), len)
IO_FD_WRAPPER(fallocate, PST_IO_FALLOCATE, int, (int fd, int mode, off_t off, off_t len),
	      (fd, mode, off, len), len)
IO_FD_WRAPPER(fallocate64, PST_IO_FALLOCATE, int, (int fd, int mode, off64_t off, off64_t len),
	      (fd, mode, off, len), len)

/* Two descriptors: charged to the one written (out), obj = the input fd. */
static void end_pair(struct io_call *c, unsigned op, int in, int out, uint64_t asked, int64_t rc)
{
	uint64_t end = ps_now();
	int saved = errno;
	struct ps_thread *t = io_enter(c);
	if (t) {
		uint32_t desc = ps_io_fd_desc(t, out);
		ps_io_write(t, c, end, op, desc, (uint64_t)in + 1, asked, rc < 0 ? -saved : rc);
		ps_leave(t);
	}
	errno = saved;
}

#define PAIR_WRAPPER(name, op, params, args, in, out, asked)                                       \
	PS_EXPORT ssize_t name params                                                              \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN(&c))                                                                 \
			return real_##name args;                                                   \
		ssize_t rc = real_##name args;                                                     \
		end_pair(&c, op, in, out, (uint64_t)(asked), rc);                                  \
		return rc;                                                                         \
	}

PAIR_WRAPPER(sendfile, PST_IO_SENDFILE, (int out, int in, off_t *off, size_t n), (out, in, off, n),
	     in, out, n)
PAIR_WRAPPER(sendfile64, PST_IO_SENDFILE, (int out, int in, off64_t *off, size_t n),
	     (out, in, off, n), in, out, n)
PAIR_WRAPPER(copy_file_range, PST_IO_COPY_RANGE,
	     (int in, off64_t *inoff, int out, off64_t *outoff, size_t n, unsigned int flags),
	     (in, inoff, out, outoff, n, flags), in, out, n)
PAIR_WRAPPER(splice, PST_IO_SPLICE,
	     (int in, off64_t *inoff, int out, off64_t *outoff, size_t n, unsigned int flags),
	     (in, inoff, out, outoff, n, flags), in, out, n)
