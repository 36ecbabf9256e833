/*
 * The io model: every IO, FD, DNS and SPAN event of the session (io
 * recorder and the spans/counters API) aggregated for the reports — I/O by
 * file and by peer, call sites, slow calls, waits, lock contention, DNS,
 * each thread's wall time split by what it waited on, spans and counters.
 * Built in one pass (io_model_event) and settled by io_model_finish
 * (descriptions resolved, percentiles sorted). Writers only read.
 */
#ifndef PA_IO_MODEL_H
#define PA_IO_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

/* Where a call's time goes in the wall-time split. */
enum io_class { IO_CLASS_FILE, IO_CLASS_NET, IO_CLASS_WAIT, IO_CLASS_LOCK, IO_CLASS_N };

/* Durations of a set of calls, in ns. */
struct io_stat {
	uint64_t count, errors;
	double total_ns, max_ns;
	struct pa_vec durs; /* double, sorted by io_model_finish */
};
double io_stat_pct(const struct io_stat *st, double pct); /* ns; 0 if empty */

#define IO_MAX_ERRNO 160
#define IO_FD_OPS 48 /* ops on descriptors: 1..47 */

/* A file, pipe or peer: the calls on every descriptor of that name. */
struct io_group {
	char *name;
	enum io_class cls; /* FILE or NET */
	unsigned kind;	   /* enum pst_fd_kind of its first descriptor */
	uint32_t port;	   /* accepted sockets: local port */
	bool unknown;	   /* named from /proc/self/fd when first seen */
	uint32_t ops_by_op[IO_FD_OPS];
	uint64_t reads, writes, bytes_read, bytes_written;
	uint32_t errno_count[IO_MAX_ERRNO];
	struct io_stat st;
};

/* A description (FD record) and the calls made on it; descriptions of the
 * same name are merged into groups by io_model_finish. */
struct io_desc {
	uint32_t id;
	bool described; /* its FD record was seen */
	uint32_t fd;
	char *note;
	uint32_t group;	       /* index into groups, after finish */
	struct io_group calls; /* name, kind, port of the description */
};

struct io_site {
	uint64_t pc;
	enum io_class cls;
	unsigned op;	/* the first call's */
	uint32_t stack; /* stack of its longest call that has one, 0 = none */
	uint64_t stack_ticks;
	double stack_dur;
	struct io_stat st;
};

struct io_slow {
	uint64_t ticks; /* end */
	uint32_t thread;
	unsigned op;
	uint32_t desc; /* resolved to a group at report time */
	uint64_t obj;
	int64_t result;
	double dur_ns;
	uint32_t stack;
	uint64_t site;
	bool unfinished; /* still in progress at the end */
};

struct io_lock {
	uint64_t addr;
	unsigned op;
	uint64_t site; /* most frequent? the first contended site */
	struct io_stat st;
};

struct io_dns {
	char *host;
	struct io_stat st;
};

struct io_thread {
	double ns[IO_CLASS_N]; /* blocked time by class */
	/* CPU sample time beyond wall - blocked that no file or network call
	 * can hold: sampling's rounding (one period of a thread that mostly
	 * sleeps); the measured waits are kept, the CPU estimate is cut */
	double cpu_over_ns;
	struct pa_vec open; /* struct io_open_span: spans open now */
};

struct io_span_stat {
	char *name;
	uint32_t thread; /* per-thread stats: thread index; totals: UINT32_MAX */
	uint64_t unclosed;
	struct io_stat st;
};

/* A blocked call, for the off-CPU and wall-clock profiles. */
struct io_block {
	uint64_t ticks; /* start */
	uint32_t thread;
	uint32_t stack;	 /* 0: take the site's */
	uint32_t site;	 /* index into sites */
	double ns;	 /* the call's duration */
	double off_ns;	 /* blocked: ns minus the CPU samples taken inside the call */
	uint64_t end;	 /* ticks */
	bool unfinished; /* still open when its thread's record ended */
	unsigned op;	 /* 0 = getaddrinfo */
	uint32_t desc;	 /* resolved to a group at report time */
	uint64_t bytes;	 /* moved */
	uint64_t asked;	 /* bytes asked for (a read's buffer size) */
	int64_t result;
	uint64_t obj; /* as in the IO record (lock address, pid, ...) */
};

/* A closed span, for the timeline. */
struct io_span_rec {
	uint64_t start, end;
	uint32_t thread;
	uint32_t stat; /* index into spans (the totals entry: its name) */
	uint32_t depth;
	bool error;
};

struct io_counter {
	uint64_t ticks;
	uint32_t thread;
	uint32_t name; /* index into counter_names */
	int64_t value;
};

struct io_counter_name {
	char *name;
	uint64_t count;
	int64_t min, max, last;
};

struct io_model {
	struct pa_session *s;
	double slow_ns;		     /* --slow */
	long only_tid;		     /* --thread: calls, spans, counters of this thread only */
	uint64_t calls;		     /* IO events */
	struct pa_vec descs;	     /* struct io_desc */
	struct pa_vec groups;	     /* struct io_group */
	struct pa_vec sites;	     /* struct io_site */
	struct pa_vec slow;	     /* struct io_slow */
	struct pa_vec locks;	     /* struct io_lock */
	struct pa_vec dns;	     /* struct io_dns */
	struct pa_vec threads;	     /* struct io_thread per thread index */
	struct pa_vec spans;	     /* struct io_span_stat: totals and per thread */
	struct pa_vec counters;	     /* struct io_counter, time order */
	struct pa_vec counter_names; /* struct io_counter_name */
	struct pa_vec blocks;	     /* struct io_block, every IO and DNS call */
	struct pa_vec span_recs;     /* struct io_span_rec, in end order */
	struct io_stat by_op[PST_IO_OP_MAX];
	struct io_stat fs_all, net_all; /* every file-system / network call */
	uint64_t span_unmatched;
	/* waits still in progress when the process ended, counted up to then */
	uint64_t unfinished, unfinished_by_op[PST_IO_OP_MAX];
	/* private */
	struct pa_pairmap desc_index, group_index, site_index, lock_index, dns_index, span_index,
	    counter_index;
};

struct pa_options;
struct io_model *io_model_new(struct pa_session *s, const struct pa_options *o);
void io_model_event(struct io_model *m, const struct pa_event *ev);
void io_model_finish(struct io_model *m);
/* After both models are finished: CPU samples taken inside a recorded call
 * (system time in read(), a spin before a futex) are on-CPU time, not
 * blocked time; take them off the call's blocked time and its thread's
 * class, so on CPU + blocked never exceeds the wall time (io_wall.c). */
struct cpu_model;
void io_model_take_cpu(struct io_model *m, const struct cpu_model *cpu);
void io_model_free(struct io_model *m);
bool io_model_has_data(const struct io_model *m);
/* Bytes read and written over every file and peer (budgets, diff). */
uint64_t io_total_bytes(const struct io_model *m);

/* The class of an operation on a descriptor of this kind. */
enum io_class io_op_class(unsigned op, unsigned fd_kind);
const char *io_op_name(unsigned op);
const char *io_class_name(enum io_class c);
/* Bytes moved by a call (0 for failures and non-transfer calls); *is_read
 * set for reads, *is_write for writes. */
uint64_t io_call_bytes(unsigned op, uint64_t asked, int64_t result, bool *is_read, bool *is_write);
/* The group a description id belongs to, NULL if unknown. */
const struct io_group *io_desc_group(const struct io_model *m, uint32_t desc);

/* --data=offcpu (with_cpu false) and --data=wall: a sample model whose
 * weights are nanoseconds (period 1 ns), for the CPU writers (folded,
 * flamegraph, speedscope, chrome). Each blocked call weighs its duration
 * on its stack; a call recorded without a stack takes the stack of its
 * site's longest call (the same caller; deeper frames may differ), or the
 * site alone. With CPU samples (wall) each sample weighs its period. The
 * leaves of I/O stacks (return addresses) are moved into their call
 * instruction, so they name the call's line. */
struct cpu_model;
struct pa_symbols;
struct pa_models;
struct pa_trace_out;
/* The timeline (out_trace_io.c): I/O calls, waits and spans as X slices,
 * counters as C events. */
void io_trace_events(const struct pa_models *pm, struct pa_trace_out *t);
struct cpu_model *io_time_profile(const struct io_model *io, const struct cpu_model *cpu,
				  bool with_cpu, struct pa_symbols *syms);

#endif
