/*
 * A run: every process file in a run directory (PROFSHIM_OUTPUT=DIR/), and
 * the process tree they form. Processes are linked by RUN_LINK (the
 * parent's file at fork, the replaced image's file at exec), else by pid,
 * ppid and times (a parent that spawned without fork, e.g. posix_spawn).
 */
#ifndef PA_RUN_H
#define PA_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

struct pa_run_proc {
	char *path;    /* process file */
	char *file;    /* its name inside the directory */
	char *command; /* program name (session.h: command) */
	char *cmdline; /* final command line, joined by spaces */
	uint32_t pid, ppid;
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC; end 0 = did not end */
	bool ended;
	unsigned end_reason; /* enum pst_end_reason */
	int end_status;	     /* exit status when it ended by exit */
	unsigned exec_index;
	long parent;	 /* index of the image that started it (fork/spawn), -1 */
	long prev, next; /* exec chain neighbours, -1 */
	unsigned depth;	 /* in the tree */
	bool selected;	 /* --pid / --comm */
	/* filled by the run analysis (analysis/run_cpu.c) */
	bool analyzed, has_cpu;
	double wall_ms, cpu_ms;
	uint64_t allocs, calls, dropped;
	bool has_io; /* io recorder on: bytes read and written by its calls */
	uint64_t io_read, io_written;
};

struct pa_run {
	char *dir;
	struct pa_vec procs;	/* struct pa_run_proc */
	struct pa_vec order;	/* size_t: indices in tree order (run order) */
	struct pa_vec warnings; /* char * */
	struct pa_vec links;	/* private: per process, parent file and
				 * previous image file (char *, NULL) */
};

/* Is path a directory (a run) rather than a process file? */
bool pa_is_run_dir(const char *path);
/* Read every process file of dir and build the tree; -1 with *err when
 * the directory cannot be read or holds no process file. dir may also be
 * one process file (a run of one process). */
int pa_run_open(struct pa_run *r, const char *dir, struct pa_error *err);
void pa_run_close(struct pa_run *r);
static inline struct pa_run_proc *pa_run_at(const struct pa_run *r, size_t i)
{
	return (struct pa_run_proc *)pa_vec_at(&r->procs, i);
}
/* Mark the processes of --pid (>= 0) and --comm (non-NULL); both unset:
 * all. Returns how many are selected. */
size_t pa_run_select(struct pa_run *r, long pid, const char *comm);

#endif
