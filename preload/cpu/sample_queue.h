/*
 * Samples that land inside the shim's hooks (sample_queue.c), and the
 * sample-writing helpers the signal handler (sampler.c) shares with it.
 *
 * A hook may be in the middle of a record or of the stack trie when the
 * sampling signal comes: nothing can be written then. The handler
 * captures the stack into the thread's queue (struct ps_cpu_pending in the
 * timer slot) and the queue is written when the hook ends (ps_leave calls
 * ps_cpu_flush) or by the next sample outside a hook.
 */
#ifndef PS_SAMPLE_QUEUE_H
#define PS_SAMPLE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "cputimer.h"
#include "shim.h"

/* The signal trampoline (sa_restorer) of the shim's handlers: the pc of
 * a signal frame in an unwound stack; 0 if unknown. */
extern uintptr_t ps_sample_trampoline;

/* sampler.c: a SAMPLE record of weight at an interned stack. */
void ps_sample_write(struct ps_thread *t, uint64_t weight, uint64_t stack, int depth);

/* The calls recorder's shadow depth of t (0 without it). */
int ps_sample_depth(struct ps_thread *t);
/* Frames to capture (PROFSHIM_STACK_DEPTH, bounded). */
int ps_sample_max_frames(void);
/* Weight no sample carries: counted, never silent. */
void ps_sample_drop(struct ps_thread *t, uint64_t weight);
/* The interrupted stack into pcs, the shim's frames attributed (the
 * interrupted allocator's frames kept, or [profshim]); in_hook: the signal
 * interrupted a hook. PS_UNWIND_IN_LOADER when it cannot be walked. */
int ps_sample_capture(struct ps_thread *t, void *uc, uintptr_t *pcs, int max, bool in_hook);
/* Write c's queued samples and [kernel] weight into t's stream (t busy);
 * ps_cpu_flush for t->cpu. */
void ps_sample_flush_slot(struct ps_thread *t, struct ps_cpu_thread *c);
/* t's queue written out (t busy; in the handler too). ps_cpu_flush, at a
 * hook's end, also makes the unwinder cache a sample asked for. */
void ps_cpu_flush_queue(struct ps_thread *t);
/* In the handler, t busy in a hook: queue the sample. */
void ps_sample_defer(struct ps_thread *t, struct ps_cpu_thread *c, void *uc, uint64_t weight);

/* A section of thread c->tid charging or writing samples: false when the
 * slot is closed (then nothing may be charged or written). */
bool ps_cpu_slot_enter(struct ps_cpu_thread *c);
void ps_cpu_slot_leave(struct ps_cpu_thread *c);
/* Close slot c of a thread still running and wait for its section to end;
 * false if it did not end in time. */
bool ps_cpu_slot_close(struct ps_cpu_thread *c);

#endif
