/* Shared output helpers: see out_util.h. */
#define _GNU_SOURCE
#include "out_util.h"

#include "models.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const pa_format_names[PA_FMT_COUNT] = {
    [PA_FMT_TEXT] = "text",
    [PA_FMT_JSON] = "json",
    [PA_FMT_CHROME] = "chrome",
    [PA_FMT_HEAPPROFILE] = "heapprofile",
    [PA_FMT_TRACE] = "trace",
    [PA_FMT_FOLDED] = "folded",
    [PA_FMT_FLAMEGRAPH] = "flamegraph",
    [PA_FMT_SPEEDSCOPE] = "speedscope",
    [PA_FMT_PPROF] = "pprof",
    [PA_FMT_HTML] = "html",
};

static const struct pa_session *order_of; /* the session `order` was built for */
static size_t order_len;
static size_t *order;

static const struct pa_session *sort_session;
static int by_tid(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct pa_thread *tx = *(struct pa_thread **)pa_vec_at(&sort_session->threads, x);
	const struct pa_thread *ty = *(struct pa_thread **)pa_vec_at(&sort_session->threads, y);
	if (tx->tid != ty->tid)
		return tx->tid < ty->tid ? -1 : 1;
	return x < y ? -1 : x > y;
}

size_t pa_thread_order(const struct pa_session *s, size_t k)
{
	/* profanalyze is single-threaded and has one session: build once. */
	if (order_of != s || order_len != s->threads.len) {
		free(order);
		order_len = s->threads.len;
		order = pa_xcalloc(order_len + 1, sizeof(size_t));
		for (size_t i = 0; i < order_len; i++)
			order[i] = i;
		sort_session = s;
		qsort(order, order_len, sizeof(size_t), by_tid);
		order_of = s;
	}
	return k < order_len ? order[k] : k;
}

int pa_output_open(struct pa_output *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	if (!path) {
		o->f = stdout;
		return 0;
	}
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device, a pipe, a symlink (/dev/stdout): never renamed
		 * over, written directly */
		o->f = fopen(path, "w");
		if (!o->f) {
			fprintf(stderr, "profanalyze: cannot write %s: %s\n", path,
				strerror(errno));
			return -1;
		}
		o->direct = true;
		return 0;
	}
	size_t n = strlen(path) + 32;
	o->tmp = pa_xmalloc(n);
	snprintf(o->tmp, n, "%s.tmp.%ld", path, (long)getpid());
	o->f = fopen(o->tmp, "w");
	if (!o->f) {
		fprintf(stderr, "profanalyze: cannot write %s: %s\n", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return -1;
	}
	return 0;
}

int pa_output_close(struct pa_output *o, bool ok)
{
	int rc = 0;
	if (fflush(o->f) != 0 || ferror(o->f)) {
		fprintf(stderr, "profanalyze: error writing %s: %s\n", o->path ? o->path : "stdout",
			strerror(errno));
		ok = false;
		rc = -1;
	}
	if (!o->path)
		return rc;
	if (o->direct) {
		if (fclose(o->f) != 0 && rc == 0) {
			fprintf(stderr, "profanalyze: error writing %s: %s\n", o->path,
				strerror(errno));
			rc = -1;
		}
		return rc;
	}
	if (fclose(o->f) != 0 && ok) {
		fprintf(stderr, "profanalyze: error writing %s: %s\n", o->path, strerror(errno));
		ok = false;
		rc = -1;
	}
	if (ok && rename(o->tmp, o->path) != 0) {
		fprintf(stderr, "profanalyze: cannot write %s: %s\n", o->path, strerror(errno));
		rc = -1;
		ok = false;
	}
	if (!ok)
		unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	return rc;
}

const char *pa_recorded_names(const struct pa_models *pm)
{
	static char buf[64];
	static const struct {
		unsigned bit;
		const char *name;
	} recs[] = {{PST_REC_CPU, "cpu"}, {PST_REC_MEM, "mem"}, {PST_REC_CALLS, "calls"}};
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		if (pm->s->record_mask & recs[i].bit)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
				 buf[0] ? ", " : "", recs[i].name);
	return buf[0] ? buf : "none";
}

static const char *note_context = "";

void pa_note_context(const char *prefix)
{
	note_context = prefix ? prefix : "";
}

/* Notes while a run's processes are written: one line per distinct note
 * with how many processes it concerns, not one per process. */
#define NOTE_KINDS 32
static struct collected_note {
	char *msg, *first; /* the note, the first process's context */
	unsigned n;
} notes[NOTE_KINDS];
static bool collecting;

void pa_note_collect(bool on)
{
	collecting = on;
	if (on)
		return;
	for (size_t i = 0; i < NOTE_KINDS && notes[i].msg; i++) {
		if (notes[i].n == 1)
			fprintf(stderr, "profanalyze: note: %s%s\n", notes[i].first, notes[i].msg);
		else
			fprintf(stderr, "profanalyze: note: %s (%u processes, the first %.*s)\n",
				notes[i].msg, notes[i].n, (int)strcspn(notes[i].first, ":"),
				notes[i].first);
		free(notes[i].msg);
		free(notes[i].first);
		notes[i] = (struct collected_note){0};
	}
}

static bool collect(const char *msg)
{
	for (size_t i = 0; i < NOTE_KINDS; i++) {
		if (!notes[i].msg) {
			notes[i].msg = pa_xstrdup(msg);
			notes[i].first = pa_xstrdup(note_context);
			notes[i].n = 1;
			return true;
		}
		if (!strcmp(notes[i].msg, msg)) {
			notes[i].n++;
			return true;
		}
	}
	return false; /* more kinds than places: printed as it comes */
}

void pa_note_missing(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (collecting && collect(msg))
		return;
	fprintf(stderr, "profanalyze: note: %s%s\n", note_context, msg);
}
