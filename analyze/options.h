/* profanalyze's command-line options (parsed in main.c, documented by --help). */
#ifndef PA_OPTIONS_H
#define PA_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

enum pa_format {
	PA_FMT_TEXT,
	PA_FMT_JSON,
	PA_FMT_CHROME,	    /* DevTools .cpuprofile */
	PA_FMT_HEAPPROFILE, /* DevTools .heapprofile */
	PA_FMT_TRACE,	    /* Chrome trace events */
	PA_FMT_FOLDED,	    /* folded stacks */
	PA_FMT_FLAMEGRAPH,  /* interactive SVG */
	PA_FMT_SPEEDSCOPE,  /* speedscope JSON */
	PA_FMT_PPROF,	    /* gzipped profile.proto */
	PA_FMT_HTML,	    /* one self-contained HTML report */
	PA_FMT_COUNT
};

/* What --format=folded / flamegraph weigh: CPU samples, heap bytes or
 * call self time. PA_DATA_AUTO picks cpu, then calls, then mem. */
enum pa_data {
	PA_DATA_AUTO,
	PA_DATA_CPU,
	PA_DATA_MEM,
	PA_DATA_CALLS,
	PA_DATA_OFFCPU, /* blocked time by stack (io recorder) */
	PA_DATA_WALL,	/* on-CPU samples plus blocked time */
};

/* What the sizes of --format=heapprofile (and mem folded) mean. */
enum pa_heap { PA_HEAP_ALLOCATED, PA_HEAP_LEAKED, PA_HEAP_PEAK };

struct pa_options {
	const char *trace; /* process file */
	enum pa_format format;
	const char *output;	/* -o FILE, NULL = stdout */
	enum pa_data data;	/* --data=cpu|mem|calls */
	enum pa_heap heap;	/* --heap=allocated|leaked|peak */
	long thread;		/* --thread=TID, -1 = all */
	const char *between[2]; /* --between=MARK1,MARK2 */
	double time_from_ms;	/* --from=MS (since start), default 0 */
	double time_to_ms;	/* --to=MS, default: end (< 0) */
	double min_dur_us;	/* --min-duration=US for trace events */
	int max_depth;		/* --depth=N for trees and trace events, 0 = all */
	double hide_pct;	/* --hide=PCT: hide tree nodes under PCT% */
	int top;		/* --top=N rows in text tables, default 20 */
	bool quiet;		/* --quiet: no warnings, no progress */
	double slow_ms;		/* --slow=MS: slow I/O calls, default 10 */
	/* run directories (run_main.c) */
	long pid;	  /* --pid=N, -1 = every process */
	const char *comm; /* --comm=NAME, NULL = every command */
	bool run_line;	  /* --run-summary: one line for tools/profshim */
	/* findings, diff, budgets */
	int findings;		 /* --findings=N: at most N findings, 0 = off (default 10) */
	const char *budget;	 /* --budget=FILE (check, diff) */
	const char *normalize;	 /* --normalize=MARKER|SPAN (diff) */
	/* output size caps (out_caps.c) */
	double max_size_mb; /* --max-size=MB; < 0: the format's default; 0: no cap */
};

/* The --format names (output/out_util.c), by enum pa_format. */
extern const char *const pa_format_names[PA_FMT_COUNT];
static inline const char *pa_format_name(enum pa_format f)
{
	return pa_format_names[f];
}

#endif
