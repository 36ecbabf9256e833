/* Unit tests of window jobs (preload/core/zmap.c) with the real compressor
 * thread (zthread.c):
 * - at a slide the compressor populates the new window (its page table
 *   entries are present though this test never touches them:
 *   /proc/self/pagemap) and unmaps the old one;
 * - a job not started by the next slide is taken back (its old window is
 *   unmapped here, its new one never populated); the next job queues;
 * - settling before the writer unmaps its window takes back a job not
 *   started, or waits for it;
 * - a forked child unmaps its own copies at once;
 * - with no compressor running, the writer is told to do both (and no
 *   compressor is made for it). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../preload/core/rawthread.c"
#include "../../preload/core/zmap.c"
#include "../../preload/core/zthread.c"
#include "unit.h"
#include "zthread_stubs.h"

/* A compress job is a stub that keeps the compressor busy while `hold`. */
static int hold, inside;
int pw_z_job_run(const struct pw_zjob *j, struct pw_zscratch *sc)
{
	(void)sc;
	if (j->kind == PW_ZJ_MAP)
		return pw_z_map_job_run(j);
	__atomic_store_n(&inside, 1, __ATOMIC_RELEASE);
	struct timespec ms = {0, 1000000};
	while (__atomic_load_n(&hold, __ATOMIC_ACQUIRE))
		zsys6(SYS_nanosleep, (long)&ms, 0, 0, 0, 0, 0);
	__atomic_store_n(&inside, 0, __ATOMIC_RELEASE);
	return 0;
}

#define W (256 * 1024)
#define WINDOWS 4

static int fd;
static struct pst_file_header hdr;

/* Window i of the file, mapped and never touched here. */
static void *map(int i)
{
	void *w = mmap(NULL, W, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)i * W);
	return w == MAP_FAILED ? NULL : w;
}

/* Pages of [p, p + W) with a page table entry (pagemap bit 63). */
static int present(void *p)
{
	int pm = open("/proc/self/pagemap", O_RDONLY), n = 0;
	for (size_t off = 0; pm >= 0 && off < W; off += 4096) {
		uint64_t e = 0;
		if (pread(pm, &e, sizeof(e), (off_t)(((uintptr_t)p + off) / 4096 * 8)) == 8)
			n += (int)(e >> 63);
	}
	if (pm >= 0)
		close(pm);
	return n;
}

static int mapped(void *p)
{
	return msync(p, W, MS_ASYNC) == 0;
}

/* A slide of stream s from old to its new window w. */
static int slide(struct pw_stream *s, void *old, void *w)
{
	s->win = w;
	s->win_len = W;
	return pw_z_map(s, old, W, 0);
}

static void wait_inside(int v)
{
	for (int i = 0; i < 5000 && __atomic_load_n(&inside, __ATOMIC_ACQUIRE) != v; i++)
		usleep(1000);
}

/* Keep the compressor inside a stub job. */
static void hold_compressor(void)
{
	uint32_t t;
	__atomic_store_n(&hold, 1, __ATOMIC_RELEASE);
	int slot = pw_zt_claim(hdr.pid, &t);
	struct pw_zjob j = {.kind = PW_ZJ_COMPRESS, .fd = -1};
	pw_zt_post(slot, t, &j);
	wait_inside(1);
	pw_zt_wait(slot, t, 0); /* its slot goes free when it is done */
}

static void release_compressor(void)
{
	__atomic_store_n(&hold, 0, __ATOMIC_RELEASE);
	wait_inside(0);
}

static void test_no_compressor(struct pw_stream *s)
{
	void *a = map(0), *b = map(1);
	CHECK(slide(s, a, b) == 0); /* the writer does both */
	CHECK(s->z.map_job == 0);
	CHECK(zt_state == 0); /* and none was made for it */
	munmap(a, W);
	munmap(b, W);
}

static void test_slide_and_settle(struct pw_stream *s)
{
	void *a = map(0), *b = map(1);
	CHECK(a && b && present(b) == 0);
	CHECK(slide(s, a, b) == 1);
	for (int i = 0; i < 5000 && mapped(a); i++) /* the compressor unmaps it */
		usleep(1000);
	CHECK(!mapped(a));
	CHECK(pw_z_map(s, NULL, 0, 1) == 1); /* settled: the job is over */
	CHECK(present(b) == W / 4096);	     /* and it populated the new one */
	CHECK(s->z.map_job == 0);
	munmap(b, W);
}

static void test_take_back(struct pw_stream *s)
{
	void *a = map(0), *b = map(1), *c = map(2);
	hold_compressor();
	CHECK(slide(s, a, b) == 1); /* waits behind the held job */
	CHECK(slide(s, b, c) == 1); /* takes it back: a is unmapped here */
	CHECK(!mapped(a));
	CHECK(mapped(b) && present(b) == 0); /* never populated */
	release_compressor();
	CHECK(pw_z_map(s, NULL, 0, 1) == 1);
	CHECK(!mapped(b));
	CHECK(present(c) == W / 4096);
	munmap(c, W);
}

static void test_settle_takes_back(struct pw_stream *s)
{
	void *a = map(0), *b = map(1);
	hold_compressor();
	CHECK(slide(s, a, b) == 1);
	CHECK(pw_z_map(s, NULL, 0, 1) == 1); /* not started: taken back */
	CHECK(!mapped(a) && present(b) == 0);
	release_compressor();
	munmap(b, W);
}

static void test_fork_child(struct pw_stream *s)
{
	void *a = map(0), *b = map(1);
	hold_compressor();
	CHECK(slide(s, a, b) == 1);
	pid_t pid = fork();
	if (pid == 0) {
		pw_zt_after_fork_child();
		/* no compressor works on the child's copies: settled at once */
		int ok = pw_z_map(s, NULL, 0, 1) == 1 && !mapped(a) && mapped(b);
		_exit(ok ? 0 : 1);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(mapped(a)); /* the parent's job still has it */
	release_compressor();
	CHECK(pw_z_map(s, NULL, 0, 1) == 1);
	CHECK(!mapped(a));
	munmap(b, W);
}

int main(void)
{
	if (!zthread_test_start(__FILE__))
		return 0;
	char path[] = "/tmp/test_zmap.XXXXXX";
	fd = mkstemp(path);
	unlink(path);
	static const char zeros[W];
	for (int i = 0; i < WINDOWS; i++)
		CHECK(pwrite(fd, zeros, W, (off_t)i * W) == W);
	hdr.pid = (uint32_t)getpid();
	struct pw_stream s = {.hdr = &hdr, .fd = -1};
	test_no_compressor(&s);
	uint32_t t;
	int slot = pw_zt_claim(hdr.pid, &t); /* makes the compressor */
	CHECK(slot >= 0);
	pw_zt_unclaim(slot, t);
	CHECK(pw_zt_running(hdr.pid));
	test_slide_and_settle(&s);
	test_take_back(&s);
	test_settle_takes_back(&s);
	test_fork_child(&s);
	close(fd);
	return UNIT_DONE();
}
