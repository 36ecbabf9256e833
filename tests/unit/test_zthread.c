/* Unit tests of the compressor thread's hand-over (preload/core/zthread.c):
 * jobs posted from several threads at once each run once and their
 * results come back to their writer; a job not started can be taken back;
 * a writer that stops waiting leaves the slot to the compressor; a full
 * table says so instead of waiting; the thread is named "profshim-z" and
 * (on x86-64, by default) is the raw thread glibc does not know about.
 * The compression itself (pw_z_job_run) is a stub here: bats tests cover
 * it end to end (tests/compress.bats). */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../preload/core/rawthread.c"
#include "../../preload/core/zthread.c"
#include "unit.h"
#include "zthread_stubs.h"

/* The stub job: level 1 succeeds, level 0 fails; `hold` keeps the
 * compressor inside a job. Raw calls only: it runs in a raw thread. */
static int runs, hold, inside;
int pw_z_job_run(const struct pw_zjob *j, struct pw_zscratch *sc)
{
	(void)sc;
	__atomic_add_fetch(&runs, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&inside, 1, __ATOMIC_RELEASE);
	struct timespec ms = {0, 1000000};
	while (__atomic_load_n(&hold, __ATOMIC_ACQUIRE))
		zsys6(SYS_nanosleep, (long)&ms, 0, 0, 0, 0, 0);
	__atomic_store_n(&inside, 0, __ATOMIC_RELEASE);
	return j->level ? 0 : -1;
}

#define WRITERS 4
#define JOBS 500

/* Post JOBS jobs one at a time (claim, post, wait for the result). */
static void *writer(void *arg)
{
	long bad = 0, id = (long)arg;
	for (int i = 0; i < JOBS; i++) {
		uint32_t ticket;
		int slot;
		while ((slot = pw_zt_claim((uint32_t)getpid(), &ticket)) == PW_ZT_FULL)
			usleep(100);
		if (slot < 0)
			return (void *)1000L;
		struct pw_zjob j = {.fd = -1, .level = (i + (int)id) % 2, .seq = (uint64_t)i};
		pw_zt_post(slot, ticket, &j);
		int r = pw_zt_wait(slot, ticket, 10000);
		bad += r != (j.level ? PW_ZT_OK : PW_ZT_FAIL);
	}
	return (void *)bad;
}

/* How many threads are called name; *tid: the last one's id. */
static int named_threads(const char *name, long *tid)
{
	char path[300], comm[64];
	int n = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = e->d_name[0] != '.' ? fopen(path, "r") : NULL;
		if (f && fgets(comm, sizeof(comm), f) && !strncmp(comm, name, strlen(name))) {
			n++;
			*tid = atol(e->d_name);
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

static void test_many_writers(void)
{
	pthread_t th[WRITERS];
	for (long i = 0; i < WRITERS; i++)
		pthread_create(&th[i], NULL, writer, (void *)i);
	long bad = 0;
	for (int i = 0; i < WRITERS; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (long)r;
	}
	CHECK(bad == 0);
	CHECK(runs == WRITERS * JOBS);
	long tid = 0;
	CHECK(named_threads("profshim-z", &tid) == 1);
	if (raw_kind())
		CHECK(tid == pw_raw_thread_tid()); /* the raw kind by default */
}

static void test_take_back_and_orphan(void)
{
	uint32_t ta, tb;
	struct pw_zjob ja = {.fd = -1, .level = 1}, jb = {.fd = -1, .level = 1, .seq = 7}, got;
	__atomic_store_n(&hold, 1, __ATOMIC_RELEASE);
	int a = pw_zt_claim((uint32_t)getpid(), &ta);
	CHECK(a >= 0);
	pw_zt_post(a, ta, &ja);
	while (!__atomic_load_n(&inside, __ATOMIC_ACQUIRE))
		usleep(1000);
	/* B waits behind A: taken back whole */
	int b = pw_zt_claim((uint32_t)getpid(), &tb);
	CHECK(b >= 0 && b != a);
	pw_zt_post(b, tb, &jb);
	CHECK(pw_zt_cancel(b, tb, &got) == 1);
	CHECK(got.seq == 7);
	CHECK(pw_zt_cancel(b, tb, &got) == 0); /* once */
	/* A is being run: not taken back; a short wait gives up on it */
	CHECK(pw_zt_cancel(a, ta, &got) == 0);
	CHECK(pw_zt_result(a, ta) == PW_ZT_PENDING);
	CHECK(pw_zt_wait(a, ta, 20) == PW_ZT_FAIL);
	int before = runs;
	__atomic_store_n(&hold, 0, __ATOMIC_RELEASE);
	/* the compressor frees the orphaned slot itself; B never ran */
	for (int i = 0;
	     i < 5000 && step(__atomic_load_n(&slots[a].state, __ATOMIC_ACQUIRE)) != ZS_FREE; i++)
		usleep(1000);
	CHECK(step(slots[a].state) == ZS_FREE);
	CHECK(runs == before);
}

static void test_full_table(void)
{
	uint32_t t[ZT_SLOTS + 1];
	int s[ZT_SLOTS + 1], n = 0;
	for (int i = 0; i <= ZT_SLOTS; i++) {
		s[i] = pw_zt_claim((uint32_t)getpid(), &t[i]);
		n += s[i] >= 0;
	}
	CHECK(n == ZT_SLOTS);
	CHECK(s[ZT_SLOTS] == PW_ZT_FULL);
	for (int i = 0; i < ZT_SLOTS; i++)
		pw_zt_unclaim(s[i], t[i]);
	uint32_t t1;
	int s1 = pw_zt_claim((uint32_t)getpid(), &t1);
	CHECK(s1 >= 0);
	pw_zt_unclaim(s1, t1);
	/* another process's writer (a vfork child) gets no compressor */
	CHECK(pw_zt_claim((uint32_t)getpid() + 1, &t1) == PW_ZT_NONE);
}

int main(void)
{
	if (!zthread_test_start(__FILE__))
		return 0;
	test_many_writers();
	test_take_back_and_orphan();
	test_full_table();
	return UNIT_DONE();
}
