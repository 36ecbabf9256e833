/*
 * Internal declarations shared by the shim's files: configuration, the
 * per-thread state and the small helpers every hook needs.
 *
 * Rules for everything under preload/ (see DESIGN.md): no stdio, no locks on
 * a hot path, no malloc except through the real allocator when not busy,
 * errno saved around every hook, async-signal-safe code in signal handlers.
 */
#ifndef PS_SHIM_H
#define PS_SHIM_H

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "profshim_trace.h"
#include "writer.h"

#define PS_EXPORT __attribute__((visibility("default")))
#define PS_TLS __attribute__((tls_model("initial-exec")))
#define PS_LIKELY(x) __builtin_expect(!!(x), 1)
#define PS_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* --- configuration (config.c), read once at start from PROFSHIM_* --- */
struct ps_config {
	char output[PATH_MAX];	   /* PROFSHIM_OUTPUT pattern, "" = default */
	unsigned record;	   /* enum pst_record bits, PROFSHIM_RECORD */
	unsigned cpu_hz;	   /* PROFSHIM_CPU_HZ */
	unsigned stack_depth;	   /* PROFSHIM_STACK_DEPTH */
	size_t buffer_bytes;	   /* PROFSHIM_BUFFER_KB * 1024: mapped window */
	unsigned compress_level;   /* PROFSHIM_COMPRESS: zstd level, 0 = raw */
	bool start_paused;	   /* PROFSHIM_START=paused */
	bool quiet;		   /* PROFSHIM_QUIET=1: no summary line */
	uint64_t mem_sample;	   /* PROFSHIM_MEM_SAMPLE bytes, 0 = every call */
	unsigned rss_ms;	   /* PROFSHIM_RSS_MS: RSS sampling interval */
	unsigned calls_mode;	   /* PROFSHIM_CALLS: 0 = tree, 1 = trace */
	uint64_t calls_min_ns;	   /* PROFSHIM_CALLS_MIN_NS */
	unsigned calls_max_depth;  /* PROFSHIM_CALLS_MAX_DEPTH */
	unsigned calls_time_every; /* PROFSHIM_CALLS_TIMING: 1 = exact, else 1 call in N */
};
enum { PS_CALLS_TREE = 0, PS_CALLS_TRACE = 1 };
extern struct ps_config ps_cfg __attribute__((visibility("hidden")));
void ps_config_load(void);

/* --- per-thread state (thread.c) --- */
enum ps_thread_state { PS_T_FREE = 0, PS_T_ACTIVE = 1, PS_T_DEAD = 2 };

/* Recorder-private per-thread parts; each recorder defines its own. */
struct ps_stack_table;
struct ps_mem_thread;
struct ps_calls_thread;
struct ps_cpu_thread;

struct ps_thread {
	struct pw_stream out;	    /* this thread's trace file */
	volatile sig_atomic_t busy; /* inside a hook: re-entry takes plain path */
	/* next to busy: the calls hooks read both on every call */
	struct ps_calls_thread *calls; /* preload/calls/calls_internal.h */
	volatile int state;	       /* enum ps_thread_state */
	volatile int adopt;	       /* made for a running thread, not yet taken */
	pid_t tid;
	uint32_t seq;
	uint64_t last_ticks; /* time of the previous timed record */
	uint64_t counters[PST_C_COUNTER_MAX];
	int64_t live_bytes;	       /* usable bytes allocated - freed by this thread */
	struct ps_stack_table *stacks; /* STACK trie (stacks.c) */
	struct ps_mem_thread *mem;     /* mem.c */
	struct ps_cpu_thread *cpu;     /* sampler.c */
	struct ps_thread *next_all;    /* registry list, never unlinked */
	/* CPU sampler (sampler.c): where a hook is, for a sample landing in it */
	volatile sig_atomic_t in_real;	   /* a hook runs the function it wraps */
	volatile sig_atomic_t unwinding;   /* a hook is inside libunwind */
	volatile sig_atomic_t cpu_pending; /* samples wait for the hook's end */
	/* io recorder (io.h): the wait in progress, published so the thread
	 * ending the process can record it (io_open_start 0 = none) */
	uint64_t io_open_start;
	uint64_t io_open_site, io_open_obj;
	uint32_t io_open_op;
	/* start-up (thread.c): the thread that starts a process makes its file
	 * on its first record (a short process often has none): 1 = not yet */
	volatile int file_lazy;
	uint64_t file_start; /* the start ticks its header will carry */
};

extern __thread struct ps_thread *ps_self PS_TLS;
extern __thread int ps_thread_over PS_TLS; /* the thread's end has run */

/* Global switches. Declared hidden (as ps_cfg above and the hot globals
 * of clock.h and mem/): -fvisibility=hidden covers definitions only, and
 * PIC code reads an extern not declared hidden through the GOT, one more
 * load on every hook that reads it. */
extern volatile int ps_recording __attribute__((visibility("hidden")));	  /* 1 while recording */
extern volatile int ps_initialized __attribute__((visibility("hidden"))); /* process file open */
extern int ps_disabled; /* failed to start: hooks pass through */
/* The program asked for the API's counters: full memory recording keeps
 * live_bytes from then on (api.c). */
extern int ps_live_wanted __attribute__((visibility("hidden")));

/* Start the shim if not yet started (constructor or first hook). */
void ps_init(void);
/* The current thread's state, starting the thread lazily; NULL when the
 * shim is off or the thread is past its end. Never call from a signal
 * handler (use ps_self there). */
struct ps_thread *ps_thread_get(void);
struct ps_thread *ps_thread_start(void);
/* The same for the thread that starts a process (at start, in a forked
 * child): its file is made on its first record, or never. */
struct ps_thread *ps_thread_start_lazy(void);
/* Make the calling thread's file now if it is still to be made (before a
 * privilege drop, after which it could not be). */
void ps_thread_open_lazy_self(void);
void ps_thread_end(struct ps_thread *t);
/* A state for thread tid, running before the shim started, made by another
 * thread (not bound to tid's ps_self); the thread takes it on its first
 * event or sample with ps_thread_adopt (async-signal-safe). */
struct ps_thread *ps_thread_start_for(pid_t tid);
struct ps_thread *ps_thread_adopt(void);
/* Walk every thread state ever created (for counters). */
struct ps_thread *ps_thread_list(void);
/* Counters of thread states reused since: part of the process totals. */
void ps_thread_retired(uint64_t out[PST_C_COUNTER_MAX], int64_t *live);
void ps_threads_init(void);
void ps_threads_after_fork_child(void);
void ps_thread_write_counters(struct ps_thread *t);
void ps_thread_set_name(struct ps_thread *t, const char *name);

/* Enter/leave a hook on thread t: returns false when t is already busy. */
static inline bool ps_enter(struct ps_thread *t)
{
	if (t->busy)
		return false;
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return true;
}
/* Write the samples that landed inside the hook (sample_queue.c); t busy. */
void ps_cpu_flush(struct ps_thread *t);
/* A hook's program stack (pcs innermost first, as captured for its
 * record): samples that landed while it was being unwound go under it
 * (sample_queue.c). */
void ps_cpu_hook_stack(struct ps_thread *t, const uintptr_t *pcs, int n);
static inline void ps_leave(struct ps_thread *t)
{
	if (PS_UNLIKELY(t->cpu_pending))
		ps_cpu_flush(t);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
}

/* A hook (t entered) calls the real function it wraps: a CPU sample that
 * lands inside it is the program's time, charged to the interrupted
 * frames; anywhere else in a hook it is the profiler's ([profshim]).
 * Every recorder's hooks should wrap their real calls in these. */
#define PS_REAL_CALL(t, expr)                                                                      \
	({                                                                                         \
		(t)->in_real = 1;                                                                  \
		__atomic_signal_fence(__ATOMIC_SEQ_CST);                                           \
		__typeof__(expr) r_ = (expr);                                                      \
		__atomic_signal_fence(__ATOMIC_SEQ_CST);                                           \
		(t)->in_real = 0;                                                                  \
		r_;                                                                                \
	})
#define PS_REAL_VOID(t, stmt)                                                                      \
	do {                                                                                       \
		(t)->in_real = 1;                                                                  \
		__atomic_signal_fence(__ATOMIC_SEQ_CST);                                           \
		stmt;                                                                              \
		__atomic_signal_fence(__ATOMIC_SEQ_CST);                                           \
		(t)->in_real = 0;                                                                  \
	} while (0)

/* Record helpers: reserve room for a record of at most max bytes; on
 * failure the event is counted as dropped and NULL returned. */
/* The first record of a thread whose file is made lazily (thread.c). */
uint8_t *ps_thread_open_lazy(struct ps_thread *t, size_t max);
static inline uint8_t *ps_reserve(struct ps_thread *t, size_t max)
{
	uint8_t *p = pw_reserve(&t->out, max);
	if (PS_UNLIKELY(!p) && t->file_lazy)
		p = ps_thread_open_lazy(t, max);
	if (PS_UNLIKELY(!p))
		t->counters[PST_C_DROP_NO_SPACE]++;
	return p;
}
static inline void ps_commit(struct ps_thread *t, uint8_t *end)
{
	pw_commit(&t->out, end);
	t->counters[PST_C_EVENTS]++;
}
/* dt for a timed record at `now`, advancing the thread's clock. */
static inline uint64_t ps_dt(struct ps_thread *t, uint64_t now)
{
	uint64_t dt = now >= t->last_ticks ? now - t->last_ticks : 0;
	t->last_ticks = now >= t->last_ticks ? now : t->last_ticks;
	return dt;
}
/* Write an EXT record of `len` payload bytes from `payload`. */
void ps_write_ext(struct ps_thread *t, unsigned ext, const uint8_t *payload, size_t len);

/* --- process (process.c) --- */
extern pid_t ps_pid;
extern char ps_process_path[PATH_MAX]; /* absolute path of process file */
/* Append an EXT record to the process file (takes the process-file lock;
 * never from a signal handler). */
void ps_process_ext(unsigned ext, const uint8_t *payload, size_t len);
/* Close the process: called at exit and before exec. */
void ps_process_finish(unsigned reason, int status);

/* --- run directory, process links, final command line (run.c) --- */
bool ps_run_is_dir(const char *pattern);
void ps_run_candidate(const char *dir, unsigned i, char *out, size_t cap);
void ps_run_at_start(void);    /* takes the exec link (ps_pid set) */
void ps_run_after_start(void); /* trims the files the replaced image left */
void ps_run_fork_child(const char *parent_path);
void ps_run_record_link(void);
void ps_run_record_cmdline(void);
void ps_run_note_argv(int argc, char **argv); /* the constructor's argv */
/* The command line at start (argv's memory, or /proc/self/cmdline). */
const char *ps_run_start_cmdline(size_t *len);
const char *ps_run_exec_env(void); /* "PROFSHIM_EXEC_FROM=..." for an exec */
bool ps_run_is_exec_env(const char *entry);

/* --- spare thread files for threads started after a privilege drop
 * (spare.c) --- */
uint32_t ps_thread_take_seq(void);				    /* thread.c */
bool ps_spare_take(struct ps_thread *t, pid_t tid, uint64_t start); /* t->out, t->seq */
void ps_spares_finish(void); /* empty the unused ones (end, exec) */
void ps_spares_after_fork_child(void);

/* --- modules (modules.c) --- */
void ps_modules_record(void);
const char *ps_exe_path(void); /* /proc/self/exe, read once */

/* --- stacks (stacks.c) --- */
/* Intern a stack of n pcs (innermost first) into t's trie, writing STACK
 * records for new nodes; returns the leaf id (0 for an empty stack). */
uint64_t ps_stack_intern(struct ps_thread *t, const uintptr_t *pcs, int n);
/* The one-frame stack of pc (a call site), leaving the cache of the last
 * full stack alone; *fresh: the node is new (first seen, or first since
 * the table started over). */
uint64_t ps_stack_intern_site(struct ps_thread *t, uintptr_t pc, bool *fresh);
void ps_stacks_free(struct ps_thread *t);
/* The child of node parent (0 = root) for pc, created when new; 0 when it
 * cannot be written. */
uint64_t ps_stack_child(struct ps_thread *t, uint64_t parent, uintptr_t pc);
/* The allocation unwinder's cache of thread t (unwind.h), with its trie. */
struct ps_unwind_cache *ps_stack_unwind_cache(struct ps_thread *t);

/* --- recorder hooks called by the core (each recorder's file) --- */
void ps_mem_init(void);
void ps_calls_thread_end(struct ps_thread *t);
void ps_calls_flush(struct ps_thread *t);      /* own tree snapshot, before exec */
void ps_calls_write_live(struct ps_thread *t); /* a running thread's tree -> process file */
/* fork child: take the forking thread's calls state (others are recycled)
 * before the thread states are forgotten, then give it to the new state */
struct ps_calls_thread *ps_calls_fork_child_take(struct ps_thread *self);
void ps_calls_fork_child_adopt(struct ps_thread *t, struct ps_calls_thread *c);
void ps_cpu_init(void);
void ps_cpu_thread_start(struct ps_thread *t);
void ps_cpu_thread_end(struct ps_thread *t);
void ps_cpu_account_live(struct ps_thread *t); /* process end, thread t still running */
void ps_cpu_before_fork(void);
void ps_cpu_after_fork(int child);
void ps_cpu_before_exec(void);
void ps_rss_tick(struct ps_thread *t);
/* RSS timer (rss.c): blocked across fork, disarmed before exec and at the
 * process's end. */
void ps_rss_before_fork(void);
void ps_rss_after_fork(int child);
void ps_rss_before_exec(void);
void ps_rss_after_failed_exec(void);
void ps_rss_finish(void);
/* The RSS timer's signal, 0 = none; the program is about to take sig (move
 * the timer first); is fn the RSS handler (hidden from queries)? */
int ps_rss_signal(void);
void ps_rss_signal_taken(int sig);
bool ps_rss_is_handler(const void *fn);

/* --- small async-signal-safe helpers (util.c) --- */
void ps_log(const char *fmt_free_msg, ...); /* strings only, NULL-ended */
pid_t ps_gettid(void);
size_t ps_u64_to_str(char *buf, uint64_t v);
/* Move a long-lived descriptor of the shim to a high number (highfd.c). */
int ps_fd_move_high(int fd);
/* mmap-backed allocation for shim-internal tables (never malloc). */
void *ps_alloc_pages(size_t bytes);
void ps_free_pages(void *p, size_t bytes);

#endif
