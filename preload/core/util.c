/* Small async-signal-safe helpers: logging without stdio, pages for tables. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

void ps_log(const char *first, ...)
{
	char buf[1024];
	size_t n = 0;
	const char *prefix = "profshim: ";
	va_list ap;
	va_start(ap, first);
	for (const char *s = prefix; s; s = (s == prefix ? first : va_arg(ap, const char *))) {
		size_t len = strlen(s);
		if (len > sizeof(buf) - 2 - n)
			len = sizeof(buf) - 2 - n;
		memcpy(buf + n, s, len);
		n += len;
	}
	va_end(ap);
	buf[n++] = '\n';
	int saved = errno;
	ssize_t rc = write(STDERR_FILENO, buf, n);
	(void)rc;
	errno = saved;
}

pid_t ps_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

size_t ps_u64_to_str(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = 0;
	return n;
}

void *ps_alloc_pages(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void ps_free_pages(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}
