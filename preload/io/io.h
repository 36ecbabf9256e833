/*
 * The io recorder's internals (io.c: settings, records, stack policy;
 * io_fd.c: the descriptor table; io_*.c: the wrappers by family).
 *
 * A wrapper runs the real call and then writes one IO record. Rules:
 * errno is the real call's; nothing is recorded for calls made by the
 * shim itself (return address inside the shim), in a hook (busy), or
 * inside another recorded call (getaddrinfo's own socket calls: counted
 * under DROP_IO_NESTED); the thread is NOT marked busy during the real
 * call, so CPU samples and signal handlers behave as without the shim.
 */
#ifndef PS_IO_H
#define PS_IO_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "clock.h"
#include "shim.h"
#include "unwind.h"

extern volatile int ps_io_on;		/* recorder on (PROFSHIM_RECORD has io) */
extern __thread int ps_io_depth PS_TLS; /* inside a recorded call */

/* A call being timed. */
struct io_call {
	struct ps_thread *t;
	uint64_t start;
	uintptr_t site;
	bool published; /* in t->io_open_*: may still be open at the end */
};

/* The real function `name` (typed like the wrapper's declaration in the
 * system headers), resolved once. */
#define IO_REAL(name)                                                                              \
	static __typeof__(name) *real_##name;                                                      \
	if (PS_UNLIKELY(!real_##name))                                                             \
	real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

bool ps_io_begin_slow(struct io_call *c);

/* Start timing a call made from `site`; false: take the plain path. */
static inline __attribute__((always_inline)) bool io_begin(struct io_call *c, uintptr_t site)
{
	if (PS_LIKELY(!ps_io_on) || !ps_recording)
		return false;
	c->site = site;
	return ps_io_begin_slow(c);
}
#define IO_BEGIN(c) io_begin((c), (uintptr_t)__builtin_return_address(0))

/* A call that may outlive the process (a worker in pthread_cond_wait or
 * blocked in read() at exit): publish it in the thread state, so that the
 * thread ending the process records it as unfinished (io.c, flush_other).
 * Plain stores, the start last (release): the reader takes it with an
 * exchange. Descriptor calls (op < PST_IO_POLL) publish fd + 1. */
static inline void io_publish(struct io_call *c, unsigned op, uint64_t obj)
{
	struct ps_thread *t = c->t;
	t->io_open_site = c->site;
	t->io_open_obj = obj;
	t->io_open_op = op;
	__atomic_store_n(&t->io_open_start, c->start ? c->start : 1, __ATOMIC_RELEASE);
	c->published = true;
}
#define IO_BEGIN_WAIT(c, op, obj) (IO_BEGIN(c) && (io_publish((c), (op), (uint64_t)(obj)), true))
/* A call on descriptor fd (read, recv, accept, fsync ...): any may block. */
#define IO_BEGIN_FD(c, op, fd) IO_BEGIN_WAIT(c, op, (fd) >= 0 ? (uint64_t)(fd) + 1 : 0)

/* Write the IO record of call c that ended at `end` (thread entered). */
void ps_io_write(struct ps_thread *t, const struct io_call *c, uint64_t end, unsigned op,
		 uint32_t desc, uint64_t obj, uint64_t asked, int64_t result);
/* End a call: write its record (errno kept). desc 0 = none. */
void ps_io_end(struct io_call *c, unsigned op, uint32_t desc, uint64_t obj, uint64_t asked,
	       int64_t result);
/* The same for a call on descriptor fd (its description looked up). */
void ps_io_end_fd(struct io_call *c, unsigned op, int fd, uint64_t asked, int64_t result);
/* The result as the record keeps it: rc, or -errno when rc < 0. */
static inline int64_t io_result(int64_t rc)
{
	return rc < 0 ? -(int64_t)errno : rc;
}

/* A wrapper of a call on descriptor `fd` that moves `asked` bytes (files,
 * pipes and sockets alike): the real call, then its record. */
#define IO_FD_WRAPPER(name, op, T, params, args, asked)                                            \
	PS_EXPORT T name params                                                                    \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN_FD(&c, op, fd))                                                      \
			return real_##name args;                                                   \
		T rc = real_##name args;                                                           \
		ps_io_end_fd(&c, op, fd, (uint64_t)(asked), io_result((int64_t)rc));               \
		return rc;                                                                         \
	}

/* --- the descriptor table (io_fd.c); called with the thread entered --- */
/* The table, with what /proc/self/fd holds now marked inherited (each is
 * described on its first use). */
void ps_io_fd_init(void);
void ps_io_fd_fork_child(void);
/* The description of fd (0 when fd < 0); an fd the table does not know
 * gets one from /proc/self/fd now. */
uint32_t ps_io_fd_desc(struct ps_thread *t, int fd);
/* A new description for fd (fd may be -1: a failed open's path). */
uint32_t ps_io_desc_new(struct ps_thread *t, unsigned kind, int fd, unsigned port, const char *name,
			const char *note);
void ps_io_fd_set(int fd, uint32_t desc);
/* fd's description if the table has one, else 0 (no system call). */
uint32_t ps_io_fd_known(int fd);
void ps_io_fd_closed(int fd);
void ps_io_fd_dup(struct ps_thread *t, int oldfd, int newfd);
/* Describe an fd from the kernel's view (sockets: family and peer; pipes;
 * files: path); used for new sockets, accepted ones and unknown fds. */
uint32_t ps_io_fd_describe(struct ps_thread *t, int fd, unsigned fallback_kind, unsigned port);
/* A socket's kind (PST_FD_TCP, ...) from its family and type. */
unsigned ps_io_socket_kind(int fd, int family);
/* "*:PORT (listening)" or "ADDR:PORT (listening)" of a bound socket. */
void ps_io_format_listening(const struct sockaddr_storage *sa, socklen_t len, char *out, size_t cap,
			    unsigned *port);
/* A path as the call resolved it: absolute, or joined to dirfd's path
 * (AT_FDCWD: the working directory). */
void ps_io_resolve_path(int dirfd, const char *path, char *out, size_t cap);

/* The thread a wrapper may enter after its real call (errno kept by the
 * caller); NULL = do not record. */
static inline struct ps_thread *io_enter(struct io_call *c)
{
	ps_io_depth = 0;
	/* a published wait taken by the process's end is recorded there */
	if (c->published && !__atomic_exchange_n(&c->t->io_open_start, 0, __ATOMIC_ACQ_REL))
		return NULL;
	if (!c->t || !ps_enter(c->t))
		return NULL;
	return c->t;
}

#endif
