/*
 * The one interface between the recording core (process.c, thread.c) and
 * the recorders (cpu, mem, calls, io). The core never calls a recorder by
 * name: it walks the table of struct ps_recorder (recorders.c) at each
 * moment of a process's and a thread's life. Dependencies point one way:
 * recorders -> core -> writer and trace format.
 *
 * Every hook is optional (NULL = nothing to do) and runs whether or not
 * the recorder is switched on by PROFSHIM_RECORD: each recorder checks its
 * own settings (a hook of a recorder that is off returns at once).
 *
 * Order: hooks that prepare (init, start, thread_start, thread_end,
 * before_fork, fork_child_early, before_exec, flush, finish) run in table
 * order; hooks that undo or resume (after_fork, after_failed_exec) run in
 * reverse table order, so the last to stop is the first to resume.
 */
#ifndef PS_RECORDER_H
#define PS_RECORDER_H

struct ps_thread;

/* after_fork's argument */
enum ps_fork_side {
	PS_FORK_CHILD_OFF = -1, /* a child in which the shim could not start */
	PS_FORK_PARENT = 0,	/* the parent (also: after a failed exec) */
	PS_FORK_CHILD = 1,	/* a recorded child, its thread state started */
};

struct ps_recorder {
	const char *name;
	/* Process start (not a forked child), before the shim opens any
	 * file: the descriptor table is still the program's, small (the
	 * shim's descriptors sit at high numbers and grow it). */
	void (*before_files)(void);
	/* Process start, before the first thread state exists. */
	void (*init)(void);
	/* Process start, after the first thread state (the starting
	 * thread's) exists and recording is on. */
	void (*start)(void);
	/* In the thread, its state open (busy set). */
	void (*thread_start)(struct ps_thread *t);
	/* In the thread at its end (busy set), before its file closes. */
	void (*thread_end)(struct ps_thread *t);
	/* fork: in the parent before; in the child early (before the
	 * parent's thread states are forgotten: take what the forking
	 * thread keeps); then after_fork in both (see enum ps_fork_side). */
	void (*before_fork)(void);
	void (*fork_child_early)(struct ps_thread *self);
	void (*after_fork)(int side);
	/* exec: before (the image may vanish), and after a failed one. */
	void (*before_exec)(void);
	void (*after_failed_exec)(void);
	/* Write what the thread holds in memory into its own file (before
	 * exec; busy set). */
	void (*flush)(struct ps_thread *t);
	/* From the thread ending the process: what running thread t holds,
	 * into the process file (never into t's own stream). */
	void (*flush_other)(struct ps_thread *t);
	/* The process ends (exit, not exec): stop timers, last records. */
	void (*finish)(void);
	/* profshim_start / profshim_stop set ps_recording (any thread). */
	void (*recording_changed)(void);
};

/* The recorders, in table order; NULL-terminated. */
extern const struct ps_recorder *const ps_recorders[];

/* Walk the table (recorders.c). */
void ps_recorders_before_files(void);
void ps_recorders_init(void);
void ps_recorders_start(void);
void ps_recorders_thread_start(struct ps_thread *t);
void ps_recorders_thread_end(struct ps_thread *t);
void ps_recorders_before_fork(void);
void ps_recorders_fork_child_early(struct ps_thread *self);
void ps_recorders_after_fork(int side);
void ps_recorders_before_exec(void);
void ps_recorders_after_failed_exec(void);
void ps_recorders_flush(struct ps_thread *t);
void ps_recorders_flush_other(struct ps_thread *t);
void ps_recorders_finish(void);
void ps_recorders_recording_changed(void);

/* Each recorder's descriptor (defined next to the recorder, or in
 * recorders.c as adapters for recorders older than this interface). */
extern const struct ps_recorder ps_recorder_cpu;
extern const struct ps_recorder ps_recorder_mem;
extern const struct ps_recorder ps_recorder_calls;
extern const struct ps_recorder ps_recorder_io;

#endif
