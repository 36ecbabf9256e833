/* Describing addresses for reports: "function (file:line)" when known. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "models.h"
#include "symbols.h"

const char *pa_describe_pc(const struct pa_models *pm, uint64_t pc, bool ret_addr, uint64_t ticks,
			   char *buf, size_t cap)
{
	if (pm->syms) {
		const struct pa_frame *fr;
		int n = pa_symbols_resolve(pm->syms, pc, ret_addr, ticks, &fr);
		if (n > 0 && fr[0].file) {
			const char *base = strrchr(fr[0].file, '/');
			snprintf(buf, cap, "%s (%s:%d)", fr[0].function, base ? base + 1 : fr[0].file,
				 fr[0].line);
			return buf;
		}
		if (n > 0 && fr[0].function) {
			snprintf(buf, cap, "%s", fr[0].function);
			return buf;
		}
	}
	const struct pa_module *m = pa_module_for(pm->s, pc, ticks);
	if (m)
		snprintf(buf, cap, "%s+0x%" PRIx64, m->path, pc - m->bias);
	else
		snprintf(buf, cap, "0x%" PRIx64, pc);
	return buf;
}
