/*
 * The io recorder's descriptor table: fd -> description id, one table per
 * process (shared by its threads, plain atomic stores). A description is
 * written once as an FD record (path, peer, pipe) into the thread that
 * made it; dup'ed fds share it. Descriptors the table does not know
 * (open before the shim started, passed over a socket) are described from
 * /proc/self/fd when first seen. Those open at start-up are only listed
 * then (one getdents, no readlink each): a short process never pays for
 * describing descriptors it does not use, nor the shim's own.
 *
 * Every kernel call here is made from the shim's own code, so the
 * wrappers pass it through unrecorded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "io.h"

#define FD_MAX 65536u

static uint32_t *fd_table; /* FD_MAX entries, 0 = not described */
/* An fd open at start-up (or held at fork) that nobody has used yet: it is
 * described as inherited on its first use. Never a description id (those
 * count up from 1). */
#define FD_INHERITED_UNSEEN UINT32_MAX
static uint32_t next_desc;

uint32_t ps_io_desc_new(struct ps_thread *t, unsigned kind, int fd, unsigned port, const char *name,
			const char *note)
{
	uint32_t id = __atomic_add_fetch(&next_desc, 1, __ATOMIC_RELAXED);
	size_t nl = strnlen(name, PST_MAX_STR), ml = note ? strnlen(note, PST_MAX_STR) : 0;
	uint8_t *p = ps_reserve(t, nl + ml + 8 * PST_VARINT_MAX);
	if (p) {
		p = pst_put_tag(p, ps_dt(t, ps_now()), PST_K_FD);
		p = pst_put_varint(p, id);
		p = pst_put_varint(p, kind);
		p = pst_put_varint(p, fd >= 0 ? (uint64_t)fd : 0);
		p = pst_put_varint(p, port);
		p = pst_put_str(p, name, nl);
		p = pst_put_str(p, note ? note : "", ml);
		ps_commit(t, p);
	}
	if (fd >= 0)
		ps_io_fd_set(fd, id);
	return id;
}

void ps_io_fd_set(int fd, uint32_t desc)
{
	if (fd_table && fd >= 0 && (unsigned)fd < FD_MAX)
		__atomic_store_n(&fd_table[fd], desc, __ATOMIC_RELAXED);
}

void ps_io_fd_closed(int fd)
{
	ps_io_fd_set(fd, 0);
}

/* "ip:port", "[ip6]:port" or "unix:path" of a socket address. */
static void format_addr(const struct sockaddr_storage *sa, socklen_t len, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN], port[8];
	out[0] = 0;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		ps_u64_to_str(port, ntohs(in->sin_port));
		size_t n = strlen(ip);
		if (n + strlen(port) + 2 < cap) {
			memcpy(out, ip, n);
			out[n] = ':';
			strcpy(out + n + 1, port);
		}
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		ps_u64_to_str(port, ntohs(in6->sin6_port));
		size_t n = strlen(ip);
		if (n + strlen(port) + 4 < cap) {
			out[0] = '[';
			memcpy(out + 1, ip, n);
			out[n + 1] = ']';
			out[n + 2] = ':';
			strcpy(out + n + 3, port);
		}
	} else if (sa->ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const void *)sa;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		size_t n = len > off ? len - off : 0;
		if (n && un->sun_path[0] == 0) { /* abstract */
			strcpy(out, "unix:@");
			size_t k = n - 1 < cap - 8 ? n - 1 : cap - 8;
			memcpy(out + 6, un->sun_path + 1, k);
			out[6 + k] = 0;
		} else if (n && un->sun_path[0]) {
			strcpy(out, "unix:");
			size_t k = strnlen(un->sun_path, n);
			k = k < cap - 7 ? k : cap - 7;
			memcpy(out + 5, un->sun_path, k);
			out[5 + k] = 0;
		}
	}
}

unsigned ps_io_socket_kind(int fd, int family)
{
	int type = 0;
	socklen_t tl = sizeof(type);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
	if (family == AF_UNIX)
		return PST_FD_UNIX;
	if (family == AF_INET || family == AF_INET6)
		return type == SOCK_STREAM  ? PST_FD_TCP
		       : type == SOCK_DGRAM ? PST_FD_UDP
					    : PST_FD_SOCKET;
	return PST_FD_SOCKET;
}

void ps_io_format_listening(const struct sockaddr_storage *sa, socklen_t len, char *out, size_t cap,
			    unsigned *port)
{
	*port = 0;
	out[0] = 0;
	bool any = false;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		*port = ntohs(in->sin_port);
		any = in->sin_addr.s_addr == htonl(INADDR_ANY);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		*port = ntohs(in6->sin6_port);
		any = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
	}
	if (any) {
		strcpy(out, "*:");
		ps_u64_to_str(out + 2, *port);
	} else {
		format_addr(sa, len, out, cap - 16);
	}
	if (out[0])
		strcat(out, " (listening)");
}

/* What /proc/self/fd/N says, into out. */
static void fd_link(int fd, char *out, size_t cap)
{
	char path[40] = "/proc/self/fd/";
	ps_u64_to_str(path + 14, (uint64_t)fd);
	ssize_t n = readlink(path, out, cap - 1);
	out[n > 0 ? n : 0] = 0;
}

uint32_t ps_io_fd_describe(struct ps_thread *t, int fd, unsigned fallback_kind, unsigned port)
{
	char link[512], name[512], note[600];
	fd_link(fd, link, sizeof(link));
	unsigned kind = fallback_kind;
	strcpy(name, link);
	if (!strncmp(link, "socket:", 7)) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		memset(&sa, 0, sizeof(sa));
		int family = AF_UNSPEC;
		if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
			family = sa.ss_family;
		kind = ps_io_socket_kind(fd, family);
		len = sizeof(sa);
		if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0)
			format_addr(&sa, len, name, sizeof(name));
		if (!name[0] || !strcmp(name, link))
			strcpy(name, family == AF_UNIX ? "unix:(unnamed)" : link);
	} else if (!strncmp(link, "pipe:", 5)) {
		kind = PST_FD_PIPE;
	} else if (link[0] == '/') {
		kind = PST_FD_FILE;
	} else {
		kind = PST_FD_OTHER;
	}
	note[0] = 0;
	if (fallback_kind == PST_FD_INHERITED || fallback_kind == PST_FD_UNKNOWN) {
		strcpy(note, fallback_kind == PST_FD_INHERITED ? "inherited: " : "unknown: ");
		strncat(note, link, sizeof(note) - strlen(note) - 1);
		kind =
		    fallback_kind == PST_FD_UNKNOWN && kind == PST_FD_OTHER ? PST_FD_UNKNOWN : kind;
	}
	return ps_io_desc_new(t, kind, fd, port, name, note[0] ? note : NULL);
}

uint32_t ps_io_fd_known(int fd)
{
	if (fd < 0 || (unsigned)fd >= FD_MAX || !fd_table)
		return 0;
	return __atomic_load_n(&fd_table[fd], __ATOMIC_RELAXED);
}

uint32_t ps_io_fd_desc(struct ps_thread *t, int fd)
{
	if (fd < 0)
		return 0;
	if ((unsigned)fd >= FD_MAX || !fd_table) {
		t->counters[PST_C_DROP_IO_FD_RANGE]++;
		return 0;
	}
	uint32_t id = __atomic_load_n(&fd_table[fd], __ATOMIC_RELAXED);
	if (PS_LIKELY(id && id != FD_INHERITED_UNSEEN))
		return id;
	return ps_io_fd_describe(t, fd, id ? PST_FD_INHERITED : PST_FD_UNKNOWN, 0);
}

void ps_io_fd_dup(struct ps_thread *t, int oldfd, int newfd)
{
	if (newfd < 0 || oldfd == newfd)
		return;
	ps_io_fd_set(newfd, ps_io_fd_desc(t, oldfd));
}

void ps_io_resolve_path(int dirfd, const char *path, char *out, size_t cap)
{
	out[0] = 0;
	if (!path)
		return;
	if (path[0] == '/') {
		strncat(out, path, cap - 1);
		return;
	}
	if (dirfd == AT_FDCWD) {
		if (!getcwd(out, cap))
			out[0] = 0;
	} else {
		fd_link(dirfd, out, cap);
	}
	size_t n = strlen(out);
	if (n && out[n - 1] != '/' && n + 1 < cap) {
		out[n++] = '/';
		out[n] = 0;
	}
	/* "./x" is "x" */
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	strncat(out, path, cap - n - 1);
}

/* Mark every fd open now (start-up, a forked child) as inherited; each is
 * described when first used. */
static void mark_open_fds(void)
{
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	char buf[4096];
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			int fd = 0;
			for (const char *c = d->d_name; *c >= '0' && *c <= '9'; c++)
				fd = fd * 10 + (*c - '0');
			if (fd != dfd && (unsigned)fd < FD_MAX)
				ps_io_fd_set(fd, FD_INHERITED_UNSEEN);
		}
	}
	close(dfd);
}

void ps_io_fd_init(void)
{
	if (!fd_table)
		fd_table = ps_alloc_pages(FD_MAX * sizeof(uint32_t));
	if (fd_table)
		mark_open_fds();
}

/* The parent's descriptions are in the parent's files: describe what the
 * child holds again, in its own. */
void ps_io_fd_fork_child(void)
{
	if (!fd_table)
		return;
	memset(fd_table, 0, FD_MAX * sizeof(uint32_t));
	mark_open_fds();
}
