/* The speedscope writer: see out_speedscope.h. */
#define _GNU_SOURCE
#include "out_speedscope.h"

#include <stdlib.h>
#include <string.h>

#include "call_model.h"
#include "jsonw.h"
#include "stack_tree.h"

struct pa_speedscope {
	FILE *f;
	struct pa_vec frames;	 /* const struct pa_frame * */
	struct pa_pairmap index; /* (frame pointer, 0) -> index + 1 */
	struct pa_vec weights;	 /* double, of the sampled profile being written */
	unsigned profiles;
	size_t owned;	/* frames [0, owned) are copies (pa_ss_detach) */
	char prefix[256]; /* of profile names: a run's process */
	unsigned items; /* samples or events in the current profile */
	char type;	/* 's'ampled, 'e'vented, 0 = none open */
};

/* offcpu and wall: a time profile stands in for the CPU samples */
static enum pa_data ss_data(const struct pa_models *pm)
{
	enum pa_data d = pm->o->data;
	return d == PA_DATA_OFFCPU || d == PA_DATA_WALL ? PA_DATA_CPU : d;
}

struct pa_speedscope *pa_ss_begin(FILE *f, const char *name)
{
	struct pa_speedscope *ss = pa_xcalloc(1, sizeof(*ss));
	ss->f = f;
	pa_vec_init(&ss->frames, sizeof(const struct pa_frame *));
	pa_vec_init(&ss->weights, sizeof(double));
	pa_pairmap_init(&ss->index);
	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"exporter\":"
	      "\"profshim\",\"name\":",
	      f);
	pa_json_string(f, name);
	fputs(",\"activeProfileIndex\":0,\"profiles\":[", f);
	return ss;
}

/* Frames are symbolizer results, unique per pointer for one function and
 * line; the same pointer always gets the same index. */
int pa_ss_frame(struct pa_speedscope *ss, const struct pa_frame *fr)
{
	uint32_t i = pa_pairmap_get(&ss->index, (uint64_t)(uintptr_t)fr, 0);
	if (i)
		return (int)i - 1;
	*(const struct pa_frame **)pa_vec_push(&ss->frames) = fr;
	pa_pairmap_put(&ss->index, (uint64_t)(uintptr_t)fr, 0, (uint32_t)ss->frames.len);
	return (int)ss->frames.len - 1;
}

static void profile_head(struct pa_speedscope *ss, const char *type, const char *name,
			 const char *unit, double start, double end)
{
	if (ss->type)
		pa_ss_profile_end(ss);
	fputs(ss->profiles++ ? ",\n{\"type\":\"" : "\n{\"type\":\"", ss->f);
	fputs(type, ss->f);
	fputs("\",\"name\":", ss->f);
	if (ss->prefix[0]) {
		char full[1024];
		snprintf(full, sizeof(full), "%s%s", ss->prefix, name);
		pa_json_string(ss->f, full);
	} else {
		pa_json_string(ss->f, name);
	}
	fprintf(ss->f, ",\"unit\":\"%s\",\"startValue\":", unit);
	pa_json_number(ss->f, start);
	fputs(",\"endValue\":", ss->f);
	pa_json_number(ss->f, end);
	ss->items = 0;
}

void pa_ss_sampled_begin(struct pa_speedscope *ss, const char *name, const char *unit, double start,
			 double end)
{
	profile_head(ss, "sampled", name, unit, start, end);
	fputs(",\"samples\":[", ss->f);
	ss->weights.len = 0;
	ss->type = 's';
}

void pa_ss_sample(struct pa_speedscope *ss, const int *frames, int n, double weight)
{
	fputs(ss->items++ ? ",[" : "[", ss->f);
	for (int i = 0; i < n; i++)
		fprintf(ss->f, i ? ",%d" : "%d", frames[i]);
	fputc(']', ss->f);
	*(double *)pa_vec_push(&ss->weights) = weight;
}

void pa_ss_evented_begin(struct pa_speedscope *ss, const char *name, const char *unit, double start,
			 double end)
{
	profile_head(ss, "evented", name, unit, start, end);
	fputs(",\"events\":[", ss->f);
	ss->type = 'e';
}

void pa_ss_event(struct pa_speedscope *ss, char type, double at, int frame)
{
	fprintf(ss->f, "%s{\"type\":\"%c\",\"at\":", ss->items++ ? "," : "", type);
	pa_json_number(ss->f, at);
	fprintf(ss->f, ",\"frame\":%d}", frame);
}

void pa_ss_profile_end(struct pa_speedscope *ss)
{
	if (ss->type == 's') {
		fputs("],\"weights\":[", ss->f);
		for (size_t i = 0; i < ss->weights.len; i++) {
			if (i)
				fputc(',', ss->f);
			pa_json_number(ss->f, *(double *)pa_vec_at(&ss->weights, i));
		}
	}
	if (ss->type)
		fputs("]}", ss->f);
	ss->type = 0;
}

void pa_ss_name_prefix(struct pa_speedscope *ss, const char *prefix)
{
	snprintf(ss->prefix, sizeof(ss->prefix), "%s", prefix ? prefix : "");
}

void pa_ss_detach(struct pa_speedscope *ss)
{
	for (size_t i = ss->owned; i < ss->frames.len; i++) {
		const struct pa_frame **slot = pa_vec_at(&ss->frames, i);
		struct pa_frame *copy = pa_xcalloc(1, sizeof(*copy));
		copy->function = (*slot)->function ? pa_xstrdup((*slot)->function) : NULL;
		copy->file = (*slot)->file ? pa_xstrdup((*slot)->file) : NULL;
		copy->line = (*slot)->line;
		*slot = copy;
	}
	ss->owned = ss->frames.len;
	/* the next process's frames may reuse these addresses */
	pa_pairmap_free(&ss->index);
	pa_pairmap_init(&ss->index);
}

static void free_owned(struct pa_speedscope *ss)
{
	for (size_t i = 0; i < ss->owned; i++) {
		struct pa_frame *fr = *(struct pa_frame **)pa_vec_at(&ss->frames, i);
		free((char *)fr->function);
		free((char *)fr->file);
		free(fr);
	}
}

bool pa_ss_has_data(const struct pa_models *pm)
{
	enum pa_data d = ss_data(pm);
	bool any = false;
	for (int k = PA_DATA_CPU; k <= PA_DATA_CALLS; k++)
		any |= (d == PA_DATA_AUTO || d == (enum pa_data)k) && pa_has_data(pm, k);
	return any;
}

int pa_ss_add_profiles(const struct pa_models *pm, struct pa_speedscope *ss)
{
	enum pa_data d = ss_data(pm);
	int rc = 0;
	if ((d == PA_DATA_AUTO || d == PA_DATA_CPU) && pa_has_data(pm, PA_DATA_CPU))
		rc = cpu_report_speedscope(pm, ss);
	if (!rc && (d == PA_DATA_AUTO || d == PA_DATA_CALLS) && pa_has_data(pm, PA_DATA_CALLS))
		calls_report_speedscope(pm, ss);
	if (!rc && (d == PA_DATA_AUTO || d == PA_DATA_MEM) && pa_has_data(pm, PA_DATA_MEM))
		rc = heap_report_speedscope(pm, ss);
	return rc;
}

void pa_ss_end(struct pa_speedscope *ss)
{
	pa_ss_profile_end(ss);
	fputs("\n],\"shared\":{\"frames\":[", ss->f);
	for (size_t i = 0; i < ss->frames.len; i++) {
		const struct pa_frame *fr = *(const struct pa_frame **)pa_vec_at(&ss->frames, i);
		fputs(i ? ",\n{\"name\":" : "\n{\"name\":", ss->f);
		pa_json_string(ss->f, fr->function ? fr->function : "??");
		if (fr->file) {
			fputs(",\"file\":", ss->f);
			pa_json_string(ss->f, fr->file);
			if (fr->line)
				fprintf(ss->f, ",\"line\":%d", fr->line);
		}
		fputc('}', ss->f);
	}
	fputs("\n]}}\n", ss->f);
	free_owned(ss);
	pa_vec_free(&ss->frames);
	pa_vec_free(&ss->weights);
	pa_pairmap_free(&ss->index);
	free(ss);
}
