/* The public API of include/profshim.h: start/stop, markers, counters. */
#define _GNU_SOURCE
#define PROFSHIM_BUILDING_SHIM
#include <string.h>

#include "clock.h"
#include "profshim.h"
#include "recorder.h"
#include "shim.h"

PS_EXPORT void profshim_start(void)
{
	if (ps_initialized && !ps_disabled) {
		ps_recording = 1;
		ps_recorders_recording_changed();
	}
}

PS_EXPORT void profshim_stop(void)
{
	ps_recording = 0;
	ps_recorders_recording_changed();
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

/* --- spans and counters (kind 11 SPAN records) --- */

static __thread uint32_t span_depth PS_TLS; /* spans open on this thread */

static void write_span(struct ps_thread *t, unsigned what, const char *name, bool has_value,
		       int64_t value)
{
	size_t len = name ? strnlen(name, 256) : 0;
	uint8_t *p = ps_reserve(t, len + 5 * PST_VARINT_MAX);
	if (!p)
		return;
	p = pst_put_tag(p, ps_dt(t, ps_now()), PST_K_SPAN);
	p = pst_put_varint(p, what);
	if (what == PST_SPAN_BEGIN || what == PST_SPAN_COUNTER)
		p = pst_put_str(p, name ? name : "", len);
	if (has_value)
		p = pst_put_varint(p, pst_zigzag(value));
	ps_commit(t, p);
}

PS_EXPORT void profshim_span_begin(const char *name)
{
	int saved = errno;
	struct ps_thread *t = ps_recording ? ps_thread_get() : NULL;
	if (t && ps_enter(t)) {
		write_span(t, PST_SPAN_BEGIN, name, false, 0);
		t->counters[PST_C_SPANS]++;
		span_depth++;
		ps_leave(t);
	}
	errno = saved;
}

PS_EXPORT void profshim_span_end(int error)
{
	int saved = errno;
	struct ps_thread *t = ps_recording ? ps_thread_get() : NULL;
	if (t && ps_enter(t)) {
		if (span_depth == 0) {
			t->counters[PST_C_DROP_SPAN_UNMATCHED]++;
		} else {
			span_depth--;
			write_span(t, error ? PST_SPAN_END_ERROR : PST_SPAN_END, NULL, false, 0);
		}
		ps_leave(t);
	}
	errno = saved;
}

PS_EXPORT void profshim_counter(const char *name, int64_t value)
{
	int saved = errno;
	struct ps_thread *t = ps_recording ? ps_thread_get() : NULL;
	if (t && ps_enter(t)) {
		write_span(t, PST_SPAN_COUNTER, name, true, value);
		t->counters[PST_C_SPAN_COUNTERS]++;
		ps_leave(t);
	}
	errno = saved;
}

int ps_live_wanted;

PS_EXPORT int profshim_get_counters(struct profshim_counters *out)
{
	if (!out)
		return -1;
	/* Full recording counts live bytes from now on (mem.c, usable). */
	__atomic_store_n(&ps_live_wanted, 1, __ATOMIC_RELAXED);
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
