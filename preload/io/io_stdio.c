/*
 * io recorder: stdio. glibc's stdio reaches the kernel through internal
 * calls a preload cannot see, so the stdio calls that can block are
 * wrapped themselves and charged to their stream's descriptor (fileno):
 * fopen/fdopen/fclose, fread/fwrite, fgets/fputs/puts, getline/getdelim,
 * fprintf/printf/vfprintf/vprintf (and the _FORTIFY_SOURCE forms), fflush,
 * and the _unlocked forms of fread, fwrite, fgets, fputs and fflush.
 * Bytes are those the call moved between the program and the stream
 * (STDIO_READ/STDIO_WRITE records), the time is the call's, including any
 * kernel read or write it made. Streams without a descriptor (fmemopen,
 * open_memstream) are not I/O and are not recorded. Single-character calls
 * (fputc, getc, ...) are not wrapped: they almost never reach the kernel.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io.h"

/* stdio.h may define these as macros when optimizing */
#undef fread_unlocked
#undef fwrite_unlocked
#undef fgets_unlocked
#undef fputs_unlocked
#undef fflush_unlocked

/* Record a stdio call on stream f (result: bytes moved, or -errno). */
static void end_stdio(struct io_call *c, unsigned op, FILE *f, uint64_t asked, int64_t result)
{
	int fd = f ? fileno_unlocked(f) : -1;
	if (fd < 0) {
		ps_io_depth = 0;
		if (c->published) /* never a call to record at the end */
			__atomic_store_n(&c->t->io_open_start, 0, __ATOMIC_RELEASE);
		return;
	}
	ps_io_end_fd(c, op, fd, asked, result);
}

static void end_fopen(struct io_call *c, const char *path, FILE *f)
{
	uint64_t end = ps_now();
	int saved = errno;
	struct ps_thread *t = io_enter(c);
	if (t) {
		int fd = f ? fileno_unlocked(f) : -1;
		char full[PATH_MAX];
		ps_io_resolve_path(AT_FDCWD, path, full, sizeof(full));
		uint32_t desc = ps_io_desc_new(t, PST_FD_FILE, fd, 0, full, NULL);
		ps_io_write(t, c, end, PST_IO_FOPEN, desc, fd >= 0 ? (uint64_t)fd + 1 : 0, 0,
			    f ? fd : -(int64_t)saved);
		ps_leave(t);
	}
	errno = saved;
}

#define FOPEN_WRAPPER(name)                                                                        \
	PS_EXPORT FILE *name(const char *__restrict path, const char *__restrict mode)             \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN(&c))                                                                 \
			return real_##name(path, mode);                                            \
		FILE *f = real_##name(path, mode);                                                 \
		end_fopen(&c, path, f);                                                            \
		return f;                                                                          \
	}
FOPEN_WRAPPER(fopen)
FOPEN_WRAPPER(fopen64)

PS_EXPORT int fclose(FILE *f)
{
	IO_REAL(fclose);
	int fd = f ? fileno_unlocked(f) : -1;
	struct io_call c;
	if (!IO_BEGIN(&c)) {
		if (fd >= 0 && ps_io_on && !ps_in_shim((uintptr_t)__builtin_return_address(0)))
			ps_io_fd_closed(fd);
		return real_fclose(f);
	}
	uint32_t desc = 0;
	struct ps_thread *t = io_enter(&c);
	if (t) {
		desc = ps_io_fd_desc(t, fd);
		ps_leave(t);
	}
	ps_io_depth = 1;
	int rc = real_fclose(f);
	uint64_t end = ps_now();
	int saved = errno;
	ps_io_depth = 0;
	if (fd >= 0)
		ps_io_fd_closed(fd);
	if (t && fd >= 0 && ps_enter(t)) {
		ps_io_write(t, &c, end, PST_IO_FCLOSE, desc, (uint64_t)fd + 1, 0,
			    rc ? -(int64_t)saved : 0);
		ps_leave(t);
	}
	errno = saved;
	return rc;
}

/* The stream's descriptor, published for a read that may block at exit. */
static inline int stream_fd(FILE *f)
{
	return f ? fileno_unlocked(f) : -1;
}

static int64_t stdio_err(FILE *f, int saved)
{
	return f && ferror_unlocked(f) ? -(int64_t)(saved ? saved : EIO) : 0;
}

/*
 * fread/fwrite/fgets/fputs/fflush and their _unlocked forms share one body
 * each: the _unlocked forms differ only in not taking the stream's lock.
 */
#define FREAD_WRAPPER(name)                                                                        \
	PS_EXPORT size_t name(void *__restrict buf, size_t size, size_t n, FILE *__restrict f)     \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN_FD(&c, PST_IO_STDIO_READ, stream_fd(f)))                             \
			return real_##name(buf, size, n, f);                                       \
		size_t rc = real_##name(buf, size, n, f);                                          \
		int saved = errno;                                                                 \
		int64_t res = rc ? (int64_t)(rc * size) : stdio_err(f, saved);                     \
		errno = saved;                                                                     \
		end_stdio(&c, PST_IO_STDIO_READ, f, (uint64_t)size *n, res);                       \
		return rc;                                                                         \
	}

#define FWRITE_WRAPPER(name)                                                                       \
	PS_EXPORT size_t name(const void *__restrict buf, size_t size, size_t n,                   \
			      FILE *__restrict f)                                                  \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN(&c))                                                                 \
			return real_##name(buf, size, n, f);                                       \
		size_t rc = real_##name(buf, size, n, f);                                          \
		int saved = errno;                                                                 \
		int64_t res =                                                                      \
		    rc == n || !ferror_unlocked(f) ? (int64_t)(rc * size) : -(int64_t)saved;       \
		errno = saved;                                                                     \
		end_stdio(&c, PST_IO_STDIO_WRITE, f, (uint64_t)size *n, res);                      \
		return rc;                                                                         \
	}

#define FGETS_WRAPPER(name)                                                                        \
	PS_EXPORT char *name(char *__restrict s, int n, FILE *__restrict f)                        \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN_FD(&c, PST_IO_STDIO_READ, stream_fd(f)))                             \
			return real_##name(s, n, f);                                               \
		char *rc = real_##name(s, n, f);                                                   \
		int saved = errno;                                                                 \
		int64_t res = rc ? (int64_t)strlen(rc) : stdio_err(f, saved);                      \
		errno = saved;                                                                     \
		end_stdio(&c, PST_IO_STDIO_READ, f, n > 0 ? (uint64_t)n - 1 : 0, res);             \
		return rc;                                                                         \
	}

#define FPUTS_WRAPPER(name)                                                                        \
	PS_EXPORT int name(const char *__restrict s, FILE *__restrict f)                           \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN(&c))                                                                 \
			return real_##name(s, f);                                                  \
		int rc = real_##name(s, f);                                                        \
		size_t len = strlen(s);                                                            \
		end_stdio(&c, PST_IO_STDIO_WRITE, f, len, rc >= 0 ? (int64_t)len : io_result(-1)); \
		return rc;                                                                         \
	}

/* name(NULL) flushes every stream, not one file: not recorded. */
#define FFLUSH_WRAPPER(name)                                                                       \
	PS_EXPORT int name(FILE *f)                                                                \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!f || !IO_BEGIN(&c))                                                           \
			return real_##name(f);                                                     \
		int rc = real_##name(f);                                                           \
		end_stdio(&c, PST_IO_STDIO_FLUSH, f, 0, rc ? io_result(-1) : 0);                   \
		return rc;                                                                         \
	}

FREAD_WRAPPER(fread)
FREAD_WRAPPER(fread_unlocked)
FWRITE_WRAPPER(fwrite)
FWRITE_WRAPPER(fwrite_unlocked)
FGETS_WRAPPER(fgets)
FGETS_WRAPPER(fgets_unlocked)
FPUTS_WRAPPER(fputs)
FPUTS_WRAPPER(fputs_unlocked)
FFLUSH_WRAPPER(fflush)
FFLUSH_WRAPPER(fflush_unlocked)

PS_EXPORT int puts(const char *s)
{
	IO_REAL(puts);
	struct io_call c;
	if (!IO_BEGIN(&c))
		return real_puts(s);
	int rc = real_puts(s);
	size_t len = strlen(s) + 1;
	end_stdio(&c, PST_IO_STDIO_WRITE, stdout, len, rc >= 0 ? (int64_t)len : io_result(-1));
	return rc;
}

#define GETDELIM_BODY(call)                                                                        \
	struct io_call c;                                                                          \
	if (!IO_BEGIN_FD(&c, PST_IO_STDIO_READ, stream_fd(f)))                                     \
		return real_##call;                                                                \
	ssize_t rc = real_##call;                                                                  \
	int saved = errno;                                                                         \
	int64_t res = rc >= 0 ? rc : stdio_err(f, saved);                                          \
	errno = saved;                                                                             \
	end_stdio(&c, PST_IO_STDIO_READ, f, 0, res);                                               \
	return rc

PS_EXPORT ssize_t getline(char **__restrict line, size_t *__restrict n, FILE *__restrict f)
{
	IO_REAL(getline);
	GETDELIM_BODY(getline(line, n, f));
}

PS_EXPORT ssize_t getdelim(char **__restrict line, size_t *__restrict n, int delim,
			   FILE *__restrict f)
{
	IO_REAL(getdelim);
	GETDELIM_BODY(getdelim(line, n, delim, f));
}

/* The _FORTIFY_SOURCE forms: a read into a buffer of known size. */
size_t __fread_chk(void *__restrict buf, size_t buflen, size_t size, size_t n, FILE *__restrict f);
size_t __fread_unlocked_chk(void *__restrict buf, size_t buflen, size_t size, size_t n,
			    FILE *__restrict f);
char *__fgets_chk(char *__restrict s, size_t size, int n, FILE *__restrict f);
char *__fgets_unlocked_chk(char *__restrict s, size_t size, int n, FILE *__restrict f);

#define FREAD_CHK_WRAPPER(name)                                                                    \
	PS_EXPORT size_t name(void *__restrict buf, size_t buflen, size_t size, size_t n,          \
			      FILE *__restrict f)                                                  \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN_FD(&c, PST_IO_STDIO_READ, stream_fd(f)))                             \
			return real_##name(buf, buflen, size, n, f);                               \
		size_t rc = real_##name(buf, buflen, size, n, f);                                  \
		int saved = errno;                                                                 \
		int64_t res = rc ? (int64_t)(rc * size) : stdio_err(f, saved);                     \
		errno = saved;                                                                     \
		end_stdio(&c, PST_IO_STDIO_READ, f, (uint64_t)size *n, res);                       \
		return rc;                                                                         \
	}
FREAD_CHK_WRAPPER(__fread_chk)
FREAD_CHK_WRAPPER(__fread_unlocked_chk)

#define FGETS_CHK_WRAPPER(name)                                                                    \
	PS_EXPORT char *name(char *__restrict s, size_t size, int n, FILE *__restrict f)           \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN_FD(&c, PST_IO_STDIO_READ, stream_fd(f)))                             \
			return real_##name(s, size, n, f);                                         \
		char *rc = real_##name(s, size, n, f);                                             \
		int saved = errno;                                                                 \
		int64_t res = rc ? (int64_t)strlen(rc) : stdio_err(f, saved);                      \
		errno = saved;                                                                     \
		end_stdio(&c, PST_IO_STDIO_READ, f, n > 0 ? (uint64_t)n - 1 : 0, res);             \
		return rc;                                                                         \
	}
FGETS_CHK_WRAPPER(__fgets_chk)
FGETS_CHK_WRAPPER(__fgets_unlocked_chk)

/* --- the printf family, all through the real vfprintf --- */

typedef int (*vfprintf_fn)(FILE *, const char *, va_list);
typedef int (*vfprintf_chk_fn)(FILE *, int, const char *, va_list);

static vfprintf_fn real_vfprintf_fn(void)
{
	static vfprintf_fn real;
	if (PS_UNLIKELY(!real))
		real = (vfprintf_fn)dlsym(RTLD_NEXT, "vfprintf");
	return real;
}

static vfprintf_chk_fn real_vfprintf_chk_fn(void)
{
	static vfprintf_chk_fn real;
	if (PS_UNLIKELY(!real))
		real = (vfprintf_chk_fn)dlsym(RTLD_NEXT, "__vfprintf_chk");
	return real;
}

/* flag < 0: plain vfprintf; else the fortified one with that flag. */
static inline __attribute__((always_inline)) int do_vfprintf(uintptr_t site, FILE *f, int flag,
							     const char *fmt, va_list ap)
{
	struct io_call c;
	bool rec = io_begin(&c, site);
	int rc =
	    flag < 0 ? real_vfprintf_fn()(f, fmt, ap) : real_vfprintf_chk_fn()(f, flag, fmt, ap);
	if (rec)
		end_stdio(&c, PST_IO_STDIO_WRITE, f, rc > 0 ? (uint64_t)rc : 0,
			  rc >= 0 ? rc : io_result(-1));
	return rc;
}

#define SITE ((uintptr_t)__builtin_return_address(0))

PS_EXPORT int vfprintf(FILE *__restrict f, const char *__restrict fmt, va_list ap)
{
	return do_vfprintf(SITE, f, -1, fmt, ap);
}

PS_EXPORT int vprintf(const char *__restrict fmt, va_list ap)
{
	return do_vfprintf(SITE, stdout, -1, fmt, ap);
}

PS_EXPORT int fprintf(FILE *__restrict f, const char *__restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = do_vfprintf(SITE, f, -1, fmt, ap);
	va_end(ap);
	return rc;
}

PS_EXPORT int printf(const char *__restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = do_vfprintf(SITE, stdout, -1, fmt, ap);
	va_end(ap);
	return rc;
}

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __printf_chk(int flag, const char *fmt, ...);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);

PS_EXPORT int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	return do_vfprintf(SITE, f, flag, fmt, ap);
}

PS_EXPORT int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = do_vfprintf(SITE, f, flag, fmt, ap);
	va_end(ap);
	return rc;
}

PS_EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = do_vfprintf(SITE, stdout, flag, fmt, ap);
	va_end(ap);
	return rc;
}
