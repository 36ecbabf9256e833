/* Per-thread trace writer through a sliding shared mapping: see writer.h. */
#define _GNU_SOURCE
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "zsys.h"

static size_t page_size(void)
{
	static size_t ps;
	if (!ps) {
		long v = sysconf(_SC_PAGESIZE);
		ps = v > 0 ? (size_t)v : 4096;
	}
	return ps;
}

/* Grow the file from `from` to `len` bytes with its space secured, so a
 * full disk shows up here as an error and never as SIGBUS on a store.
 *
 * Every growth writes zeros: the space is reserved by the write (delayed
 * allocation on ext4, xfs, btrfs; pages on tmpfs) and a file cut or a run
 * punched out before writeback frees no block. It is also the cheapest
 * way to a window the program can write to. Fallocated blocks are
 * unwritten extents: mapping a window of them (MADV_POPULATE_WRITE in
 * map_window) went through readahead's zero-fill and ext4_page_mkwrite's
 * journalled conversion for every page, 2.5 ms of kernel time per MiB
 * measured here, against 0.4 ms per MiB for writing zeros and mapping the
 * pages already in the page cache (issue 15p, tools/bench-window.c).
 * Cutting fallocated blocks at exit also waits for the device on a
 * filesystem mounted with `discard`. A raw system call: the shim's own
 * I/O stays out of the io recorder's hooks, and errno is untouched. */
#define ZERO_CHUNK (16 * 1024)
#define ZERO_IOV 64 /* 1 MiB per call */
static int grow_file(int fd, uint64_t from, uint64_t len)
{
	static const uint8_t zeros[ZERO_CHUNK];
	struct iovec iov[ZERO_IOV];
	while (from < len) {
		uint64_t left = len - from;
		int n = 0;
		for (; n < ZERO_IOV && left; n++) {
			size_t c = left > ZERO_CHUNK ? ZERO_CHUNK : (size_t)left;
			iov[n].iov_base = (void *)zeros;
			iov[n].iov_len = c;
			left -= c;
		}
		long w = zsys_pwritev(fd, iov, n, from);
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? (int)w : -ENOSPC;
		from += (uint64_t)w;
	}
	return 0;
}

int pw_grow_file(struct pw_stream *s, int fd, uint64_t len)
{
	if (len <= s->file_len)
		return 0;
	int rc = grow_file(fd, s->file_len, len);
	if (!rc)
		s->file_len = len;
	return rc;
}

void (*pw_z_hook)(struct pw_stream *s, int fd, uint64_t *pos, enum pw_zwhy why);
int (*pw_z_map_hook)(struct pw_stream *s, void *old, size_t old_len, int settle);

/* Unmap the current window, once no job of the compressor can populate it
 * any more (zmap.c); else it stays mapped. */
static void unmap_window(struct pw_stream *s)
{
	if (s->win && (!s->z.map_job || !pw_z_map_hook || pw_z_map_hook(s, NULL, 0, 1)))
		munmap(s->win, s->win_len);
}

uint32_t pw_thread_flags_extra, pw_thread_mem_time_shift; /* mem.c, ALLOCATION IDS */

/* Writers keep at most this many descriptors, and never more than half the
 * band above the high base, so a program with thousands of threads keeps
 * its own descriptors (streams past the cap reopen by path instead). */
#define MAX_KEPT_FDS 1024
static int kept_fds;

static long kept_fd_cap(long *base)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	int unlimited = rl.rlim_cur == RLIM_INFINITY;
	long soft = unlimited ? 65536 : (long)rl.rlim_cur;
	*base = pw_high_fd_base(soft, unlimited);
	long cap = (soft - *base) / 2;
	return cap > MAX_KEPT_FDS ? MAX_KEPT_FDS : cap;
}

/* Keep a copy of fd at a high number for the stream's life; -1 when the
 * cap is reached or no high number is free. fd itself stays the caller's. */
static int keep_fd(int fd)
{
	long base = 0, cap = kept_fd_cap(&base);
	if (__atomic_add_fetch(&kept_fds, 1, __ATOMIC_RELAXED) > cap) {
		__atomic_sub_fetch(&kept_fds, 1, __ATOMIC_RELAXED);
		return -1;
	}
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)base);
	if (hi < 0)
		__atomic_sub_fetch(&kept_fds, 1, __ATOMIC_RELAXED);
	return hi;
}

/* Is fd still a descriptor of our file (not closed, not dup2'd over)? */
static int fd_is_ours(const struct pw_stream *s, int fd)
{
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
}

/* The kept descriptor was taken by the program: the number is theirs now. */
static void forget_kept(struct pw_stream *s)
{
	s->fd = -1;
	__atomic_sub_fetch(&kept_fds, 1, __ATOMIC_RELAXED);
}

/* A descriptor of our file for one use: the kept one when it is still
 * ours, else the file reopened by path (same inode); -errno on failure.
 * A file that was deleted gives -ENOENT: what it would hold is lost. */
static int stream_fd(struct pw_stream *s)
{
	struct stat st;
	if (s->fd >= 0) {
		if (fstat(s->fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
			return st.st_nlink ? s->fd : -ENOENT;
		forget_kept(s);
	}
	int fd = open(s->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || st.st_dev != s->dev || st.st_ino != s->ino) {
		close(fd);
		return -ESTALE;
	}
	/* Keep the reopened one, so a later privilege drop does not lose it. */
	s->fd = keep_fd(fd);
	if (s->fd >= 0) {
		close(fd);
		return s->fd;
	}
	return fd;
}

static void release_fd(struct pw_stream *s, int fd)
{
	if (fd >= 0 && fd != s->fd)
		close(fd);
}

/* Map the window that starts at the page holding data position `pos`. */
static int map_window(struct pw_stream *s, int fd, uint64_t pos, size_t max)
{
	size_t pg = page_size();
	uint64_t off = pos & ~(uint64_t)(pg - 1);
	/* A first window is small: most streams (short processes, idle
	 * threads) never fill it, and every byte of it is allocated up front
	 * (zeros written, see grow_file) and trimmed at the end. A stream
	 * that fills it slides to full-size windows. */
	size_t len = s->win || s->win_off > PST_DATA_OFFSET ? s->window_bytes : PW_FIRST_WINDOW;
	if (len > s->window_bytes)
		len = s->window_bytes;
	if (len < (pos - off) + max + pg)
		len = ((pos - off) + max + 2 * pg) & ~(pg - 1);
	if (off + len > s->file_len) {
		int rc = grow_file(fd, s->file_len, off + len);
		if (rc)
			return rc;
		s->file_len = off + len;
	}
	void *w = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	if (w == MAP_FAILED)
		return -errno;
	void *old = s->win;
	size_t old_len = s->win_len;
	s->win = w;
	s->win_off = off;
	s->win_len = len;
	s->cur = (uint8_t *)w + (pos - off);
	s->limit = (uint8_t *)w + len;
	/* A first window: no readahead. Where its pages are not in the page
	 * cache (evicted, or a file not grown by us), readahead would fill up
	 * to 32 pages per fault that a short process never writes, and the
	 * trim at its end drops them again: a third of a short process's
	 * start-up cost once. One page per fault instead. */
	if (!old) {
		madvise(w, len, MADV_RANDOM);
		return 0;
	}
	/* A stream that filled a window will fill the next one: map its pages
	 * writable in one call rather than taking a fault per page (a few us
	 * each in a VM, a tenth of a busy call trace's cost). Its pages are in
	 * the page cache already (grow_file wrote them), so this only maps
	 * them. Not for a first window, which most threads never fill. With
	 * a compressor running, it does that and the unmap of the old window
	 * (zmap.c); else here (older kernels say EINVAL to the populate). */
	if (pw_z_map_hook && pw_z_map_hook(s, old, old_len, 0))
		return 0;
#ifdef MADV_POPULATE_WRITE
	madvise(w, len, MADV_POPULATE_WRITE);
#endif
	munmap(old, old_len);
	return 0;
}

int pw_open(struct pw_stream *s, const char *path, const char *magic, uint32_t pid, uint32_t tid,
	    uint32_t seq, uint64_t start_ticks, size_t window_bytes)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	size_t plen = strlen(path);
	if (plen >= sizeof(s->path))
		return -ENAMETOOLONG;
	memcpy(s->path, path, plen + 1);
	size_t pg = page_size();
	s->window_bytes = (window_bytes + pg - 1) & ~(pg - 1);
	if (s->window_bytes < 2 * PST_MAX_RECORD)
		s->window_bytes = 2 * PST_MAX_RECORD;

	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = fstat(fd, &st) == 0 ? 0 : -errno;
	if (!rc) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		size_t hlen = PST_DATA_OFFSET > pg ? PST_DATA_OFFSET : pg;
		rc = grow_file(fd, 0, hlen);
		if (!rc) {
			s->file_len = hlen;
			void *h =
			    mmap(NULL, PST_DATA_OFFSET, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (h == MAP_FAILED)
				rc = -errno;
			else
				s->hdr = h;
			if (h != MAP_FAILED) /* one page: no readahead (see map_window) */
				madvise(h, PST_DATA_OFFSET, MADV_RANDOM);
		}
	}
	if (!rc) {
		struct pst_file_header *h = s->hdr;
		memcpy(h->magic, magic, PST_MAGIC_LEN);
		h->version = PST_VERSION;
		h->header_size = PST_DATA_OFFSET;
		h->pid = pid;
		h->tid = tid;
		h->thread_seq = seq;
		h->start_ticks = start_ticks;
		/* thread files delta-code their ALLOC/FREE records (mem.c) */
		if (memcmp(magic, PST_MAGIC_THREAD, PST_MAGIC_LEN) == 0) {
			h->flags = PST_FLAG_DELTA | pw_thread_flags_extra;
			h->mem_time_shift = pw_thread_mem_time_shift;
		}
		__atomic_store_n(&h->committed, 0, __ATOMIC_RELEASE);
		/* room for small records: a large one slides the window */
		rc = map_window(s, fd, PST_DATA_OFFSET, 256);
	}
	if (!rc)
		s->fd = keep_fd(fd);
	close(fd);
	if (rc) {
		if (s->hdr)
			munmap(s->hdr, PST_DATA_OFFSET);
		s->hdr = NULL;
		s->failed = 1;
	}
	return rc;
}

uint8_t *pw_reserve_slow(struct pw_stream *s, size_t max)
{
	if (s->failed || !s->hdr || max > PST_MAX_RECORD)
		return NULL;
	uint64_t pos = s->win ? s->win_off + (uint64_t)(s->cur - s->win) : s->win_off;
	int fd = stream_fd(s);
	if (fd >= 0 && s->z.level && pw_z_hook) /* compress the finished run */
		pw_z_hook(s, fd, &pos, PW_Z_SLIDE);
	int rc = fd < 0 ? fd : map_window(s, fd, pos, max);
	release_fd(s, fd);
	if (rc) {
		/* No record may go into the old window any more, however small:
		 * its run may be compressed and punched out already, and a commit
		 * there would move `committed` back before the published BLOCK. */
		s->limit = s->cur;
		s->failed = 1;
		return NULL;
	}
	return s->cur;
}

/* Shrink the file to its data (the mapping past it is unmapped first: a
 * store there would fault). */
static void trim_to_data(struct pw_stream *s, int fd)
{
	uint64_t end = PST_DATA_OFFSET + __atomic_load_n(&s->hdr->committed, __ATOMIC_ACQUIRE);
	if (ftruncate(fd, (off_t)end) == 0)
		s->file_len = end;
	/* else the zero tail stays; readers stop at `committed` */
}

void pw_trim(struct pw_stream *s)
{
	if (!s->hdr || s->failed)
		return;
	int fd = stream_fd(s);
	if (fd < 0)
		return;
	if (s->win) {
		s->win_off += (uint64_t)(s->cur - s->win); /* where the next record goes */
		unmap_window(s);
	}
	s->win = s->cur = s->limit = NULL; /* the next reserve maps again */
	s->win_len = 0;
	trim_to_data(s, fd);
	release_fd(s, fd);
}

void pw_close(struct pw_stream *s)
{
	if (!s->hdr)
		return;
	if (s->z.level && pw_z_hook && !s->failed) { /* compress the last run */
		int zfd = stream_fd(s);
		uint64_t pos = s->win ? s->win_off + (uint64_t)(s->cur - s->win) : s->win_off;
		if (zfd >= 0)
			pw_z_hook(s, zfd, &pos, PW_Z_CLOSE);
		release_fd(s, zfd);
	}
	__atomic_or_fetch(&s->hdr->flags, PST_FLAG_CLOSED, __ATOMIC_RELEASE);
	unmap_window(s);
	s->win = s->cur = s->limit = NULL;
	int fd = stream_fd(s);
	if (fd >= 0) {
		trim_to_data(s, fd);
		release_fd(s, fd);
	}
	pw_abandon(s);
}

void pw_abandon(struct pw_stream *s)
{
	if ((s->z.sc.mem || s->z.job[0] || s->z.job[1]) && pw_z_hook)
		pw_z_hook(s, -1, NULL, PW_Z_FORGET);
	unmap_window(s);
	if (s->hdr)
		munmap(s->hdr, PST_DATA_OFFSET);
	s->win = s->cur = s->limit = NULL;
	s->hdr = NULL;
	/* Close the kept descriptor only while it is still ours: in a forked
	 * child it is a copy, and the program may have reused the number. */
	if (s->fd >= 0) {
		if (fd_is_ours(s, s->fd))
			close(s->fd);
		forget_kept(s);
	}
}
