/* Describing addresses for reports: "function (file:line)" when known. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>

#include "models.h"

const char *pa_describe_pc(const struct pa_models *pm, uint64_t pc, bool ret_addr, uint64_t ticks,
			   char *buf, size_t cap)
{
	(void)ret_addr;
	const struct pa_module *m = pa_module_for(pm->s, pc, ticks);
	if (m)
		snprintf(buf, cap, "%s+0x%" PRIx64, m->path, pc - m->bias);
	else
		snprintf(buf, cap, "0x%" PRIx64, pc);
	return buf;
}
