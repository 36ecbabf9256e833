/*
 * Frames for the memory writers: the described return address ("function
 * (file:line)", see pa_describe_pc) split into function, file and line, and
 * a JSON string writer for the streaming writers.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "heap_model.h"
#include "models.h"
#include "symbols.h"

static void copy(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

void heap_frame_of(const struct pa_models *pm, uint64_t pc, uint64_t ticks, struct heap_frame *f)
{
	if (pm->syms) {
		/* The innermost (inline) frame names the node; its line is
		 * that of the call. */
		const struct pa_frame *fr;
		pa_symbols_resolve(pm->syms, pc, true, ticks, &fr);
		const char *fn = fr->function ? fr->function : "??";
		copy(f->function, sizeof(f->function), fn, strlen(fn));
		copy(f->file, sizeof(f->file), fr->file ? fr->file : "", fr->file ? strlen(fr->file) : 0);
		f->line = fr->line;
		f->func_line = fr->func_line;
		return;
	}
	char buf[1024];
	const char *d = pa_describe_pc(pm, pc, true, ticks, buf, sizeof(buf));
	size_t len = strlen(d);
	f->file[0] = 0;
	f->line = 0;
	f->func_line = 0;
	/* "function (file:line)": the last " (" opens the location. */
	const char *open = NULL;
	for (const char *p = strstr(d, " ("); p; p = strstr(p + 1, " ("))
		open = p;
	if (open && len && d[len - 1] == ')') {
		const char *loc = open + 2, *end = d + len - 1;
		const char *colon = memrchr(loc, ':', (size_t)(end - loc));
		if (colon) {
			copy(f->file, sizeof(f->file), loc, (size_t)(colon - loc));
			f->line = atoi(colon + 1);
		} else {
			copy(f->file, sizeof(f->file), loc, (size_t)(end - loc));
		}
		copy(f->function, sizeof(f->function), d, (size_t)(open - d));
		return;
	}
	copy(f->function, sizeof(f->function), d, len);
}

void heap_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}
