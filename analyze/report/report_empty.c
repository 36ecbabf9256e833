/* Why a part of a report is empty: see report_empty.h. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <string.h>

#include "call_model.h"
#include "heap_model.h"
#include "models.h"
#include "out_util.h"
#include "report_empty.h"
#include "sample_model.h"

static bool recorded(const struct pa_models *pm, unsigned rec)
{
	return (pm->s->record_mask & rec) != 0;
}

const char *pa_why_no_calls(const struct pa_models *pm)
{
	if (call_model_has_data(pm->calls))
		return NULL;
	if (!recorded(pm, PST_REC_CALLS))
		return "the calls recorder was off (PROFSHIM_RECORD without calls)";
	return "no function in this program was built with -finstrument-functions; "
	       "rebuild with it to get call counts";
}

const char *pa_why_no_memory(const struct pa_models *pm)
{
	const struct heap_model *m = pm->heap;
	if (m && m->has_data)
		return NULL;
	if (!recorded(pm, PST_REC_MEM))
		return "the memory recorder was off (PROFSHIM_RECORD without mem)";
	if (pm->s->mem_sample_bytes && !pm->s->ended)
		return "no allocation was sampled, and the process did not end normally "
		       "(killed, crashed or _exit): its call counts were never written";
	if (pm->o->thread >= 0)
		return "this thread (--thread) made no allocation while recording";
	return "the program made no allocation while recording";
}

const char *pa_why_no_cpu(const struct pa_models *pm)
{
	if (pm->cpu && pm->cpu->samples)
		return NULL;
	if (!recorded(pm, PST_REC_CPU))
		return "the CPU recorder was off (PROFSHIM_RECORD without cpu)";
	if (pm->cpu && pm->cpu->dropped)
		return "every CPU sample taken was dropped (counted under dropped: they "
		       "landed inside the profiler's hooks or the loader)";
	return "no CPU sample was taken (the program used less CPU time than one "
	       "sampling period, or its threads block the sampling signal)";
}

void empty_sections_text(const struct pa_models *pm, FILE *out)
{
	const char *why[3] = {pa_why_no_calls(pm), pa_why_no_memory(pm), pa_why_no_cpu(pm)};
	static const char *const part[3] = {"Function calls", "Memory", "CPU samples"};
	bool any = false;
	for (int i = 0; i < 3; i++) {
		if (!why[i])
			continue;
		if (!any)
			fprintf(out, "\nNot in this report\n");
		any = true;
		fprintf(out, "  %s: %s.\n", part[i], why[i]);
	}
}

void empty_sections_json(const struct pa_models *pm, cJSON *root)
{
	const char *why[3] = {pa_why_no_calls(pm), pa_why_no_memory(pm), pa_why_no_cpu(pm)};
	static const char *const key[3] = {"calls", "memory", "cpu"};
	cJSON *o = NULL;
	for (int i = 0; i < 3; i++) {
		if (!why[i])
			continue;
		if (!o)
			o = cJSON_AddObjectToObject(root, "empty_sections");
		cJSON_AddStringToObject(o, key[i], why[i]);
	}
}

void pa_no_data_error(const struct pa_models *pm, const char *format, unsigned parts)
{
	static const char *const data_names[] = {[PA_DATA_CPU] = "cpu",
						 [PA_DATA_CALLS] = "calls",
						 [PA_DATA_MEM] = "mem",
						 [PA_DATA_OFFCPU] = "offcpu",
						 [PA_DATA_WALL] = "wall"};
	static const unsigned data_parts[] = {[PA_DATA_CPU] = PST_REC_CPU,
					      [PA_DATA_CALLS] = PST_REC_CALLS,
					      [PA_DATA_MEM] = PST_REC_MEM,
					      [PA_DATA_OFFCPU] = PST_REC_IO,
					      [PA_DATA_WALL] = PST_REC_CPU | PST_REC_IO};
	const struct pa_options *o = pm->o;
	fprintf(stderr, "profanalyze: --format=%s", format);
	/* --data only when the user gave it to a format that weighs by it
	 * (more than one part): then only that part matters */
	if (o->data != PA_DATA_AUTO && (parts & (parts - 1))) {
		fprintf(stderr, " --data=%s", data_names[o->data]);
		parts = data_parts[o->data];
	}
	fprintf(stderr, ": this trace has no data for it (recorded: %s)\n", pa_recorded_names(pm));
	const char *why;
	if ((parts & PST_REC_CPU) && (why = pa_why_no_cpu(pm)))
		fprintf(stderr, "  CPU samples: %s\n", why);
	if ((parts & PST_REC_CALLS) && (why = pa_why_no_calls(pm)))
		fprintf(stderr, "  function calls: %s\n", why);
	if ((parts & PST_REC_MEM) && (why = pa_why_no_memory(pm)))
		fprintf(stderr, "  memory: %s\n", why);
}
