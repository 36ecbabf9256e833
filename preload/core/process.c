/*
 * The process: start-up (constructor or first hook, whichever comes first),
 * the process file, the end of the process, fork and exec.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "recorder.h"
#include "shim.h"

pid_t ps_pid;
char ps_process_path[PATH_MAX];
volatile int ps_recording;
volatile int ps_initialized;
int ps_disabled;

static struct pw_stream proc_out;
static int proc_lock;
static int init_state; /* 0 = not started, 1 = starting, 2 = done */
static int finished;

static void lock_process(void)
{
	while (__atomic_exchange_n(&proc_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void unlock_process(void)
{
	__atomic_store_n(&proc_lock, 0, __ATOMIC_RELEASE);
}

void ps_process_ext(unsigned ext, const uint8_t *payload, size_t len)
{
	lock_process();
	uint8_t *p = pw_reserve(&proc_out, len + 2 * PST_VARINT_MAX);
	if (p) {
		p = pst_put_tag(p, ext, PST_K_EXT);
		p = pst_put_varint(p, len);
		memcpy(p, payload, len);
		pw_commit(&proc_out, p + len);
	} else if (ps_self) {
		/* never silent: the calling thread's counters tell it */
		__atomic_add_fetch(&ps_self->counters[PST_C_DROP_NO_SPACE], 1, __ATOMIC_RELAXED);
	}
	unlock_process();
}

/* --- naming the process file --- */

static size_t append(char *dst, size_t n, size_t cap, const char *src)
{
	size_t len = strlen(src);
	if (n + len >= cap)
		len = cap - n - 1;
	memcpy(dst + n, src, len);
	dst[n + len] = 0;
	return n + len;
}

/* Expand the PROFSHIM_OUTPUT pattern (%p = pid, %% = %) or the default
 * "profshim.<program>.<pid>.trace", made absolute so that a chdir in the
 * program does not move the thread files. */
static void expand_output(char *out, size_t cap)
{
	char num[24];
	size_t n = 0;
	out[0] = 0;
	const char *pat = ps_cfg.output;
	if (pat[0] != '/') {
		if (getcwd(out, cap - 2))
			n = strlen(out);
		if (n && out[n - 1] != '/')
			n = append(out, n, cap, "/");
	}
	if (!pat[0]) {
		n = append(out, n, cap, "profshim.");
		n = append(out, n, cap, program_invocation_short_name);
		n = append(out, n, cap, ".");
		ps_u64_to_str(num, (uint64_t)ps_pid);
		n = append(out, n, cap, num);
		append(out, n, cap, ".trace");
		return;
	}
	for (const char *p = pat; *p && n < cap - 1; p++) {
		if (p[0] == '%' && p[1] == 'p') {
			ps_u64_to_str(num, (uint64_t)ps_pid);
			n = append(out, n, cap, num);
			p++;
		} else {
			if (p[0] == '%' && p[1] == '%')
				p++;
			out[n++] = *p;
			out[n] = 0;
		}
	}
}

/* A name is taken when a thread file of an earlier process has it as its
 * base. The name itself needs no check: it is created with O_EXCL, and
 * EEXIST moves on to the next one. */
static int path_taken(const char *path)
{
	char t1[PATH_MAX + 4];
	struct stat st;
	if (strlen(path) + 4 >= sizeof(t1))
		return 1;
	strcpy(t1, path);
	strcat(t1, ".t1");
	return lstat(t1, &st) == 0;
}

/* Create the process file under the first free name: the pattern, then
 * "<pattern>.<pid>", then "<pattern>.<pid>.<n>". Never overwrites. */
static int open_process_file(uint64_t start)
{
	char base[PATH_MAX], cand[PATH_MAX], num[24], num2[24];
	expand_output(base, sizeof(base) - 64);
	ps_u64_to_str(num, (uint64_t)ps_pid);
	bool run_dir = ps_run_is_dir(base);
	int rc = -EEXIST;
	for (unsigned i = 0; i < 100 && rc == -EEXIST; i++) {
		if (run_dir) {
			ps_run_candidate(base, i, cand, sizeof(cand) - 64);
			if (!path_taken(cand))
				rc = pw_open(&proc_out, cand, PST_MAGIC_PROCESS, (uint32_t)ps_pid,
					     (uint32_t)ps_pid, 0, start, 256 * 1024);
			continue;
		}
		size_t n = append(cand, 0, sizeof(cand), base);
		if (i > 0) {
			n = append(cand, n, sizeof(cand), ".");
			n = append(cand, n, sizeof(cand), num);
		}
		if (i > 1) {
			ps_u64_to_str(num2, i - 1);
			n = append(cand, n, sizeof(cand), ".");
			append(cand, n, sizeof(cand), num2);
		}
		if (path_taken(cand))
			continue;
		rc = pw_open(&proc_out, cand, PST_MAGIC_PROCESS, (uint32_t)ps_pid, (uint32_t)ps_pid,
			     0, start, 256 * 1024);
	}
	if (rc) {
		ps_log("cannot create trace file ", base, ": ", strerror(-rc),
		       "; profiling is off, the program runs on", NULL);
		return rc;
	}
	strcpy(ps_process_path, cand);
	return 0;
}

/* --- what the process file says about the process --- */

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void write_clock_sync(void)
{
	uint8_t buf[32], *p = buf;
	p = pst_put_varint(p, ps_now());
	p = pst_put_varint(p, ps_mono_ns());
	ps_process_ext(PST_X_CLOCK_SYNC, buf, (size_t)(p - buf));
}

static void write_process_info(uint64_t start)
{
	static uint8_t buf[PST_MAX_RECORD - 64];
	ps_clock_settle(); /* the rate goes in, and recorders start next */
	const char *exe = ps_exe_path();
	size_t elen = strlen(exe);
	size_t alen;
	const char *args = ps_run_start_cmdline(&alen);

	uint8_t *p = buf;
	p = pst_put_varint(p, (uint64_t)ps_pid);
	p = pst_put_varint(p, (uint64_t)getppid());
	p = pst_put_varint(p, (uint64_t)ps_clock_kind);
	p = pst_put_varint(p, ps_ticks_per_sec_x1000);
	p = pst_put_varint(p, start);
	p = pst_put_varint(p, ps_mono_ns());
	p = pst_put_varint(p, wall_ns());
	p = pst_put_varint(p, ps_cfg.record);
	p = pst_put_str(p, exe, elen);
	unsigned argc = 0;
	for (size_t i = 0; i < alen; i++)
		argc += args[i] == 0;
	if (alen && args[alen - 1] != 0)
		argc++;
	p = pst_put_varint(p, argc);
	for (size_t i = 0; i < alen && argc;) {
		size_t len = strnlen(args + i, alen - i);
		p = pst_put_str(p, args + i, len);
		i += len + 1;
		argc--;
	}
	ps_process_ext(PST_X_PROCESS_INFO, buf, (size_t)(p - buf));
}

/* Open the process file and describe the process; 0 on success. */
static int start_process(void)
{
	ps_pid = getpid();
	uint64_t start = ps_now();
	if (open_process_file(start))
		return -1;
	write_process_info(start);
	ps_run_record_link();
	write_clock_sync();
	ps_modules_record();
	return 0;
}

/* --- start-up --- */

static void at_fork_prepare(void);
static void at_fork_parent(void);
static void at_fork_child(void);
static void save_env_for_exec(void);

void ps_init(void)
{
	if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == 2)
		return;
	int expect = 0;
	if (!__atomic_compare_exchange_n(&init_state, &expect, 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return; /* another thread, or our own start-up, is on it */
	int saved = errno;
	ps_config_load();
	ps_clock_init();
	ps_threads_init();
	save_env_for_exec();
	ps_pid = getpid();
	ps_run_at_start();
	ps_recorders_before_files();
	if (start_process() != 0) {
		ps_disabled = 1;
	} else {
		pthread_atfork(at_fork_prepare, at_fork_parent, at_fork_child);
		ps_recorders_init();
		ps_recording = !ps_cfg.start_paused;
		__atomic_store_n(&ps_initialized, 1, __ATOMIC_RELEASE);
		ps_thread_start_lazy(); /* the thread that starts us */
		ps_recorders_start();
		ps_run_after_start();
	}
	__atomic_store_n(&init_state, 2, __ATOMIC_RELEASE);
	errno = saved;
}

/* glibc passes the program's argc, argv and environment to constructors:
 * its command line without opening /proc (run.c). */
__attribute__((constructor(101))) static void ps_constructor(int argc, char **argv, char **envp)
{
	(void)envp;
	ps_run_note_argv(argc, argv);
	ps_init();
}

/* --- the end --- */

static void write_thread_counters(void)
{
	for (struct ps_thread *t = ps_thread_list(); t; t = t->next_all) {
		if (t->state != PS_T_ACTIVE)
			continue;
		/* and their call trees, which would be lost with them */
		if (t != ps_self)
			ps_recorders_flush_other(t);
		/* Threads still running: their counters go to the process file
		 * (never write into another thread's stream). */
		uint8_t buf[PST_C_COUNTER_MAX * 2 * PST_VARINT_MAX + 16], *p = buf;
		p = pst_put_varint(p, t->seq);
		for (unsigned i = 1; i < PST_C_COUNTER_MAX; i++) {
			uint64_t v = __atomic_load_n(&t->counters[i], __ATOMIC_RELAXED);
			if (v) {
				p = pst_put_varint(p, i);
				p = pst_put_varint(p, v);
			}
		}
		ps_process_ext(PST_X_COUNTERS, buf, (size_t)(p - buf));
	}
}

void ps_process_finish(unsigned reason, int status)
{
	if (!ps_initialized || ps_disabled)
		return;
	if (reason != PST_END_EXEC && __atomic_exchange_n(&finished, 1, __ATOMIC_ACQ_REL))
		return;
	/* A vfork (or raw clone) child runs on our memory without the fork
	 * handlers: its exec must not end the parent's trace. */
	if (reason == PST_END_EXEC && getpid() != ps_pid)
		return;
	struct ps_thread *self = ps_self;
	if (reason != PST_END_EXEC)
		ps_recorders_finish();
	if (reason != PST_END_EXEC && self)
		ps_thread_end(self);
	else if (self && ps_enter(self)) {
		ps_recorders_flush(self);
		ps_thread_write_counters(self);
		ps_leave(self);
	}
	write_thread_counters();
	ps_clock_write_refined();
	write_clock_sync();
	ps_run_record_cmdline();
	ps_spares_finish();
	uint8_t buf[64], *p = buf;
	p = pst_put_varint(p, ps_now());
	p = pst_put_varint(p, ps_mono_ns());
	p = pst_put_varint(p, wall_ns());
	p = pst_put_varint(p, reason);
	p = pst_put_varint(p, (uint64_t)(int64_t)status);
	ps_process_ext(PST_X_PROCESS_END, buf, (size_t)(p - buf));
	if (reason == PST_END_EXEC) {
		/* The new image may never come back (the usual case): leave
		 * files the size of their data. Other threads' streams may be
		 * written right now: the next image trims those. */
		if (self && ps_enter(self)) {
			pw_trim(&self->out);
			ps_leave(self);
		}
		lock_process();
		pw_trim(&proc_out);
		unlock_process();
	}
	if (reason != PST_END_EXEC) {
		ps_recording = 0;
		lock_process();
		pw_close(&proc_out);
		unlock_process();
	}
}

__attribute__((destructor(101))) static void ps_destructor(void)
{
	int saved = errno;
	ps_process_finish(PST_END_EXIT, 0);
	errno = saved;
}

/* --- fork: the child gets files of its own --- */

static void at_fork_prepare(void)
{
	ps_recorders_before_fork();
	lock_process();
}

static void at_fork_parent(void)
{
	unlock_process();
	ps_recorders_after_fork(PS_FORK_PARENT);
}

static void at_fork_child(void)
{
	proc_lock = 0;
	pw_abandon(&proc_out);
	ps_run_fork_child(ps_process_path);
	ps_spares_after_fork_child();
	ps_recorders_fork_child_early(ps_self);
	pw_zt_after_fork_child(); /* no compressor thread here (zthread.c) */
	ps_threads_after_fork_child();
	if (start_process() != 0) {
		ps_disabled = 1;
		ps_recorders_after_fork(PS_FORK_CHILD_OFF);
		return;
	}
	ps_thread_start_lazy();
	ps_recorders_after_fork(PS_FORK_CHILD);
}

/* --- exec: close this image's trace, keep the new image profiled --- */

#define MAX_SAVED_ENV 32
static char env_store[8192];
static char *env_saved[MAX_SAVED_ENV];
static unsigned env_nsaved;

/* LD_PRELOAD and PROFSHIM_* as they were at start, so an exec with an
 * environment of its own still loads the shim with the same settings. */
static void save_env_for_exec(void)
{
	size_t used = 0;
	env_nsaved = 0;
	for (char **e = environ; e && *e && env_nsaved < MAX_SAVED_ENV; e++) {
		if (strncmp(*e, "LD_PRELOAD=", 11) && strncmp(*e, "PROFSHIM_", 9))
			continue;
		if (ps_run_is_exec_env(*e) || ps_clock_is_exec_env(*e))
			continue; /* made anew for each exec */
		size_t len = strlen(*e) + 1;
		if (used + len > sizeof(env_store))
			break;
		memcpy(env_store + used, *e, len);
		env_saved[env_nsaved++] = env_store + used;
		used += len;
	}
}

static int env_has(char *const envp[], const char *entry)
{
	size_t klen = strcspn(entry, "=") + 1;
	for (char *const *e = envp; e && *e; e++)
		if (!strncmp(*e, entry, klen))
			return 1;
	return 0;
}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execvpe_fn)(const char *, char *const[], char *const[]);

static void before_exec(void)
{
	ps_recorders_before_exec();
	ps_process_finish(PST_END_EXEC, 0);
}

static void after_failed_exec(void)
{
	ps_recorders_after_failed_exec();
}

/* Run `call` with envp extended by the saved variables it lacks. */
#define WITH_ENV(envp, newenv, call)                                                               \
	do {                                                                                       \
		size_t n_ = 0;                                                                     \
		while ((envp) && (envp)[n_])                                                       \
			n_++;                                                                      \
		char *newenv[n_ + MAX_SAVED_ENV + 3];                                              \
		size_t k_ = 0;                                                                     \
		for (size_t i_ = 0; i_ < n_; i_++)                                                 \
			if (!ps_run_is_exec_env((envp)[i_]) && !ps_clock_is_exec_env((envp)[i_]))  \
				newenv[k_++] = (envp)[i_];                                         \
		if (!ps_disabled)                                                                  \
			newenv[k_++] = (char *)ps_run_exec_env();                                  \
		if (!ps_disabled && ps_clock_exec_env())                                           \
			newenv[k_++] = (char *)ps_clock_exec_env();                                \
		for (unsigned i_ = 0; i_ < env_nsaved; i_++)                                       \
			if (!env_has((envp), env_saved[i_]))                                       \
				newenv[k_++] = env_saved[i_];                                      \
		newenv[k_] = NULL;                                                                 \
		call;                                                                              \
	} while (0)

PS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	static execve_fn real;
	if (!real)
		real = (execve_fn)dlsym(RTLD_NEXT, "execve");
	before_exec();
	int rc;
	WITH_ENV(envp, env2, rc = real(path, argv, env2));
	int saved = errno;
	after_failed_exec();
	errno = saved;
	return rc;
}

PS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	static execvpe_fn real;
	if (!real)
		real = (execvpe_fn)dlsym(RTLD_NEXT, "execvpe");
	before_exec();
	int rc;
	WITH_ENV(envp, env2, rc = real(file, argv, env2));
	int saved = errno;
	after_failed_exec();
	errno = saved;
	return rc;
}

PS_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

PS_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* Collect the variadic argument list of the execl family into an array. */
#define COLLECT_ARGS(arg0, ap, argv, extra)                                                        \
	size_t argc_ = 1;                                                                          \
	va_start(ap, arg0);                                                                        \
	while (va_arg(ap, const char *))                                                           \
		argc_++;                                                                           \
	va_end(ap);                                                                                \
	char *argv[argc_ + 1];                                                                     \
	va_start(ap, arg0);                                                                        \
	argv[0] = (char *)(arg0);                                                                  \
	for (size_t i_ = 1; i_ <= argc_; i_++)                                                     \
		argv[i_] = va_arg(ap, char *);                                                     \
	extra;                                                                                     \
	va_end(ap)

PS_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv, (void)0);
	return execve(path, argv, environ);
}

PS_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv, (void)0);
	return execvpe(file, argv, environ);
}

PS_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char **envp;
	COLLECT_ARGS(arg, ap, argv, envp = va_arg(ap, char **));
	return execve(path, argv, envp);
}
