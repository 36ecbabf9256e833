/*
 * profanalyze on a run directory: the process tree and reports over the
 * whole run, one process (--pid) or one command's processes (--comm). A
 * selection of one process gets the full single-process report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "report_run.h"
#include "run_main.h"
#include "stack_tree.h"

static const char *const multi_formats = "text, json, folded, flamegraph";

static int write_run(const struct pa_run *r, const struct pa_run_cpu *rc,
		     const struct pa_options *o, FILE *out)
{
	struct pa_models pm = {.s = (struct pa_session *)&rc->s, .cpu = rc->m, .o = o};
	switch (o->format) {
	case PA_FMT_TEXT:
		pa_run_write_text(r, rc, o->top, out);
		return 0;
	case PA_FMT_JSON:
		pa_run_write_json(r, rc, out);
		return 0;
	case PA_FMT_FOLDED:
	case PA_FMT_FLAMEGRAPH:
		if (o->data != PA_DATA_AUTO && o->data != PA_DATA_CPU) {
			fprintf(stderr, "profanalyze: a run of several processes is folded by CPU "
					"only: leave out --data or choose one process (--pid=N)\n");
			return 2;
		}
		if (!rc->m->weight) {
			fprintf(stderr, "profanalyze: no CPU samples in the selected processes\n");
			return 1;
		}
		if (o->format == PA_FMT_FOLDED) {
			pa_run_write_folded(rc, out);
			return 0;
		}
		struct stack_tree t;
		pa_run_stack_tree(rc, &t);
		int frc = pa_write_flamegraph_tree(&pm, &t, out);
		st_free(&t);
		return frc;
	default:
		fprintf(stderr,
			"profanalyze: this format covers one process; a run of several takes %s "
			"(choose one process with --pid=N or a command with --comm=NAME)\n",
			multi_formats);
		return 2;
	}
}

static void print_warnings(const struct pa_run *r)
{
	for (size_t i = 0; i < r->warnings.len; i++)
		fprintf(stderr, "profanalyze: warning: %s\n", *(char **)pa_vec_at(&r->warnings, i));
}

/* The one selected process, or NULL. */
static const struct pa_run_proc *only_selected(const struct pa_run *r)
{
	const struct pa_run_proc *one = NULL;
	for (size_t i = 0; i < r->procs.len; i++) {
		const struct pa_run_proc *p = pa_run_at(r, i);
		if (!p->selected)
			continue;
		if (one)
			return NULL;
		one = p;
	}
	return one;
}

int pa_run_main(struct pa_options *o, int (*analyze_one)(struct pa_options *o))
{
	struct pa_run r;
	struct pa_error err;
	if (pa_run_open(&r, o->trace, &err)) {
		fprintf(stderr, "profanalyze: %s\n", err.msg);
		if (!o->quiet)
			print_warnings(&r);
		pa_run_close(&r);
		return 1;
	}
	if (!pa_run_select(&r, o->pid, o->comm)) {
		fprintf(stderr, "profanalyze: %s: no process", r.dir);
		if (o->pid >= 0)
			fprintf(stderr, " with pid %ld", o->pid);
		if (o->comm)
			fprintf(stderr, " of command '%s'", o->comm);
		fprintf(stderr, " (%zu processes; `profanalyze %s` lists them)\n", r.procs.len,
			r.dir);
		pa_run_close(&r);
		return 1;
	}
	const struct pa_run_proc *one = only_selected(&r);
	if (one && !o->run_line && (o->pid >= 0 || o->comm || r.procs.len == 1)) {
		char *path = pa_xstrdup(one->path);
		if (!o->quiet)
			print_warnings(&r);
		pa_run_close(&r);
		o->trace = path;
		int rc = analyze_one(o);
		free(path);
		return rc;
	}
	struct pa_run_cpu rc;
	pa_run_analyze(&r, &rc, !o->run_line);
	int status = 0;
	if (o->run_line) {
		pa_run_write_line(&r, stdout);
	} else {
		FILE *out = o->output ? fopen(o->output, "w") : stdout;
		if (!out) {
			fprintf(stderr, "profanalyze: cannot write %s: %s\n", o->output,
				strerror(errno));
			status = 1;
		} else {
			status = write_run(&r, &rc, o, out);
			if (fflush(out) != 0 || ferror(out))
				status = 1;
			if (out != stdout)
				fclose(out);
		}
		if (!o->quiet)
			print_warnings(&r);
	}
	pa_run_cpu_free(&rc);
	pa_run_close(&r);
	return status;
}
