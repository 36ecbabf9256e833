/*
 * What a trace window costs the kernel, per MiB, by how its file space is
 * secured (issue 15p; the writer's choice is in preload/core/writer.c,
 * grow_file). Each round does what a busy thread's window slide does:
 * secure the space, map it and populate it (MADV_POPULATE_WRITE), write
 * into every cache line (the records), unmap it, punch it out (the
 * compressor freeing the raw run), and leave a gap as big as the window
 * (the room for its block). Prints the thread's CPU time (user + system)
 * per MiB for each step.
 *
 *   cc -O2 -o /tmp/bench-window tools/bench-window.c
 *   /tmp/bench-window DIR [WINDOW_KIB [ROUNDS]]   (DIR on the file system
 *   the traces go to; default 1024 KiB, 100 rounds)
 *
 * Modes: fallocate (unwritten extents), zeros (pwritev of zeros: delayed
 * allocation), zero-range (FALLOC_FL_ZERO_RANGE), hole (ftruncate: no
 * space secured, for reference only: a full disk would SIGBUS).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { FALLOCATE, ZEROS, ZERO_RANGE, HOLE, MODES };
static const char *const names[MODES] = {"fallocate", "zeros", "zero-range", "hole"};
enum { SECURE, MAP, WRITE, UNMAP, PUNCH, STEPS };
static const char *const steps[STEPS] = {"secure", "map+populate", "write", "unmap", "punch"};

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int secure(int mode, int fd, off_t off, size_t len)
{
	static const char zeros[64 * 1024];
	switch (mode) {
	case FALLOCATE:
		return posix_fallocate(fd, off, (off_t)len) ? -1 : 0;
	case ZERO_RANGE:
		return fallocate(fd, FALLOC_FL_ZERO_RANGE, off, (off_t)len);
	case HOLE:
		return ftruncate(fd, off + (off_t)len);
	default:
		for (size_t done = 0; done < len;) {
			struct iovec iov[16];
			int n = 0;
			for (size_t d = done; n < 16 && d < len; n++, d += sizeof(zeros)) {
				iov[n].iov_base = (void *)zeros;
				iov[n].iov_len = len - d < sizeof(zeros) ? len - d : sizeof(zeros);
			}
			ssize_t w = pwritev(fd, iov, n, off + (off_t)done);
			if (w <= 0)
				return -1;
			done += (size_t)w;
		}
		return 0;
	}
}

static int run(const char *dir, int mode, size_t win, int rounds)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench-window.XXXXXX", dir);
	int fd = mkstemp(path);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	unlink(path);
	double t[STEPS] = {0}, t0;
	off_t off = 4096;
	for (int r = 0; r < rounds; r++) {
		t0 = cpu_now();
		if (secure(mode, fd, off, win)) {
			perror("secure");
			close(fd);
			return -1;
		}
		t[SECURE] += cpu_now() - t0;
		t0 = cpu_now();
		char *w = mmap(NULL, win, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
		if (w == MAP_FAILED) {
			perror("mmap");
			close(fd);
			return -1;
		}
		madvise(w, win, MADV_POPULATE_WRITE);
		t[MAP] += cpu_now() - t0;
		t0 = cpu_now();
		for (size_t k = 0; k < win; k += 64)
			w[k] = (char)k;
		t[WRITE] += cpu_now() - t0;
		t0 = cpu_now();
		munmap(w, win);
		t[UNMAP] += cpu_now() - t0;
		t0 = cpu_now();
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, (off_t)win);
		t[PUNCH] += cpu_now() - t0;
		off += 2 * (off_t)win;
	}
	close(fd);
	double mib = (double)win * rounds / (1024.0 * 1024.0), total = 0;
	printf("%-11s", names[mode]);
	for (int i = 0; i < STEPS; i++) {
		printf("  %s %6.0f", steps[i], t[i] / mib * 1e6);
		total += t[i];
	}
	printf("  total %6.0f us/MiB\n", total / mib * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [WINDOW_KIB [ROUNDS]]\n", argv[0]);
		return 2;
	}
	size_t win = (argc > 2 ? (size_t)atol(argv[2]) : 1024) * 1024;
	int rounds = argc > 3 ? atoi(argv[3]) : 100;
	if (win < 4096 || win % 4096 || rounds < 1) {
		fprintf(stderr, "%s: WINDOW_KIB must be a multiple of 4, ROUNDS >= 1\n", argv[0]);
		return 2;
	}
	for (int m = 0; m < MODES; m++)
		if (run(argv[1], m, win, rounds))
			return 1;
	return 0;
}
