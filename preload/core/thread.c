/*
 * Per-thread state: the registry of thread states, lazy start on a thread's
 * first event, the pthread_create wrapper, and the thread's end (flushed
 * from a pthread key destructor, which runs for return and pthread_exit).
 *
 * States are never freed: a dead state is reused by a later thread only
 * after its old thread has dropped its pointer to it, so a late signal can
 * never write into someone else's stream.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <string.h>

#include "clock.h"
#include "recorder.h"
#include "shim.h"

__thread struct ps_thread *ps_self PS_TLS;
__thread int ps_thread_over PS_TLS;

static struct ps_thread *all_threads; /* push-only list */
/* Counters of states that were reused: the API's totals include them. */
static uint64_t retired[PST_C_COUNTER_MAX];
static int64_t retired_live;

void ps_thread_retired(uint64_t out[PST_C_COUNTER_MAX], int64_t *live)
{
	for (unsigned i = 0; i < PST_C_COUNTER_MAX; i++)
		out[i] = __atomic_load_n(&retired[i], __ATOMIC_RELAXED);
	*live = __atomic_load_n(&retired_live, __ATOMIC_RELAXED);
}
static uint32_t next_seq; /* thread file numbers */
static pthread_key_t end_key;
static int end_key_ok;

uint32_t ps_thread_take_seq(void)
{
	return __atomic_add_fetch(&next_seq, 1, __ATOMIC_RELAXED);
}

struct ps_thread *ps_thread_list(void)
{
	return __atomic_load_n(&all_threads, __ATOMIC_ACQUIRE);
}

static void thread_key_destructor(void *arg);

static void make_end_key(void)
{
	if (!end_key_ok && pthread_key_create(&end_key, thread_key_destructor) == 0)
		end_key_ok = 1;
}

/* A state to use: a dead one if any, else fresh pages. */
static struct ps_thread *claim_state(void)
{
	for (struct ps_thread *t = ps_thread_list(); t; t = t->next_all) {
		int dead = PS_T_DEAD;
		if (t->state == PS_T_DEAD &&
		    __atomic_compare_exchange_n(&t->state, &dead, PS_T_ACTIVE, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			struct ps_thread *keep = t->next_all;
			for (unsigned i = 0; i < PST_C_COUNTER_MAX; i++)
				__atomic_add_fetch(&retired[i], t->counters[i], __ATOMIC_RELAXED);
			__atomic_add_fetch(&retired_live, t->live_bytes, __ATOMIC_RELAXED);
			memset(t, 0, sizeof(*t));
			t->next_all = keep;
			t->state = PS_T_ACTIVE;
			return t;
		}
	}
	struct ps_thread *t = ps_alloc_pages(sizeof(struct ps_thread));
	if (!t)
		return NULL;
	t->state = PS_T_ACTIVE;
	struct ps_thread *head = ps_thread_list();
	do {
		t->next_all = head;
	} while (!__atomic_compare_exchange_n(&all_threads, &head, t, 0, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return t;
}

static void record_thread_file(struct ps_thread *t, uint64_t start)
{
	uint8_t buf[64], *p = buf;
	p = pst_put_varint(p, t->seq);
	p = pst_put_varint(p, (uint64_t)t->tid);
	p = pst_put_varint(p, start);
	ps_process_ext(PST_X_THREAD_FILE, buf, (size_t)(p - buf));
}

/* The process file also keeps each thread's end and last name. */
static void record_thread_exit(struct ps_thread *t, uint64_t end)
{
	char name[32] = "";
	uint8_t buf[80], *p = buf;
	pthread_getname_np(pthread_self(), name, sizeof(name));
	p = pst_put_varint(p, t->seq);
	p = pst_put_varint(p, end);
	p = pst_put_str(p, name, strnlen(name, sizeof(name)));
	ps_process_ext(PST_X_THREAD_EXIT, buf, (size_t)(p - buf));
}

void ps_thread_set_name(struct ps_thread *t, const char *name)
{
	uint8_t buf[64], *p = buf;
	size_t n = strnlen(name, 32);
	p = pst_put_str(p, name, n);
	ps_write_ext(t, PST_X_THREAD_NAME, buf, (size_t)(p - buf));
}

/* "<process file>.t<seq>"; 0, or -1 when it does not fit. */
static int thread_file_path(const struct ps_thread *t, char *path, size_t cap)
{
	char num[24];
	size_t plen = strlen(ps_process_path);
	ps_u64_to_str(num, t->seq);
	if (plen + 2 + strlen(num) >= cap)
		return -1;
	memcpy(path, ps_process_path, plen);
	memcpy(path + plen, ".t", 2);
	strcpy(path + plen + 2, num);
	return 0;
}

/* Open the trace file of state t for thread tid and announce it; 0 on
 * success. A lazy state is only announced (THREAD_FILE_LAZY): its file is
 * made by its first record (ps_thread_open_lazy). Half the files of a
 * short process, and file creation is most of what it pays for the shim
 * (0.3-0.6 ms of CPU per file on ext4 here). */
static int open_state(struct ps_thread *t, pid_t tid, bool lazy)
{
	t->busy = 1;
	t->tid = tid;
	t->seq = __atomic_add_fetch(&next_seq, 1, __ATOMIC_RELAXED);
	uint64_t start = ps_now();
	t->last_ticks = start;
	if (lazy) {
		t->out.fd = -1; /* no descriptor kept yet */
		t->file_start = start;
		t->file_lazy = 1;
		uint8_t buf[64], *p = buf;
		p = pst_put_varint(p, t->seq);
		p = pst_put_varint(p, (uint64_t)t->tid);
		p = pst_put_varint(p, start);
		ps_process_ext(PST_X_THREAD_FILE_LAZY, buf, (size_t)(p - buf));
		return 0;
	}

	char path[PATH_MAX];
	if (thread_file_path(t, path, sizeof(path)))
		return -1;
	int rc = pw_open(&t->out, path, PST_MAGIC_THREAD, (uint32_t)ps_pid, (uint32_t)t->tid,
			 t->seq, start, ps_cfg.buffer_bytes);
	if (rc && ps_spare_take(t, tid, start))
		rc = 0; /* after a privilege drop: a file made before it */
	if (!rc)	/* compress finished windows (zwriter.c) */
		pw_z_enable(&t->out, (int)ps_cfg.compress_level, t->counters);
	if (rc) {
		ps_log("cannot create thread trace ", path, ": ", strerror(-rc),
		       "; this thread is not recorded", NULL);
		return -1;
	}
	record_thread_file(t, start);
	return 0;
}

/* In the thread itself, maybe in a signal handler (a CPU sample or an RSS
 * reading can be its first record): system calls only, no lock (the file
 * was announced at start), no stdio. The file starts with the thread's
 * name, as an eagerly made one does. A spare file is not taken here: its
 * number was never announced; the setuid hooks make the file before a drop
 * instead (ps_thread_open_lazy_self). */
uint8_t *ps_thread_open_lazy(struct ps_thread *t, size_t max)
{
	if (!__atomic_exchange_n(&t->file_lazy, 0, __ATOMIC_ACQ_REL))
		return NULL;
	int saved = errno;
	char path[PATH_MAX], num[24];
	int rc = thread_file_path(t, path, sizeof(path))
		     ? -ENAMETOOLONG
		     : pw_open(&t->out, path, PST_MAGIC_THREAD, (uint32_t)ps_pid, (uint32_t)t->tid,
			       t->seq, t->file_start, ps_cfg.buffer_bytes);
	if (rc) {
		t->out.failed = 1; /* its counters go to the process file */
		ps_u64_to_str(num, (uint64_t)-rc);
		ps_log("cannot create thread trace ", path, ": errno ", num,
		       "; this thread is not recorded from now on", NULL);
		errno = saved;
		return NULL;
	}
	pw_z_enable(&t->out, (int)ps_cfg.compress_level, t->counters); /* as an eager file */
	char name[32];
	if (pthread_getname_np(pthread_self(), name, sizeof(name)) == 0)
		ps_thread_set_name(t, name);
	errno = saved;
	return pw_reserve(&t->out, max);
}

void ps_thread_open_lazy_self(void)
{
	struct ps_thread *t = ps_self;
	if (t && t->file_lazy && ps_enter(t)) {
		uint8_t *p = ps_thread_open_lazy(t, 0);
		(void)p;
		ps_leave(t);
	}
}

static struct ps_thread *start_thread(bool lazy)
{
	struct ps_thread *t = claim_state();
	if (!t)
		return NULL;
	if (open_state(t, ps_gettid(), lazy))
		goto fail;
	char name[32];
	if (!lazy && pthread_getname_np(pthread_self(), name, sizeof(name)) == 0)
		ps_thread_set_name(t, name);
	ps_self = t;
	if (end_key_ok)
		pthread_setspecific(end_key, t);
	ps_recorders_thread_start(t);
	t->busy = 0;
	return t;
fail:
	ps_thread_over = 1; /* do not retry on every event */
	t->state = PS_T_DEAD;
	return NULL;
}

struct ps_thread *ps_thread_start(void)
{
	return start_thread(false);
}

struct ps_thread *ps_thread_start_lazy(void)
{
	return start_thread(true);
}

/* --- threads that were running before the shim started --- */

/* States made by ps_thread_start_for and not yet taken by their thread. */
static volatile int adopt_pending;

struct ps_thread *ps_thread_start_for(pid_t tid)
{
	struct ps_thread *t = claim_state();
	if (!t)
		return NULL;
	if (open_state(t, tid, false)) {
		t->state = PS_T_DEAD;
		return NULL;
	}
	char path[64], name[32], num[24];
	ps_u64_to_str(num, (uint64_t)tid);
	strcpy(path, "/proc/self/task/");
	strcat(path, num);
	strcat(path, "/comm");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (n > 0) {
			name[n] = 0;
			name[strcspn(name, "\n")] = 0;
			ps_thread_set_name(t, name);
		}
	}
	t->adopt = 1;
	__atomic_add_fetch(&adopt_pending, 1, __ATOMIC_RELEASE);
	t->busy = 0;
	return t;
}

/* Async-signal-safe: no allocation, no lock, only a walk of the push-only
 * registry and a compare-and-swap. The state was fully made beforehand;
 * taking it only binds it to this thread's ps_self. */
struct ps_thread *ps_thread_adopt(void)
{
	if (!__atomic_load_n(&adopt_pending, __ATOMIC_ACQUIRE))
		return NULL;
	pid_t tid = ps_gettid();
	for (struct ps_thread *t = ps_thread_list(); t; t = t->next_all) {
		int one = 1;
		if (t->tid == tid && t->state == PS_T_ACTIVE && t->adopt &&
		    __atomic_compare_exchange_n(&t->adopt, &one, 0, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			__atomic_sub_fetch(&adopt_pending, 1, __ATOMIC_RELEASE);
			ps_self = t;
			return t;
		}
	}
	return NULL;
}

struct ps_thread *ps_thread_get(void)
{
	struct ps_thread *t = ps_self;
	if (PS_LIKELY(t != NULL))
		return t;
	if (ps_thread_over || !ps_initialized || ps_disabled)
		return NULL;
	t = ps_thread_adopt();
	if (t) {
		if (end_key_ok)
			pthread_setspecific(end_key, t);
		return t;
	}
	return ps_thread_start();
}

void ps_write_ext(struct ps_thread *t, unsigned ext, const uint8_t *payload, size_t len)
{
	uint8_t *p = ps_reserve(t, len + 2 * PST_VARINT_MAX);
	if (!p)
		return;
	p = pst_put_tag(p, ext, PST_K_EXT);
	p = pst_put_varint(p, len);
	memcpy(p, payload, len);
	ps_commit(t, p + len);
}

/* Counters as (id, value) pairs, zero ones left out. */
static size_t encode_counters(const struct ps_thread *t, uint8_t *buf)
{
	uint8_t *p = buf;
	for (unsigned i = 1; i < PST_C_COUNTER_MAX; i++) {
		uint64_t v = __atomic_load_n(&t->counters[i], __ATOMIC_RELAXED);
		if (v) {
			p = pst_put_varint(p, i);
			p = pst_put_varint(p, v);
		}
	}
	return (size_t)(p - buf);
}

void ps_thread_write_counters(struct ps_thread *t)
{
	uint8_t buf[PST_C_COUNTER_MAX * 2 * PST_VARINT_MAX + PST_VARINT_MAX];
	if (t->out.failed || t->file_lazy) {
		/* The thread's own file cannot take them (or was never made:
		 * no record needed it): what it dropped is told in the
		 * process file (seq first, as for live threads). */
		uint8_t *p = pst_put_varint(buf, t->seq);
		size_t n = encode_counters(t, p);
		ps_process_ext(PST_X_COUNTERS, buf, (size_t)(p - buf) + n);
		return;
	}
	size_t n = encode_counters(t, buf);
	ps_write_ext(t, PST_X_COUNTERS, buf, n);
}

void ps_thread_end(struct ps_thread *t)
{
	if (!t || t->state != PS_T_ACTIVE)
		return;
	t->busy = 1;
	/* in table order: the CPU timer is deleted before the state goes away */
	ps_recorders_thread_end(t);
	uint64_t end = ps_now();
	uint8_t buf[16], *p = pst_put_varint(buf, end);
	if (!t->file_lazy) /* no file is made for it: THREAD_EXIT has the end */
		ps_write_ext(t, PST_X_THREAD_END, buf, (size_t)(p - buf));
	record_thread_exit(t, end);
	pw_z_settle(&t->out); /* its last job counted (zwriter.c) */
	ps_thread_write_counters(t);
	pw_close(&t->out);
	ps_stacks_free(t);
	if (ps_self == t) {
		ps_self = NULL;
		ps_thread_over = 1;
	}
	__atomic_store_n(&t->state, PS_T_DEAD, __ATOMIC_RELEASE);
}

static void thread_key_destructor(void *arg)
{
	int saved = errno;
	ps_thread_end(arg);
	errno = saved;
}

/* --- pthread_create: start the new thread's state before its routine --- */

struct start_args {
	void *(*fn)(void *);
	void *arg;
};

static void *thread_trampoline(void *raw)
{
	struct start_args a = *(struct start_args *)raw;
	struct ps_thread *self = ps_self; /* NULL: new thread */
	(void)self;
	if (ps_initialized && !ps_disabled)
		ps_thread_start();
	ps_free_pages(raw, sizeof(struct start_args));
	return a.fn(a.arg);
}

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

PS_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			     void *arg)
{
	static pthread_create_fn real;
	if (!real)
		real = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
	if (!ps_initialized || ps_disabled)
		return real(th, attr, fn, arg);
	/* Pages, not malloc: the shim must not add allocations to the
	 * program's own counts. */
	struct start_args *a = ps_alloc_pages(sizeof(*a));
	if (!a)
		return real(th, attr, fn, arg);
	a->fn = fn;
	a->arg = arg;
	int rc = real(th, attr, thread_trampoline, a);
	if (rc)
		ps_free_pages(a, sizeof(*a));
	return rc;
}

typedef int (*setname_fn)(pthread_t, const char *);

PS_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
	static setname_fn real;
	if (!real)
		real = (setname_fn)dlsym(RTLD_NEXT, "pthread_setname_np");
	int rc = real(th, name);
	if (rc == 0 && pthread_equal(th, pthread_self())) {
		struct ps_thread *t = ps_thread_get();
		if (t && ps_enter(t)) {
			ps_thread_set_name(t, name);
			ps_leave(t);
		}
	}
	return rc;
}

void ps_threads_init(void)
{
	make_end_key();
}

/* In a forked child only the calling thread exists: forget every other
 * state (their mappings belong to the parent's files) without writing. */
void ps_threads_after_fork_child(void)
{
	for (struct ps_thread *t = ps_thread_list(); t; t = t->next_all) {
		if (t->state != PS_T_ACTIVE)
			continue;
		pw_abandon(&t->out);
		ps_stacks_free(t);
		t->state = PS_T_DEAD;
	}
	ps_self = NULL;
	ps_thread_over = 0;
	next_seq = 0;
}
