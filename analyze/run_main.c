/*
 * profanalyze on a run directory: the process tree and reports over the
 * whole run, one process (--pid) or one command's processes (--comm). A
 * selection of one process gets the full single-process report.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "out_util.h"
#include "report_run.h"
#include "run_formats.h"
#include "run_main.h"
#include "stack_tree.h"

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
	case PA_FMT_HTML:
		return pa_run_write_html(r, o, out);
	case PA_FMT_TRACE:
		return pa_run_write_trace(r, o, out);
	case PA_FMT_SPEEDSCOPE:
		return pa_run_write_speedscope(r, o, out);
	case PA_FMT_FOLDED:
	case PA_FMT_FLAMEGRAPH:
		if (o->format == PA_FMT_FOLDED) {
			pa_run_write_folded(rc, out);
			return 0;
		}
		struct stack_tree t;
		pa_run_stack_tree(rc, &t);
		int frc = pa_write_flamegraph_tree(&pm, &t, out);
		st_free(&t);
		return frc;
	default: /* the others hold one process: run_one_of_run */
		return 2;
	}
}

/* Whether the run's merged CPU tree answers o: folded and flame graphs of
 * CPU (by command) when a process was sampled; other data, or a run with
 * no samples, gets one process's. */
static bool merged_stacks(const struct pa_run_cpu *rc, const struct pa_options *o)
{
	return (o->data == PA_DATA_AUTO || o->data == PA_DATA_CPU) && rc->m->weight;
}

static bool whole_run_format(const struct pa_run_cpu *rc, const struct pa_options *o)
{
	if (o->format == PA_FMT_FOLDED || o->format == PA_FMT_FLAMEGRAPH)
		return merged_stacks(rc, o);
	return pa_run_format_is_merged(o->format);
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

/*
 * --pid=N of a pid that forked and then exec'd (every child of make or
 * git) selects two or more images. A one-process report is for the image
 * that did the work: the last of the exec chain, the program the fork was
 * made to run (with pid reuse, the chain that started last). stderr names
 * the file used and the others, so another image is one path away.
 */
static const struct pa_run_proc *pid_image(const struct pa_run *r, long pid, bool quiet)
{
	const struct pa_run_proc *pick = NULL;
	size_t n = 0;
	for (size_t k = 0; k < r->order.len; k++) {
		const struct pa_run_proc *p = pa_run_at(r, *(size_t *)pa_vec_at(&r->order, k));
		if (!p->selected)
			continue;
		n++;
		bool chain_end = p->next < 0 || !pa_run_at(r, (size_t)p->next)->selected;
		if (chain_end && (!pick || p->start_ns >= pick->start_ns))
			pick = p;
	}
	if (!pick || quiet)
		return pick;
	fprintf(stderr, "profanalyze: pid %ld ran %zu images (", pid, n);
	const char *sep = "";
	for (size_t k = 0; k < r->order.len; k++) {
		const struct pa_run_proc *p = pa_run_at(r, *(size_t *)pa_vec_at(&r->order, k));
		if (p->selected) {
			fprintf(stderr, "%s%s", sep, p->file);
			sep = " > ";
		}
	}
	fprintf(stderr,
		"); this report is of the last one, %s (pass %s/FILE for another; "
		"`profanalyze %s` lists them)\n",
		pick->file, r->dir, r->dir);
	return pick;
}

static void print_no_match(const struct pa_run *r, const struct pa_options *o)
{
	fprintf(stderr, "profanalyze: %s: no process", r->dir);
	if (o->pid >= 0)
		fprintf(stderr, " with pid %ld", o->pid);
	if (o->comm)
		fprintf(stderr, " of command '%s'", o->comm);
	fprintf(stderr, " (%zu processes; `profanalyze %s` lists them)\n", r->procs.len, r->dir);
}

char *pa_run_one_file(const char *dir, const struct pa_options *o)
{
	struct pa_run r;
	struct pa_error err;
	if (pa_run_open(&r, dir, &err)) {
		fprintf(stderr, "profanalyze: %s\n", err.msg);
		pa_run_close(&r);
		return NULL;
	}
	size_t n = pa_run_select(&r, o->pid, o->comm);
	const struct pa_run_proc *one = only_selected(&r);
	if (!one && n && o->pid >= 0)
		one = pid_image(&r, o->pid, o->quiet);
	char *path = one ? pa_xstrdup(one->path) : NULL;
	if (!n) {
		print_no_match(&r, o);
	} else if (!one) {
		const struct pa_run_proc *first = NULL;
		for (size_t k = 0; k < r.order.len && !first; k++) {
			const struct pa_run_proc *p =
			    pa_run_at(&r, *(size_t *)pa_vec_at(&r.order, k));
			first = p->selected ? p : NULL;
		}
		fprintf(stderr,
			"profanalyze: %s is a run of %zu processes (%zu selected); check takes "
			"one process: give its file (e.g. %s/%s) or select one with "
			"--comm=NAME or --pid=N (`profanalyze %s` lists them)\n",
			r.dir, r.procs.len, n, r.dir, first ? first->file : "FILE", r.dir);
	}
	if (one && !o->quiet)
		print_warnings(&r);
	pa_run_close(&r);
	return path;
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
		print_no_match(&r, o);
		pa_run_close(&r);
		return 1;
	}
	const struct pa_run_proc *one = only_selected(&r);
	if (!one && o->pid >= 0 && !o->run_line)
		one = pid_image(&r, o->pid, o->quiet);
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
	/* the finished CPU models: the figures of the reports that list them
	 * (finishing adds the periods never signalled, as a process's own
	 * report does); the timeline needs none of them */
	bool with_functions =
	    !o->run_line && o->format != PA_FMT_TRACE && o->format != PA_FMT_SPEEDSCOPE;
	pa_run_analyze(&r, &rc, with_functions);
	int status = 0;
	if (!o->run_line && !whole_run_format(&rc, o)) {
		/* a format of one process: the first with data for it */
		const struct pa_run_proc *pick = pa_run_pick_one(&r, o);
		char *path = pa_xstrdup(pick->path);
		if (!o->quiet)
			print_warnings(&r);
		pa_run_cpu_free(&rc);
		pa_run_close(&r);
		o->trace = path;
		status = analyze_one(o);
		free(path);
		return status;
	}
	if (o->run_line) {
		pa_run_write_line(&r, stdout);
	} else {
		struct pa_output out;
		if (pa_output_open(&out, o->output)) {
			status = 1;
		} else {
			status = write_run(&r, &rc, o, out.f);
			if (pa_output_close(&out, status == 0))
				status = 1;
		}
		if (!o->quiet)
			print_warnings(&r);
	}
	pa_run_cpu_free(&rc);
	pa_run_close(&r);
	return status;
}
