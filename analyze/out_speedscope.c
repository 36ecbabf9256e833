/* speedscope JSON writer (out_speedscope.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "json_write.h"
#include "out_speedscope.h"
#include "session.h"

struct ss_frame {
	char *name, *file;
	int line;
};

struct pa_ss {
	FILE *out;
	char *name;
	struct pa_vec frames;    /* struct ss_frame */
	struct pa_pairmap index; /* (hash name+file, line) -> frame + 1 */
	FILE *weights;           /* sampled profile: weights, appended at its end */
	int kind;                /* 0 none, 1 sampled, 2 evented */
	bool first_profile, first_item;
};

struct pa_ss *pa_ss_new(FILE *out, const char *name)
{
	struct pa_ss *ss = pa_xcalloc(1, sizeof(*ss));
	ss->out = out;
	ss->name = pa_xstrdup(name ? name : "profshim");
	pa_vec_init(&ss->frames, sizeof(struct ss_frame));
	pa_pairmap_init(&ss->index);
	ss->first_profile = true;
	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
	      "\"exporter\":\"profshim profanalyze\",\"name\":",
	      out);
	pa_json_string(out, ss->name);
	fputs(",\"activeProfileIndex\":0,\"profiles\":[\n", out);
	return ss;
}

static uint64_t hash2(const char *a, const char *b)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *s = a; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	h = (h ^ 0xff) * 0x100000001b3ull;
	for (const char *s = b; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

uint32_t pa_ss_frame(struct pa_ss *ss, const char *name, const char *file, int line)
{
	uint64_t k = hash2(name, file);
	uint32_t v = pa_pairmap_get(&ss->index, k, (uint64_t)line);
	if (v)
		return v - 1;
	struct ss_frame *f = pa_vec_push(&ss->frames);
	f->name = pa_xstrdup(name ? name : "??");
	f->file = file ? pa_xstrdup(file) : NULL;
	f->line = line;
	pa_pairmap_put(&ss->index, k, (uint64_t)line, (uint32_t)ss->frames.len);
	return (uint32_t)ss->frames.len - 1;
}

static void begin(struct pa_ss *ss, const char *type, const char *name, const char *unit,
		  double start, double end)
{
	if (ss->kind)
		pa_ss_end_profile(ss);
	fprintf(ss->out, "%s{\"type\":\"%s\",\"name\":", ss->first_profile ? "" : ",\n", type);
	pa_json_string(ss->out, name);
	fputs(",\"unit\":", ss->out);
	pa_json_string(ss->out, unit);
	fprintf(ss->out, ",\"startValue\":%.17g,\"endValue\":%.17g,", start, end);
	ss->first_profile = false;
	ss->first_item = true;
}

void pa_ss_begin_sampled(struct pa_ss *ss, const char *name, const char *unit, double start,
			 double end)
{
	begin(ss, "sampled", name, unit, start, end);
	fputs("\"samples\":[", ss->out);
	ss->weights = tmpfile();
	ss->kind = 1;
}

void pa_ss_sample(struct pa_ss *ss, const uint32_t *stack, size_t n, double weight)
{
	fputs(ss->first_item ? "[" : ",[", ss->out);
	for (size_t i = 0; i < n; i++)
		fprintf(ss->out, "%s%u", i ? "," : "", stack[i]);
	fputc(']', ss->out);
	if (ss->weights)
		fprintf(ss->weights, "%s%.17g", ss->first_item ? "" : ",", weight);
	ss->first_item = false;
}

void pa_ss_begin_evented(struct pa_ss *ss, const char *name, const char *unit, double start,
			 double end)
{
	begin(ss, "evented", name, unit, start, end);
	fputs("\"events\":[", ss->out);
	ss->kind = 2;
}

void pa_ss_event(struct pa_ss *ss, bool open, uint32_t frame, double at)
{
	fprintf(ss->out, "%s{\"type\":\"%c\",\"frame\":%u,\"at\":%.17g}", ss->first_item ? "" : ",",
		open ? 'O' : 'C', frame, at);
	ss->first_item = false;
}

void pa_ss_end_profile(struct pa_ss *ss)
{
	if (ss->kind == 1) {
		fputs("],\"weights\":[", ss->out);
		if (ss->weights) {
			char buf[65536];
			size_t n;
			rewind(ss->weights);
			while ((n = fread(buf, 1, sizeof(buf), ss->weights)) > 0)
				fwrite(buf, 1, n, ss->out);
			fclose(ss->weights);
			ss->weights = NULL;
		}
		fputs("]}", ss->out);
	} else if (ss->kind == 2) {
		fputs("]}", ss->out);
	}
	ss->kind = 0;
}

int pa_ss_finish(struct pa_ss *ss)
{
	if (ss->kind)
		pa_ss_end_profile(ss);
	fputs("\n],\"shared\":{\"frames\":[\n", ss->out);
	for (size_t i = 0; i < ss->frames.len; i++) {
		struct ss_frame *f = pa_vec_at(&ss->frames, i);
		fputs(i ? ",\n{\"name\":" : "{\"name\":", ss->out);
		pa_json_string(ss->out, f->name);
		if (f->file) {
			fputs(",\"file\":", ss->out);
			pa_json_string(ss->out, f->file);
		}
		if (f->line > 0)
			fprintf(ss->out, ",\"line\":%d", f->line);
		fputc('}', ss->out);
		free(f->name);
		free(f->file);
	}
	fputs("\n]}}\n", ss->out);
	int rc = ferror(ss->out) ? -1 : 0;
	pa_vec_free(&ss->frames);
	pa_pairmap_free(&ss->index);
	free(ss->name);
	free(ss);
	return rc;
}
