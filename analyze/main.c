/*
 * profanalyze: reads the trace files of one profiled process and writes
 * reports. Pipeline: read + validate -> merge by time -> symbolize ->
 * models -> one writer per output format (see session.h).
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_model.h"
#include "findings.h"
#include "heap_model.h"
#include "io_model.h"
#include "load.h"
#include "models.h"
#include "out_speedscope.h"
#include "out_trace.h"
#include "run.h"
#include "run_main.h"
#include "out_util.h"
#include "stack_tree.h"
#include "sample_model.h"
#include "subcommands.h"
#include "symbols.h"
#include "report_empty.h"

static void usage(FILE *out)
{
	fputs("usage: profanalyze TRACE [options]\n"
	      "       profanalyze RUN_DIR [--pid=N | --comm=NAME] [options]\n"
	      "       profanalyze diff BASE NEW [options]   compare two runs\n"
	      "       profanalyze check TRACE --budget=FILE  fail on a budget breach\n"
	      "\n"
	      "Reads the process file TRACE written by libprofshim.so (PROFSHIM_OUTPUT) and\n"
	      "its thread files (TRACE.t1, TRACE.t2, ...) and writes a report.\n"
	      "Given a run directory (PROFSHIM_OUTPUT=DIR/, tools/profshim's default), it\n"
	      "lists the process tree and reports over every process of the run (text,\n"
	      "json, html, trace, speedscope; folded and flamegraph of CPU); the formats of\n"
	      "one process take the first with data for them, or the one --pid/--comm\n"
	      "selects.\n"
	      "\n"
	      "Output:\n"
	      "  --format=FMT        text (default)   summary in the terminal\n"
	      "                      json             the same as JSON\n"
	      "                      chrome           DevTools .cpuprofile (CPU samples)\n"
	      "                      heapprofile      DevTools .heapprofile (heap)\n"
	      "                      trace            Chrome trace events (chrome://tracing, "
	      "Perfetto)\n"
	      "                      folded           folded stacks for flame graph tools\n"
	      "                      flamegraph       interactive SVG flame graph\n"
	      "                      speedscope       speedscope JSON\n"
	      "                      pprof            gzipped profile.proto (go tool pprof,\n"
	      "                                       Grafana Pyroscope, Parca)\n"
	      "                      html             one self-contained HTML report\n"
	      "  -o, --output=FILE   write the report to FILE instead of stdout\n"
	      "\n"
	      "Selection:\n"
	      "  --data=KIND         what folded, flamegraph, speedscope and pprof weigh:\n"
	      "                      cpu, mem, calls (default: cpu, else calls, else mem;\n"
	      "                      speedscope: every kind recorded); offcpu: blocked\n"
	      "                      time by stack, wall: on-CPU plus blocked (io\n"
	      "                      recorder; also for chrome)\n"
	      "  --heap=WHAT         heap sizes mean: allocated (default), leaked, peak\n"
	      "  --between=M1,M2     heap: allocated after marker M1 and still live at M2\n"
	      "  --thread=TID        only this thread\n"
	      "  --from=MS --to=MS   time range for trace events, ms since start\n"
	      "  --min-duration=US   trace events: leave out calls shorter than US\n"
	      "  --depth=N           trees and trace events: at most N levels\n"
	      "  --hide=PCT          call tree: hide nodes under PCT% of the run\n"
	      "  --top=N             rows in text tables (default 20)\n"
	      "  --slow=MS           I/O and waits: list calls of at least MS (default 10)\n"
	      "  --pid=N             run directory: only process N (of a pid that exec'd: its\n"
	      "                      last image)\n"
	      "  --comm=NAME         run directory: only the processes of command NAME\n"
	      "  --run-summary       run directory: one summary line (used by tools/profshim)\n"
	      "  --findings=N        text/json: at most N findings ranked by impact\n"
	      "                      (default 10, 0 = none)\n"
	      "  --budget=FILE       check, diff: limits to enforce (see README)\n"
	      "  --normalize=NAME    diff: per occurrence of marker NAME, or per call of\n"
	      "                      function NAME; share: as shares of each run\n"
	      "  --max-size=MB       cap of an output's size (default: 100 for trace, 50 for\n"
	      "                      stacks); past it the least significant part is cut\n"
	      "                      (shortest calls, smallest stacks) and stderr says what\n"
	      "  --full              no size cap: everything (viewers may not open it)\n"
	      "  -q, --quiet         no warnings or progress on stderr\n"
	      "  -h, --help          this help\n",
	      out);
}

static int bad_option(const char *opt, const char *val, const char *accepts)
{
	fprintf(stderr, "profanalyze: bad %s '%s': expected %s (see --help)\n", opt, val, accepts);
	return -1;
}

static int parse_double(const char *opt, const char *v, double lo, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || *end || d < lo)
		return bad_option(opt, v, "a number");
	*out = d;
	return 0;
}

static int parse_long(const char *opt, const char *v, long lo, long *out)
{
	char *end;
	errno = 0;
	long l = strtol(v, &end, 10);
	if (errno || end == v || *end || l < lo)
		return bad_option(opt, v, "a whole number");
	*out = l;
	return 0;
}

static int parse_enum(const char *opt, const char *v, const char *const names[], int n, int *out)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], v)) {
			*out = i;
			return 0;
		}
	char accepts[256] = "one of";
	for (int i = 0; i < n; i++)
		if (names[i])
			snprintf(accepts + strlen(accepts), sizeof(accepts) - strlen(accepts),
				 " %s", names[i]);
	return bad_option(opt, v, accepts);
}

static const char *const data_names[] = {
    [PA_DATA_AUTO] = "auto",   [PA_DATA_CPU] = "cpu",	    [PA_DATA_MEM] = "mem",
    [PA_DATA_CALLS] = "calls", [PA_DATA_OFFCPU] = "offcpu", [PA_DATA_WALL] = "wall"};
static const char *const heap_names[] = {
    [PA_HEAP_ALLOCATED] = "allocated", [PA_HEAP_LEAKED] = "leaked", [PA_HEAP_PEAK] = "peak"};

static int parse_between(struct pa_options *o, char *v)
{
	char *comma = strchr(v, ',');
	if (!comma || comma == v || !comma[1])
		return bad_option("--between", v, "two marker names: MARK1,MARK2");
	*comma = 0;
	o->between[0] = v;
	o->between[1] = comma + 1;
	return 0;
}

static int parse_options(int argc, char **argv, struct pa_options *o)
{
	enum {
		O_FORMAT = 256,
		O_DATA,
		O_HEAP,
		O_THREAD,
		O_BETWEEN,
		O_FROM,
		O_TO,
		O_MINDUR,
		O_DEPTH,
		O_HIDE,
		O_TOP,
		O_SLOW,
		O_PID,
		O_COMM,
		O_RUN_LINE,
		O_FINDINGS,
		O_BUDGET,
		O_NORMALIZE,
		O_MAXSIZE,
		O_FULL
	};
	static const struct option opts[] = {
	    {"format", required_argument, 0, O_FORMAT},
	    {"output", required_argument, 0, 'o'},
	    {"data", required_argument, 0, O_DATA},
	    {"heap", required_argument, 0, O_HEAP},
	    {"thread", required_argument, 0, O_THREAD},
	    {"between", required_argument, 0, O_BETWEEN},
	    {"from", required_argument, 0, O_FROM},
	    {"to", required_argument, 0, O_TO},
	    {"min-duration", required_argument, 0, O_MINDUR},
	    {"depth", required_argument, 0, O_DEPTH},
	    {"hide", required_argument, 0, O_HIDE},
	    {"top", required_argument, 0, O_TOP},
	    {"slow", required_argument, 0, O_SLOW},
	    {"pid", required_argument, 0, O_PID},
	    {"comm", required_argument, 0, O_COMM},
	    {"run-summary", no_argument, 0, O_RUN_LINE},
	    {"findings", required_argument, 0, O_FINDINGS},
	    {"budget", required_argument, 0, O_BUDGET},
	    {"normalize", required_argument, 0, O_NORMALIZE},
	    {"max-size", required_argument, 0, O_MAXSIZE},
	    {"full", no_argument, 0, O_FULL},
	    {"quiet", no_argument, 0, 'q'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	memset(o, 0, sizeof(*o));
	o->thread = -1;
	o->time_to_ms = -1;
	o->top = 20;
	o->pid = -1;
	o->findings = 10;
	o->max_size_mb = -1;
	int c, e;
	long l;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case O_FORMAT:
			rc = parse_enum("--format", optarg, pa_format_names, PA_FMT_COUNT, &e);
			o->format = (enum pa_format)e;
			break;
		case 'o':
			o->output = optarg;
			break;
		case O_DATA:
			rc = parse_enum("--data", optarg, data_names, 6, &e);
			o->data = (enum pa_data)e;
			break;
		case O_HEAP:
			rc = parse_enum("--heap", optarg, heap_names, 3, &e);
			o->heap = (enum pa_heap)e;
			break;
		case O_THREAD:
			rc = parse_long("--thread", optarg, 0, &o->thread);
			break;
		case O_BETWEEN:
			rc = parse_between(o, optarg);
			break;
		case O_FROM:
			rc = parse_double("--from", optarg, 0, &o->time_from_ms);
			break;
		case O_TO:
			rc = parse_double("--to", optarg, 0, &o->time_to_ms);
			break;
		case O_MINDUR:
			rc = parse_double("--min-duration", optarg, 0, &o->min_dur_us);
			break;
		case O_DEPTH:
			rc = parse_long("--depth", optarg, 1, &l);
			o->max_depth = (int)l;
			break;
		case O_HIDE:
			rc = parse_double("--hide", optarg, 0, &o->hide_pct);
			break;
		case O_TOP:
			rc = parse_long("--top", optarg, 1, &l);
			o->top = (int)l;
			break;
		case O_SLOW:
			rc = parse_double("--slow", optarg, 0, &o->slow_ms);
			break;
		case O_PID:
			rc = parse_long("--pid", optarg, 1, &o->pid);
			break;
		case O_COMM:
			o->comm = optarg;
			if (!*optarg)
				rc = bad_option("--comm", optarg, "a command name");
			break;
		case O_RUN_LINE:
			o->run_line = true;
			break;
		case O_FINDINGS:
			rc = parse_long("--findings", optarg, 0, &l);
			o->findings = (int)(l > 100000 ? 100000 : l);
			break;
		case O_BUDGET:
			o->budget = optarg;
			break;
		case O_NORMALIZE:
			o->normalize = optarg;
			break;
		case O_MAXSIZE:
			rc = parse_double("--max-size", optarg, 0, &o->max_size_mb);
			break;
		case O_FULL:
			o->max_size_mb = 0;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr,
				"profanalyze: unknown or incomplete option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
		if (rc)
			return -1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, optind >= argc ? "profanalyze: no trace file given\n"
					       : "profanalyze: give one trace file\n");
		usage(stderr);
		return -1;
	}
	o->trace = argv[optind];
	return 0;
}

static int write_json(const struct pa_models *pm, FILE *out)
{
	cJSON *root = cJSON_CreateObject();
	if (pm->findings)
		findings_report_json(pm->findings, root);
	summary_report_json(pm, root);
	calls_report_json(pm, root);
	heap_report_json(pm, root);
	cpu_report_json(pm, root);
	io_report_json(pm, root);
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -1;
	fputs(text, out);
	fputc('\n', out);
	free(text);
	return 0;
}

static int write_text(const struct pa_models *pm, FILE *out)
{
	if (pm->findings)
		findings_report_text(pm->findings, out);
	summary_report_text(pm, out);
	calls_report_text(pm, out);
	heap_report_text(pm, out);
	cpu_report_text(pm, out);
	io_report_text(pm, out);
	return 0;
}

/* Checks of the selection every format shares, so every format answers a
 * bad selection with the same error. */
static int validate_selection(const struct pa_session *s, const struct pa_options *o)
{
	if (o->thread >= 0) {
		bool found = false;
		for (size_t i = 0; i < s->threads.len && !found; i++)
			found = (*(struct pa_thread **)pa_vec_at(&s->threads, i))->tid ==
				(uint32_t)o->thread;
		if (!found) {
			fprintf(stderr, "profanalyze: --thread=%ld: no such thread in this trace\n",
				o->thread);
			return -1;
		}
	}
	if (o->time_to_ms >= 0 && o->time_to_ms < o->time_from_ms) {
		fprintf(stderr, "profanalyze: --to=%g is before --from=%g\n", o->time_to_ms,
			o->time_from_ms);
		return -1;
	}
	return 0;
}

/* speedscope: every recorded kind under --data=auto (the file holds
 * several profiles), else the one selected. */
static int write_speedscope(const struct pa_models *pm, FILE *out)
{
	if (!pa_ss_has_data(pm)) {
		pa_no_data_error(pm, "speedscope", PST_REC_CPU | PST_REC_CALLS | PST_REC_MEM);
		return 1;
	}
	const char *exe = pm->s->argc ? pm->s->argv[0] : "profshim";
	struct pa_speedscope *ss = pa_ss_begin(out, exe);
	int rc = pa_ss_add_profiles(pm, ss);
	pa_ss_end(ss);
	return rc;
}

/* The parts (PST_REC_*) a format can show, for its "no data" error. */
static unsigned format_parts(enum pa_format f)
{
	switch (f) {
	case PA_FMT_CHROME:
	case PA_FMT_FLAMEGRAPH:
		return PST_REC_CPU;
	case PA_FMT_SPEEDSCOPE:
		return PST_REC_CPU | PST_REC_CALLS;
	case PA_FMT_HEAPPROFILE:
		return PST_REC_MEM;
	default:
		return PST_REC_CPU | PST_REC_CALLS | PST_REC_MEM;
	}
}

static int write_report(const struct pa_models *pm, FILE *out)
{
	switch (pm->o->format) {
	case PA_FMT_FOLDED:
		return pa_write_folded(pm, out);
	case PA_FMT_FLAMEGRAPH:
		return pa_write_flamegraph(pm, out);
	case PA_FMT_SPEEDSCOPE:
		return write_speedscope(pm, out);
	case PA_FMT_PPROF:
		return pa_write_pprof(pm, out);
	case PA_FMT_HTML:
		return pa_write_html(pm, out);
	case PA_FMT_TRACE:
		return pa_write_timeline(pm, out);
	case PA_FMT_TEXT:
		return write_text(pm, out);
	case PA_FMT_JSON:
		return write_json(pm, out);
	case PA_FMT_HEAPPROFILE:
		return heap_write_heapprofile(pm, out);
	case PA_FMT_CHROME:
		if (pa_has_data(pm, PA_DATA_CPU))
			return cpu_write_cpuprofile(pm, out);
		break;
	default:
		break;
	}
	/* why, naming only the options the user gave */
	pa_no_data_error(pm, pa_format_names[pm->o->format], format_parts(pm->o->format));
	return 1;
}

/* The report of one process file. */
static int analyze_one(struct pa_options *op)
{
	struct pa_options o = *op;
	if (o.budget || o.normalize) {
		fprintf(stderr, "profanalyze: %s goes with check or diff (see --help)\n",
			o.budget ? "--budget" : "--normalize");
		return 2;
	}
	struct pa_loaded l;
	struct pa_error err;
	if (pa_load_open(&l, o.trace, &o, &err)) {
		fprintf(stderr, "profanalyze: %s\n", err.msg);
		return 1;
	}
	if (validate_selection(&l.s, &o)) {
		pa_session_close(&l.s);
		return 1;
	}
	if (pa_load_models(&l, &o, &err)) {
		fprintf(stderr, "profanalyze: %s\n", err.msg);
		return 1;
	}
	struct pa_models *pm = &l.pm;
	struct findings found = {0};
	if (o.findings > 0 && (o.format == PA_FMT_TEXT || o.format == PA_FMT_JSON)) {
		findings_run(pm, o.findings, &found);
		pm->findings = &found;
	}
	/* --data=offcpu/wall: the sample writers draw blocked time */
	struct cpu_model *cpu_samples = NULL; /* the samples, when pm->cpu is a time profile */
	if (o.data == PA_DATA_OFFCPU || o.data == PA_DATA_WALL) {
		cpu_samples = pm->cpu;
		pm->cpu = io_time_profile(pm->io, cpu_samples, o.data == PA_DATA_WALL, pm->syms);
	}
	int rc;
	struct pa_output out;
	if (pa_output_open(&out, o.output)) {
		rc = 1;
	} else {
		rc = write_report(pm, out.f);
		if (pa_output_close(&out, rc == 0))
			rc = 1;
	}
	if (pm->findings)
		findings_free(pm->findings);
	pm->findings = NULL;
	/* After the report: symbolizing may have added warnings. */
	if (!o.quiet)
		for (size_t i = 0; i < l.s.warnings.len; i++)
			fprintf(stderr, "profanalyze: warning: %s\n",
				*(char **)pa_vec_at(&l.s.warnings, i));
	cpu_model_free(cpu_samples);
	pa_unload(&l);
	return rc ? 1 : 0;
}

/* The status of a report written from a trace with damaged data inside. */
static int damaged_status(int rc)
{
	if (rc || !pa_data_damaged)
		return rc;
	fprintf(stderr, "profanalyze: error: the trace is damaged (see the warning above); the "
			"report holds only the data before the damage\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct pa_options o;
	/* Symbols come from the files on this machine; never from the network. */
	unsetenv("DEBUGINFOD_URLS");
	if (argc > 1 && pa_is_subcommand(argv[1]))
		return pa_subcommand_main(argc, argv, parse_options);
	if (parse_options(argc, argv, &o))
		return 2;
	/* --run-summary also reads one process file: a run of one */
	if (pa_is_run_dir(o.trace) || (o.run_line && o.pid < 0 && !o.comm))
		return damaged_status(pa_run_main(&o, analyze_one));
	if (o.pid >= 0 || o.comm) {
		fprintf(stderr,
			"profanalyze: --pid and --comm take a run directory, not the process "
			"file %s\n",
			o.trace);
		return 2;
	}
	return damaged_status(analyze_one(&o));
}
