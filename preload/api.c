/* The public API of include/profshim.h: start/stop, markers, counters. */
#define _GNU_SOURCE
#define PROFSHIM_BUILDING_SHIM
#include <string.h>

#include "clock.h"
#include "profshim.h"
#include "shim.h"

PS_EXPORT void profshim_start(void)
{
	if (ps_initialized && !ps_disabled)
		ps_recording = 1;
}

PS_EXPORT void profshim_stop(void)
{
	ps_recording = 0;
}

/* noinline: the return address must be the caller's call site. */
PS_EXPORT __attribute__((noinline)) void profshim_mark(const char *name)
{
	uintptr_t pc = (uintptr_t)__builtin_return_address(0);
	int saved = errno;
	struct ps_thread *t = ps_recording ? ps_thread_get() : NULL;
	if (t && ps_enter(t)) {
		size_t len = name ? strnlen(name, 256) : 0;
		uint8_t *p = ps_reserve(t, len + 4 * PST_VARINT_MAX);
		if (p) {
			p = pst_put_tag(p, ps_dt(t, ps_now()), PST_K_MARK);
			p = pst_put_varint(p, pc);
			p = pst_put_str(p, name ? name : "", len);
			ps_commit(t, p);
		}
		ps_leave(t);
	}
	errno = saved;
}

PS_EXPORT int profshim_get_counters(struct profshim_counters *out)
{
	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	if (!ps_initialized || ps_disabled)
		return -1;
	uint64_t r[PST_C_COUNTER_MAX];
	ps_thread_retired(r, &out->live_bytes);
	out->events = r[PST_C_EVENTS];
	out->allocations = r[PST_C_ALLOCS];
	out->frees = r[PST_C_FREES];
	out->samples = r[PST_C_SAMPLES];
	out->calls = r[PST_C_CALLS];
	for (struct ps_thread *t = ps_thread_list(); t; t = t->next_all) {
		out->events += __atomic_load_n(&t->counters[PST_C_EVENTS], __ATOMIC_RELAXED);
		out->allocations += __atomic_load_n(&t->counters[PST_C_ALLOCS], __ATOMIC_RELAXED);
		out->frees += __atomic_load_n(&t->counters[PST_C_FREES], __ATOMIC_RELAXED);
		out->samples += __atomic_load_n(&t->counters[PST_C_SAMPLES], __ATOMIC_RELAXED);
		out->calls += __atomic_load_n(&t->counters[PST_C_CALLS], __ATOMIC_RELAXED);
		out->live_bytes += __atomic_load_n(&t->live_bytes, __ATOMIC_RELAXED);
	}
	return 0;
}
