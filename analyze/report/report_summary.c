/*
 * The session summary: what ran, its threads, modules, markers, events by
 * kind and anything dropped — the part of every text and JSON report that
 * does not depend on a recorder.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models.h"
#include "report_empty.h"

static const char *const kind_names[] = {
    [PA_EV_EXIT] = "call_exits",  [PA_EV_ENTER] = "call_enters",  [PA_EV_ALLOC] = "allocations",
    [PA_EV_FREE] = "frees",	  [PA_EV_SAMPLE] = "cpu_samples", [PA_EV_MARK] = "markers",
    [PA_EV_RSS] = "rss_readings",
};
#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

struct summary_model {
	uint64_t by_kind[NKINDS];
	struct pa_vec thread_events; /* uint64_t per thread index */
};

struct summary_model *summary_model_new(struct pa_session *s)
{
	struct summary_model *m = pa_xcalloc(1, sizeof(*m));
	pa_vec_init(&m->thread_events, sizeof(uint64_t));
	for (size_t i = 0; i < s->threads.len; i++)
		pa_vec_push(&m->thread_events);
	return m;
}

void summary_model_event(struct summary_model *m, const struct pa_event *ev)
{
	if (ev->kind < NKINDS && kind_names[ev->kind])
		m->by_kind[ev->kind]++;
	if (ev->kind != PA_EV_THREAD_END)
		((uint64_t *)m->thread_events.items)[ev->thread->index]++;
}

void summary_model_calls(struct summary_model *m, const struct pa_call_run *run)
{
	m->by_kind[PA_EV_ENTER] += run->enters;
	m->by_kind[PA_EV_EXIT] += run->n - run->enters;
	((uint64_t *)m->thread_events.items)[run->thread->index] += run->n;
}

void summary_model_free(struct summary_model *m)
{
	if (!m)
		return;
	pa_vec_free(&m->thread_events);
	free(m);
}

static double ms(const struct pa_session *s, uint64_t ticks)
{
	return pa_ticks_to_ns(s, ticks) / 1e6;
}

static struct pa_thread *thread_at(const struct pa_session *s, size_t i)
{
	return *(struct pa_thread **)pa_vec_at(&s->threads, i);
}

static uint64_t thread_duration(const struct pa_thread *t)
{
	return t->end_ticks > t->start_ticks ? t->end_ticks - t->start_ticks : 0;
}

static void command_line(const struct pa_session *s, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	for (int i = 0; i < s->argc && n + 1 < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? " " : "", s->argv[i]);
}

static void iso_time(uint64_t wall_ns, char *buf, size_t cap)
{
	time_t secs = (time_t)(wall_ns / 1000000000u);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03uZ", (unsigned)(wall_ns / 1000000u % 1000u));
}

static const char *counter_name(unsigned c)
{
	switch (c) {
	case PST_C_DROP_NO_SPACE:
		return "no_space";
	case PST_C_DROP_AFTER_END:
		return "after_thread_end";
	case PST_C_DROP_SAMPLE_BUSY:
		return "samples_in_hooks";
	case PST_C_DROP_SAMPLE_LOADER:
		return "samples_in_loader";
	case PST_C_DROP_SAMPLE_WEIGHT:
		return "sample_weight";
	case PST_C_DROP_CALL_DEPTH:
		return "calls_too_deep";
	case PST_C_DROP_CALL_SHORT:
		return "calls_under_min_duration";
	case PST_C_DROP_STACK_TRUNC:
		return "stacks_truncated";
	case PST_C_DROP_REENTRANT:
		return "reentrant_hooks";
	case PST_C_DROP_MEM_SAMPLE_SET:
		return "sampled_blocks_untracked";
	case PST_C_DROP_CALL_UNMATCHED:
		return "call_exits_unmatched";
	case PST_C_DROP_CALL_CONTEXT:
		return "calls_outside_call_tree";
	case PST_C_DROP_IO_NESTED:
		return "io_calls_inside_recorded_calls";
	case PST_C_DROP_IO_FD_RANGE:
		return "io_descriptors_past_table";
	case PST_C_DROP_SPAN_UNMATCHED:
		return "span_ends_unmatched";
	default:
		return NULL;
	}
}

static cJSON *session_json(const struct pa_models *pm)
{
	const struct pa_session *s = pm->s;
	char buf[4096];
	cJSON *o = cJSON_CreateObject();
	command_line(s, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "command", buf);
	cJSON_AddStringToObject(o, "executable", s->exe ? s->exe : "");
	cJSON_AddNumberToObject(o, "pid", s->pid);
	cJSON_AddNumberToObject(o, "ppid", s->ppid);
	iso_time(s->start_wall_ns, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "start", buf);
	cJSON_AddNumberToObject(o, "duration_ms", ms(s, pa_session_duration_ticks(s)));
	cJSON_AddBoolToObject(o, "ended_normally", s->ended);
	cJSON_AddStringToObject(o, "clock", s->clock_kind == PST_CLOCK_TSC ? "tsc" : "monotonic");
	struct pa_vec rel;
	pa_session_related(s, &rel);
	cJSON *children = cJSON_AddArrayToObject(o, "related_processes");
	for (size_t i = 0; i < rel.len; i++) {
		struct pa_related *r = pa_vec_at(&rel, i);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "pid", r->pid);
		cJSON_AddStringToObject(j, "how", r->exec ? "exec" : "fork");
		cJSON_AddStringToObject(j, "trace", r->path);
		cJSON_AddItemToArray(children, j);
		free(r->path);
	}
	pa_vec_free(&rel);
	cJSON *threads = cJSON_AddArrayToObject(o, "threads");
	for (size_t i = 0; i < s->threads.len; i++) {
		const struct pa_thread *t = thread_at(s, i);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "tid", t->tid);
		cJSON_AddStringToObject(j, "name", t->name);
		cJSON_AddNumberToObject(j, "start_ms", ms(s, t->start_ticks - s->start_ticks));
		cJSON_AddNumberToObject(j, "duration_ms", ms(s, thread_duration(t)));
		cJSON_AddNumberToObject(
		    j, "events", (double)*(uint64_t *)pa_vec_at(&pm->summary->thread_events, i));
		cJSON_AddItemToArray(threads, j);
	}
	return o;
}

static cJSON *modules_json(const struct pa_session *s)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < s->modules.len; i++) {
		const struct pa_module *m = pa_vec_at(&s->modules, i);
		cJSON *j = cJSON_CreateObject();
		char id[140] = "", addr[40];
		for (size_t k = 0; k < m->build_id_len; k++)
			snprintf(id + 2 * k, 3, "%02x", m->build_id[k]);
		cJSON_AddStringToObject(j, "path", m->path);
		snprintf(addr, sizeof(addr), "0x%" PRIx64, m->lo);
		cJSON_AddStringToObject(j, "start", addr);
		snprintf(addr, sizeof(addr), "0x%" PRIx64, m->hi);
		cJSON_AddStringToObject(j, "end", addr);
		cJSON_AddStringToObject(j, "build_id", id);
		cJSON_AddBoolToObject(j, "unloaded", m->last_ticks != UINT64_MAX);
		cJSON_AddItemToArray(a, j);
	}
	return a;
}

static cJSON *markers_json(const struct pa_models *pm)
{
	const struct pa_session *s = pm->s;
	cJSON *a = cJSON_CreateArray();
	char where[1024];
	for (size_t i = 0; i < s->markers.len; i++) {
		const struct pa_marker *mk = pa_vec_at(&s->markers, i);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", mk->name);
		cJSON_AddNumberToObject(j, "time_ms", ms(s, mk->ticks - s->start_ticks));
		cJSON_AddNumberToObject(j, "tid", thread_at(s, mk->thread)->tid);
		cJSON_AddStringToObject(
		    j, "location",
		    pa_describe_pc(pm, mk->pc, true, mk->ticks, where, sizeof(where)));
		cJSON_AddItemToArray(a, j);
	}
	return a;
}

/* How the writer stored the finished windows of the thread files
 * (COMPRESSED RUNS in profshim_trace.h): not data lost, so not under
 * "dropped", but a run left raw costs disk and means the compressor thread
 * fell behind. */
static void compression_json(const struct pa_session *s, cJSON *root)
{
	cJSON *z = cJSON_AddObjectToObject(root, "compression");
	cJSON_AddNumberToObject(z, "runs_compressed_in_background",
				(double)s->counters[PST_C_Z_BACKGROUND]);
	cJSON_AddNumberToObject(z, "runs_left_raw", (double)s->counters[PST_C_Z_RAW_RUNS]);
}

static void compression_text(const struct pa_session *s, FILE *out)
{
	uint64_t bg = s->counters[PST_C_Z_BACKGROUND], raw = s->counters[PST_C_Z_RAW_RUNS];
	if (!bg && !raw)
		return;
	fprintf(out, "\nCompression (finished windows of the trace files)\n");
	fprintf(out, "  %-26s %12" PRIu64 "\n", "compressed_in_background", bg);
	if (raw)
		fprintf(out,
			"  %-26s %12" PRIu64 "  (compressor behind: stored raw, nothing lost)\n",
			"left_raw", raw);
}

void summary_report_json(const struct pa_models *pm, cJSON *root)
{
	const struct pa_session *s = pm->s;
	cJSON_AddItemToObject(root, "session", session_json(pm));
	cJSON_AddItemToObject(root, "modules", modules_json(s));
	cJSON_AddItemToObject(root, "markers", markers_json(pm));
	cJSON *ops = cJSON_AddObjectToObject(root, "operation_metrics");
	for (size_t k = 0; k < NKINDS; k++)
		if (kind_names[k])
			cJSON_AddNumberToObject(ops, kind_names[k],
						(double)pm->summary->by_kind[k]);
	cJSON *drop = cJSON_AddObjectToObject(root, "dropped");
	for (unsigned c = 0; c < PST_C_COUNTER_MAX; c++)
		if (counter_name(c))
			cJSON_AddNumberToObject(drop, counter_name(c), (double)s->counters[c]);
	compression_json(s, root);
	cJSON *warn = cJSON_AddArrayToObject(root, "warnings");
	for (size_t i = 0; i < s->warnings.len; i++)
		cJSON_AddItemToArray(warn,
				     cJSON_CreateString(*(char **)pa_vec_at(&s->warnings, i)));
	empty_sections_json(pm, root); /* why a part of the report is missing */
}

void summary_report_text(const struct pa_models *pm, FILE *out)
{
	const struct pa_session *s = pm->s;
	char buf[4096];
	command_line(s, buf, sizeof(buf));
	fprintf(out, "profshim report: %s\n", buf);
	iso_time(s->start_wall_ns, buf, sizeof(buf));
	fprintf(out, "  pid %u (parent %u), started %s, ran %.3f ms%s\n", s->pid, s->ppid, buf,
		ms(s, pa_session_duration_ticks(s)),
		s->ended ? "" : " (did not end normally: killed, crashed or _exit)");
	struct pa_vec rel;
	pa_session_related(s, &rel);
	for (size_t i = 0; i < rel.len; i++) {
		struct pa_related *r = pa_vec_at(&rel, i);
		fprintf(out, "  %s pid %u: profanalyze %s\n",
			r->exec ? "after exec," : "forked child", r->pid, r->path);
		free(r->path);
	}
	pa_vec_free(&rel);
	fprintf(out, "\nThreads\n  %8s  %-16s %12s %12s\n", "tid", "name", "duration ms", "events");
	for (size_t i = 0; i < s->threads.len; i++) {
		const struct pa_thread *t = thread_at(s, i);
		fprintf(out, "  %8u  %-16s %12.3f %12" PRIu64 "\n", t->tid, t->name,
			ms(s, thread_duration(t)),
			*(uint64_t *)pa_vec_at(&pm->summary->thread_events, i));
	}
	if (s->markers.len) {
		fprintf(out, "\nMarkers\n  %12s %8s  %-20s %s\n", "time ms", "tid", "name",
			"where");
		size_t shown = s->markers.len;
		if (shown > (size_t)pm->o->top)
			shown = (size_t)pm->o->top;
		for (size_t i = 0; i < shown; i++) {
			const struct pa_marker *mk = pa_vec_at(&s->markers, i);
			fprintf(out, "  %12.3f %8u  %-20s %s\n", ms(s, mk->ticks - s->start_ticks),
				thread_at(s, mk->thread)->tid, mk->name,
				pa_describe_pc(pm, mk->pc, true, mk->ticks, buf, sizeof(buf)));
		}
		if (shown < s->markers.len)
			fprintf(out,
				"  ... %zu more (--top=N shows more; --format=json lists all)\n",
				s->markers.len - shown);
	}
	fprintf(out, "\nEvents\n");
	bool events = false;
	for (size_t k = 0; k < NKINDS; k++)
		if (kind_names[k] && pm->summary->by_kind[k]) {
			events = true;
			fprintf(out, "  %-14s %12" PRIu64 "\n", kind_names[k],
				pm->summary->by_kind[k]);
		}
	if (!events) /* never an empty header: "Not in this report" says why */
		fprintf(out, "  none recorded\n");
	bool any = false;
	for (unsigned c = 0; c < PST_C_COUNTER_MAX; c++) {
		if (counter_name(c) && s->counters[c]) {
			if (!any)
				fprintf(out, "\nDropped or cut (counted by the shim)\n");
			any = true;
			fprintf(out, "  %-26s %12" PRIu64 "\n", counter_name(c), s->counters[c]);
		}
	}
	compression_text(s, out);
	empty_sections_text(pm, out); /* why a part of the report is missing */
}
