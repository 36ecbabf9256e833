/*
 * io recorder: wrappers of the network calls — socket, socketpair,
 * connect, accept/accept4, the send and recv families, shutdown — and
 * getaddrinfo (DNS time, by host name). A connected socket is described
 * by its peer; an accepted one by its peer and the local (listening) port.
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "io.h"

/* A call that made descriptor rc (socket, accept, connect): describe it
 * from the kernel's view, then record the call. A failed accept (EAGAIN
 * on a non-blocking listening socket) made no descriptor: it is charged
 * to the one it was made on (on_fd), with its errno. */
static void end_new_fd(struct io_call *c, unsigned op, int fd, int rc, bool with_port, int on_fd)
{
	uint64_t end = ps_now();
	int saved = errno;
	struct ps_thread *t = io_enter(c);
	if (t) {
		uint32_t desc = 0;
		if (rc >= 0 || (op == PST_IO_CONNECT && saved == EINPROGRESS)) {
			unsigned port = 0;
			if (with_port) {
				struct sockaddr_storage sa;
				socklen_t len = sizeof(sa);
				if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
					port = sa.ss_family == AF_INET
						   ? ntohs(((struct sockaddr_in *)&sa)->sin_port)
					       : sa.ss_family == AF_INET6
						   ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
						   : 0;
			}
			desc = ps_io_fd_describe(t, fd, PST_FD_SOCKET, port);
		} else {
			fd = fd >= 0 ? fd : on_fd;
			desc = ps_io_fd_desc(t, fd);
		}
		ps_io_write(t, c, end, op, desc, fd >= 0 ? (uint64_t)fd + 1 : 0, 0,
			    rc < 0 ? -(int64_t)saved : rc);
		ps_leave(t);
	}
	errno = saved;
}

PS_EXPORT int socket(int domain, int type, int proto)
{
	IO_REAL(socket);
	struct io_call c;
	if (!IO_BEGIN(&c))
		return real_socket(domain, type, proto);
	int rc = real_socket(domain, type, proto);
	/* described from the arguments: no system call until it connects */
	uint64_t end = ps_now();
	int saved = errno;
	struct ps_thread *t = io_enter(&c);
	if (t) {
		int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
		bool inet = domain == AF_INET || domain == AF_INET6;
		unsigned kind = domain == AF_UNIX	      ? PST_FD_UNIX
				: inet && base == SOCK_STREAM ? PST_FD_TCP
				: inet && base == SOCK_DGRAM  ? PST_FD_UDP
							      : PST_FD_SOCKET;
		const char *name = kind == PST_FD_UNIX	? "unix:(not connected)"
				   : kind == PST_FD_TCP ? "tcp:(not connected)"
				   : kind == PST_FD_UDP ? "udp:(not connected)"
							: "socket:(not connected)";
		uint32_t desc = rc >= 0 ? ps_io_desc_new(t, kind, rc, 0, name, NULL) : 0;
		ps_io_write(t, &c, end, PST_IO_SOCKET, desc, rc >= 0 ? (uint64_t)rc + 1 : 0, 0,
			    rc < 0 ? -(int64_t)saved : rc);
		ps_leave(t);
	}
	errno = saved;
	return rc;
}

PS_EXPORT int socketpair(int domain, int type, int proto, int fds[2])
{
	IO_REAL(socketpair);
	int rc = real_socketpair(domain, type, proto, fds);
	if (rc == 0 && ps_io_on && !ps_in_shim((uintptr_t)__builtin_return_address(0))) {
		int saved = errno;
		struct ps_thread *t = ps_thread_get();
		if (t && ps_enter(t)) {
			uint32_t d =
			    ps_io_desc_new(t, domain == AF_UNIX ? PST_FD_UNIX : PST_FD_SOCKET,
					   fds[0], 0, "socketpair", NULL);
			ps_io_fd_set(fds[1], d);
			ps_leave(t);
		}
		errno = saved;
	}
	return rc;
}

PS_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	IO_REAL(connect);
	struct io_call c;
	if (!IO_BEGIN_FD(&c, PST_IO_CONNECT, fd))
		return real_connect(fd, addr, len);
	int rc = real_connect(fd, addr, len);
	end_new_fd(&c, PST_IO_CONNECT, fd, rc, false, fd);
	return rc;
}

PS_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	IO_REAL(accept);
	struct io_call c;
	if (!IO_BEGIN_FD(&c, PST_IO_ACCEPT, fd))
		return real_accept(fd, addr, len);
	int rc = real_accept(fd, addr, len);
	end_new_fd(&c, PST_IO_ACCEPT, rc, rc, true, fd);
	return rc;
}

PS_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	IO_REAL(accept4);
	struct io_call c;
	if (!IO_BEGIN_FD(&c, PST_IO_ACCEPT, fd))
		return real_accept4(fd, addr, len, flags);
	int rc = real_accept4(fd, addr, len, flags);
	end_new_fd(&c, PST_IO_ACCEPT, rc, rc, true, fd);
	return rc;
}

/* listen() names the socket "ADDR:PORT (listening)" ("*:PORT" for any
 * address): the failed accepts on it are charged there. Once per
 * listening socket, so its few system calls do not matter. */
PS_EXPORT int listen(int fd, int backlog)
{
	IO_REAL(listen);
	int rc = real_listen(fd, backlog);
	if (rc || !ps_io_on || !ps_recording || ps_in_shim((uintptr_t)__builtin_return_address(0)))
		return rc;
	int saved = errno;
	struct ps_thread *t = ps_thread_get();
	if (t && ps_enter(t)) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		memset(&sa, 0, sizeof(sa));
		char name[160];
		unsigned port = 0;
		name[0] = 0;
		if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
			ps_io_format_listening(&sa, len, name, sizeof(name), &port);
		if (name[0])
			ps_io_desc_new(t, ps_io_socket_kind(fd, sa.ss_family), fd, port, name,
				       NULL);
		ps_leave(t);
	}
	errno = saved;
	return rc;
}

static size_t msg_bytes(const struct msghdr *m)
{
	size_t sum = 0;
	for (size_t i = 0; m && m->msg_iov && i < m->msg_iovlen; i++)
		sum += m->msg_iov[i].iov_len;
	return sum;
}

IO_FD_WRAPPER(send, PST_IO_SEND, ssize_t, (int fd, const void *buf, size_t n, int flags),
	      (fd, buf, n, flags), n)
IO_FD_WRAPPER(sendto, PST_IO_SENDTO, ssize_t,
	      (int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
	       socklen_t al),
	      (fd, buf, n, flags, a, al), n)
IO_FD_WRAPPER(sendmsg, PST_IO_SENDMSG, ssize_t, (int fd, const struct msghdr *m, int flags),
	      (fd, m, flags), msg_bytes(m))
IO_FD_WRAPPER(recv, PST_IO_RECV, ssize_t, (int fd, void *buf, size_t n, int flags),
	      (fd, buf, n, flags), n)
IO_FD_WRAPPER(recvfrom, PST_IO_RECVFROM, ssize_t,
	      (int fd, void *__restrict buf, size_t n, int flags, struct sockaddr *__restrict a,
	       socklen_t *__restrict al),
	      (fd, buf, n, flags, a, al), n)
IO_FD_WRAPPER(recvmsg, PST_IO_RECVMSG, ssize_t, (int fd, struct msghdr *m, int flags),
	      (fd, m, flags), msg_bytes(m))
IO_FD_WRAPPER(shutdown, PST_IO_SHUTDOWN, int, (int fd, int how), (fd, how), 0)
/* _FORTIFY_SOURCE forms */
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *__restrict buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *__restrict a, socklen_t *__restrict al);
IO_FD_WRAPPER(__recv_chk, PST_IO_RECV, ssize_t,
	      (int fd, void *buf, size_t n, size_t buflen, int flags), (fd, buf, n, buflen, flags),
	      n)
IO_FD_WRAPPER(__recvfrom_chk, PST_IO_RECVFROM, ssize_t,
	      (int fd, void *__restrict buf, size_t n, size_t buflen, int flags,
	       struct sockaddr *__restrict a, socklen_t *__restrict al),
	      (fd, buf, n, buflen, flags, a, al), n)

/* mmsg: asked = the bytes moved (the result counts messages). */
static uint64_t mmsg_bytes(const struct mmsghdr *v, int n)
{
	uint64_t sum = 0;
	for (int i = 0; v && i < n; i++)
		sum += v[i].msg_len;
	return sum;
}

PS_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	IO_REAL(sendmmsg);
	struct io_call c;
	if (!IO_BEGIN_FD(&c, PST_IO_SENDMMSG, fd))
		return real_sendmmsg(fd, v, n, flags);
	int rc = real_sendmmsg(fd, v, n, flags);
	ps_io_end_fd(&c, PST_IO_SENDMMSG, fd, rc > 0 ? mmsg_bytes(v, rc) : 0, io_result(rc));
	return rc;
}

PS_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
		       struct timespec *timeout)
{
	IO_REAL(recvmmsg);
	struct io_call c;
	if (!IO_BEGIN_FD(&c, PST_IO_RECVMMSG, fd))
		return real_recvmmsg(fd, v, n, flags, timeout);
	int rc = real_recvmmsg(fd, v, n, flags, timeout);
	ps_io_end_fd(&c, PST_IO_RECVMMSG, fd, rc > 0 ? mmsg_bytes(v, rc) : 0, io_result(rc));
	return rc;
}

/* --- DNS --- */

PS_EXPORT int getaddrinfo(const char *__restrict node, const char *__restrict service,
			  const struct addrinfo *__restrict hints, struct addrinfo **__restrict res)
{
	IO_REAL(getaddrinfo);
	struct io_call c;
	if (!IO_BEGIN(&c))
		return real_getaddrinfo(node, service, hints, res);
	int rc = real_getaddrinfo(node, service, hints, res);
	uint64_t end = ps_now();
	int saved = errno;
	struct ps_thread *t = io_enter(&c);
	if (t) {
		uint64_t dur = end > c.start ? end - c.start : 0;
		uintptr_t pcs[PS_MAX_CAPTURE];
		int trunc = 0;
		int n = ps_unwind_here(pcs, (int)ps_cfg.stack_depth, &trunc);
		uint64_t stack = ps_stack_intern(t, pcs, n);
		const char *host = node ? node : "";
		bool new_site;
		uint64_t site = ps_stack_intern_site(t, c.site, &new_site);
		uint8_t buf[PST_MAX_STR + 8 * PST_VARINT_MAX], *p = buf;
		p = pst_put_varint(p, end);
		p = pst_put_varint(p, dur);
		p = pst_put_varint(p, pst_zigzag(rc));
		p = pst_put_varint(p, site);
		p = pst_put_varint(p, stack);
		p = pst_put_str(p, host, strnlen(host, 255));
		ps_write_ext(t, PST_X_IO_DNS, buf, (size_t)(p - buf));
		t->counters[PST_C_IO_CALLS]++;
		ps_leave(t);
	}
	errno = saved;
	return rc;
}
