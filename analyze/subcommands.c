/*
 * profanalyze diff and check (subcommands.h): read each run into its
 * models (load.h), compare (diff.h), enforce a budget (budget.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "diff.h"
#include "load.h"
#include "run.h"
#include "run_main.h"
#include "subcommands.h"

bool pa_is_subcommand(const char *arg)
{
	return !strcmp(arg, "diff") || !strcmp(arg, "check");
}

/* Split the arguments after the subcommand into positionals and options;
 * parse the options (with the first positional as the trace) through
 * main.c's parser. Returns the positional count, -1 on a bad option. */
static int split_args(int argc, char **argv, pa_parse_fn parse, struct pa_options *o,
		      const char **pos, int max_pos)
{
	char **opts = calloc((size_t)argc + 2, sizeof(char *));
	int nopt = 0, npos = 0;
	opts[nopt++] = argv[0];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1]) {
			opts[nopt++] = argv[i];
			if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc)
				opts[nopt++] = argv[++i];
		} else if (npos < max_pos) {
			pos[npos++] = a;
		} else {
			npos++;
		}
	}
	int rc = -1;
	if (npos >= 1 && npos <= max_pos) {
		opts[nopt++] = (char *)pos[0];
		rc = parse(nopt, opts, o) ? -1 : npos;
	} else {
		rc = -2;
	}
	free(opts);
	return rc;
}

static FILE *open_output(const struct pa_options *o)
{
	FILE *out = o->output ? fopen(o->output, "w") : stdout;
	if (!out)
		fprintf(stderr, "profanalyze: cannot write %s: %s\n", o->output, strerror(errno));
	return out;
}

static int close_output(const struct pa_options *o, FILE *out)
{
	int rc = 0;
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, "profanalyze: error writing %s: %s\n",
			o->output ? o->output : "stdout", strerror(errno));
		rc = 1;
	}
	if (out != stdout)
		fclose(out);
	return rc;
}

static int load_budget(const struct pa_options *o, struct pa_budget *b)
{
	char err[600];
	if (pa_budget_load(b, o->budget, err, sizeof(err))) {
		fprintf(stderr, "profanalyze: %s\n", err);
		return -1;
	}
	return 0;
}

/* path may be a run directory (tools/profshim's default output): the one
 * process it holds or o selects (--comm, --pid) is read; its file name is
 * kept in *picked (freed by the caller) for the reports' headers. */
static int load_run(struct pa_loaded *l, const char *path, const struct pa_options *o,
		    char **picked)
{
	struct pa_error err;
	*picked = NULL;
	if (pa_is_run_dir(path)) {
		*picked = pa_run_one_file(path, o);
		if (!*picked)
			return -1;
		path = *picked;
	}
	if (pa_load(l, path, o, &err)) {
		fprintf(stderr, "profanalyze: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static void print_warnings(const struct pa_options *o, const struct pa_loaded *l)
{
	if (o->quiet)
		return;
	for (size_t i = 0; i < l->s.warnings.len; i++)
		fprintf(stderr, "profanalyze: warning: %s: %s\n", l->path,
			*(char **)pa_vec_at(&l->s.warnings, i));
}

/* One side of a diff: a process file, one process of a run directory
 * (--pid, or --comm matching one), or every process of a run directory
 * (no --pid; --comm matching several), seed first, summed by the diff. */
struct diff_input {
	struct pa_loaded **runs;
	const struct pa_models **pms;
	size_t n;
	char *picked; /* the one process file read from a run directory */
};

/* The files of every process of dir that o selects, in run order, when
 * more than one is (and no --pid: a pid is one process); else none. */
static size_t whole_run_files(const char *dir, const struct pa_options *o, struct pa_vec *files)
{
	pa_vec_init(files, sizeof(char *));
	if (o->pid >= 0 || !pa_is_run_dir(dir))
		return 0;
	struct pa_run r;
	struct pa_error err;
	if (pa_run_open(&r, dir, &err)) {
		pa_run_close(&r);
		return 0; /* pa_run_one_file says why */
	}
	if (pa_run_select(&r, -1, o->comm) > 1)
		for (size_t k = 0; k < r.order.len; k++) {
			const struct pa_run_proc *p =
			    pa_run_at(&r, *(size_t *)pa_vec_at(&r.order, k));
			if (p->selected)
				*(char **)pa_vec_push(files) = pa_xstrdup(p->path);
		}
	pa_run_close(&r);
	return files->len;
}

static void free_input(struct diff_input *in, const struct pa_options *o)
{
	for (size_t i = 0; i < in->n; i++) {
		print_warnings(o, in->runs[i]);
		pa_unload(in->runs[i]);
		free(in->runs[i]);
	}
	free(in->runs);
	free(in->pms);
	free(in->picked);
	memset(in, 0, sizeof(*in));
}

static int load_input(struct diff_input *in, const char *path, const struct pa_options *o)
{
	memset(in, 0, sizeof(*in));
	struct pa_vec files;
	size_t n = whole_run_files(path, o, &files);
	in->runs = pa_xcalloc(n ? n : 1, sizeof(*in->runs));
	in->pms = pa_xcalloc(n ? n : 1, sizeof(*in->pms));
	int rc = 0;
	if (!n) {
		in->runs[0] = pa_xcalloc(1, sizeof(struct pa_loaded));
		rc = load_run(in->runs[0], path, o, &in->picked);
		if (rc)
			free(in->runs[0]);
		else
			in->n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		char *file = *(char **)pa_vec_at(&files, i);
		struct pa_error err;
		struct pa_loaded *l = pa_xcalloc(1, sizeof(*l));
		if (!rc && pa_load(l, file, o, &err)) {
			fprintf(stderr, "profanalyze: %s\n", err.msg);
			rc = -1;
		}
		if (rc)
			free(l);
		else
			in->runs[in->n++] = l;
		free(file);
	}
	pa_vec_free(&files);
	for (size_t i = 0; i < in->n; i++)
		in->pms[i] = &in->runs[i]->pm;
	if (rc)
		free_input(in, o);
	return rc;
}

/* Breaches: one line each; returns the exit status (0 or PA_EXIT_BREACH). */
static int enforce(const struct pa_budget *b, const struct pa_models *run, const struct pa_diff *d,
		   FILE *out)
{
	int n = pa_budget_check(b, run, d, out, stderr);
	if (n)
		fprintf(out, "budget %s: %d breach%s\n", b->path, n, n == 1 ? "" : "es");
	else
		fprintf(out, "budget %s: within budget (%d limit%s)\n", b->path, b->n,
			b->n == 1 ? "" : "s");
	return n ? PA_EXIT_BREACH : 0;
}

static int cmd_check(const struct pa_options *o, const char *trace)
{
	if (!o->budget) {
		fprintf(stderr, "profanalyze check: give --budget=FILE\n");
		return 2;
	}
	struct pa_budget b;
	if (load_budget(o, &b))
		return PA_EXIT_BAD_BUDGET;
	struct pa_loaded run;
	char *picked;
	if (load_run(&run, trace, o, &picked)) {
		free(picked);
		pa_budget_free(&b);
		return 1;
	}
	FILE *out = open_output(o);
	int rc = 1;
	if (out) {
		rc = enforce(&b, &run.pm, NULL, out);
		if (close_output(o, out))
			rc = 1;
	}
	print_warnings(o, &run);
	pa_unload(&run);
	free(picked);
	pa_budget_free(&b);
	return rc;
}

static int write_diff(const struct pa_options *o, const struct pa_diff *d, FILE *out)
{
	switch (o->format) {
	case PA_FMT_TEXT:
		diff_report_text(d, o->top, out);
		return 0;
	case PA_FMT_JSON:
		return diff_report_json(d, out) ? 1 : 0;
	default:
		return diff_write_flamegraph(d, out) ? 1 : 0;
	}
}

static int cmd_diff(const struct pa_options *o, const char *base_path, const char *new_path)
{
	if (o->format != PA_FMT_TEXT && o->format != PA_FMT_JSON &&
	    o->format != PA_FMT_FLAMEGRAPH) {
		fprintf(stderr, "profanalyze diff: --format takes text, json or flamegraph\n");
		return 2;
	}
	struct pa_budget b = {0};
	if (o->budget && load_budget(o, &b))
		return PA_EXIT_BAD_BUDGET;
	struct diff_input base, new;
	if (load_input(&base, base_path, o)) {
		pa_budget_free(&b);
		return 1;
	}
	if (load_input(&new, new_path, o)) {
		free_input(&base, o);
		pa_budget_free(&b);
		return 1;
	}
	int rc = 1;
	bool whole = base.n > 1 || new.n > 1;
	if (whole && (o->budget || o->format == PA_FMT_FLAMEGRAPH)) {
		/* absolute limits and a flame graph are of one process */
		fprintf(stderr,
			"profanalyze diff: %s compares one process: a run directory of several "
			"is summed; select one with --pid=N or --comm=NAME, or give its file\n",
			o->budget ? "--budget" : "--format=flamegraph");
		rc = 2;
		goto out;
	}
	struct pa_diff d;
	struct pa_error err;
	if (pa_diff_build_sides(&d, (struct pa_diff_side){base.pms, base.n},
				(struct pa_diff_side){new.pms, new.n}, o->normalize, &err)) {
		fprintf(stderr, "profanalyze: %s\n", err.msg);
		goto out;
	}
	d.base_path = base.picked ? base.picked : base_path;
	d.new_path = new.picked ? new.picked : new_path;
	FILE *out = open_output(o);
	if (out) {
		rc = write_diff(o, &d, out);
		if (close_output(o, out))
			rc = 1;
		/* The report goes to stdout or -o; breaches to stderr so
		 * they stay one line each beside any format. */
		if (!rc && o->budget)
			rc = enforce(&b, new.pms[0], &d, stderr);
	}
	pa_diff_free(&d);
out:
	free_input(&new, o);
	free_input(&base, o);
	pa_budget_free(&b);
	return rc;
}

int pa_subcommand_main(int argc, char **argv, pa_parse_fn parse)
{
	bool diff = !strcmp(argv[1], "diff");
	struct pa_options o;
	const char *pos[2] = {0};
	int n = split_args(argc, argv, parse, &o, pos, diff ? 2 : 1);
	if (n == -1)
		return 2;
	/* Threads differ from run to run (tids, counts): comparing one
	 * thread of each would need a way to pair them. Not silently. */
	if (n > 0 && o.thread >= 0) {
		fprintf(stderr,
			"profanalyze %s: --thread is not supported here: runs are "
			"compared as whole processes\n",
			argv[1]);
		return 2;
	}
	if (n != (diff ? 2 : 1)) {
		fprintf(stderr,
			diff ? "usage: profanalyze diff BASE NEW [--format=text|json|flamegraph] "
			       "[--normalize=NAME|share] [--budget=FILE]\n"
			     : "usage: profanalyze check TRACE --budget=FILE\n");
		return 2;
	}
	return diff ? cmd_diff(&o, pos[0], pos[1]) : cmd_check(&o, pos[0]);
}
