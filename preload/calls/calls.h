/*
 * The calls recorder's view for the other recorders: the current shadow
 * stack of instrumented functions (-finstrument-functions), which gives
 * allocation and sample stacks without unwinding for instrumented frames.
 *
 * Both functions are async-signal-safe and cheap (no allocation, no lock).
 * A signal that lands inside a calls hook (t->busy set) may see the stack in
 * the middle of a push or pop: samplers drop such samples anyway.
 */
#ifndef PS_CALLS_H
#define PS_CALLS_H

#include <stdint.h>

struct ps_thread;

/* Depth of t's shadow stack (0 without calls, or before the first call).
 * Frames beyond PROFSHIM_CALLS_MAX_DEPTH are not included. */
int ps_calls_depth(const struct ps_thread *t);

/* Copy up to max function addresses of t's shadow stack into out,
 * innermost first; returns how many were copied. */
int ps_calls_shadow(const struct ps_thread *t, uintptr_t *out, int max);

/* For allocation stacks without unwinding: the innermost shadow frame's
 * enter-hook frame address in *frame0 (to check that the allocating code
 * is that function itself), then up to max call sites, innermost first:
 * the return address each instrumented function will return to, in its
 * caller. Returns how many were copied (0 without calls). */
int ps_calls_sites(const struct ps_thread *t, uintptr_t *frame0, uintptr_t *out, int max);

#endif
