/*
 * Samples inside the shim's hooks: attribution of the shim's frames and
 * the per-thread queue of samples waiting for the hook's end
 * (sample_queue.h).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "sample_queue.h"
#include "sigunwind.h"
#include "unwind.h"

#define MAX_DEPTH 256

uintptr_t ps_sample_trampoline;

/* The calls recorder's shadow-stack depth of thread t (calls.h). Weak:
 * until that recorder provides it, samples carry depth 0. */
extern int ps_calls_depth(const struct ps_thread *t) __attribute__((weak, visibility("hidden")));

int ps_sample_depth(struct ps_thread *t)
{
	int d = ps_calls_depth ? ps_calls_depth(t) : 0;
	return d > 0 ? d : 0;
}

/* Weight that no sample carries: counted, never silent. */
void ps_sample_drop(struct ps_thread *t, uint64_t weight)
{
	t->counters[PST_C_DROP_SAMPLE_WEIGHT] += weight;
}

/*
 * The shim's own frames in a sample's stack (pcs[0] the interrupted pc).
 * The innermost run of shim frames is the hook the thread is in, the
 * frames below it the program's stack that called the hook:
 *   - a hook that runs the function it wraps (in_real: the real malloc,
 *     free, ...): the frames above the hook are the program's time, kept,
 *     with the hook's frames cut out (the stack malloc would have without
 *     the shim);
 *   - the shim's own code, or code the shim called for its bookkeeping:
 *     the profiler's time, one PST_PC_PROFSHIM frame under the program's
 *     stack.
 * Outside any hook (in_hook false: the thread was not busy when the
 * signal came) with the pc outside the shim, the shim frames deeper down
 * are wrappers the program went through without the profiler doing
 * anything: read() or pthread_mutex_lock() with the io recorder off, the
 * thread start routine. They are cut out, so the stack is the one the
 * program has without the shim (a read's system time stays under its
 * caller, as perf shows it).
 */
static int drop_wrapper_frames(uintptr_t *pcs, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		if (!ps_in_shim(pcs[i]))
			pcs[k++] = pcs[i];
	return k;
}

static int attribute_shim_frames(struct ps_thread *t, uintptr_t *pcs, int n, bool in_hook)
{
	bool in_shim = n > 0 && ps_in_shim(pcs[0]);
	if (!in_shim && !in_hook)
		return drop_wrapper_frames(pcs, n);
	int i = 0;
	while (i < n && !ps_in_shim(pcs[i]))
		i++;
	if (i == n)
		return n; /* no hook frame found: leave it */
	int j = i;
	while (j < n && ps_in_shim(pcs[j]))
		j++;
	/* A signal handler of the shim's own (its frames end at the signal
	 * trampoline) is the profiler's time even when the hook it
	 * interrupted was running the real function (in_real still set). */
	bool own_handler = j < n && ps_sample_trampoline && pcs[j] == ps_sample_trampoline;
	if (i > 0 && t->in_real && !own_handler) {
		memmove(pcs + i, pcs + j, (size_t)(n - j) * sizeof(*pcs));
		return n - (j - i);
	}
	/* The shim's frames were a signal handler of its own (the RSS timer's):
	 * the program's stack is below the signal frame, and below the hook
	 * the handler interrupted, if it did (a hook's frames come within a
	 * few frames of the allocator's, never as deep as a thread's start). */
	if (own_handler) {
		int k = j + 1;
		while (k < n && k <= j + 8 && !ps_in_shim(pcs[k]))
			k++;
		if (k < n && ps_in_shim(pcs[k])) {
			while (k < n && ps_in_shim(pcs[k]))
				k++;
			j = k;
		} else {
			j = j + 1;
		}
	}
	pcs[0] = PST_PC_PROFSHIM;
	memmove(pcs + 1, pcs + j, (size_t)(n - j) * sizeof(*pcs));
	return 1 + n - j;
}

/* The interrupted stack into pcs; PS_UNWIND_IN_LOADER when it cannot be
 * walked. in_hook: the signal interrupted a hook (the thread was busy
 * before the handler set the flag itself). */
int ps_sample_capture(struct ps_thread *t, void *uc, uintptr_t *pcs, int max, bool in_hook)
{
	struct ps_cpu_thread *c = t->cpu;
	bool warmed = c && c->warmed;
	/* A cold thread's sample in the program's own code makes the frame
	 * cache here (sigunwind.c says why that is safe): no warm-up at start,
	 * and a thread that never calls a hook gets the fast walk too. */
	bool warm_here = c && !warmed && !in_hook && !t->unwinding && ps_sigunwind_may_warm(uc);
	int n = ps_sigunwind_capture(uc, pcs, max, warmed || warm_here);
	if (n < 0)
		return n;
	if (warm_here) {
		c->warmed = 1;
		c->warm_due = 0;
		t->counters[PST_C_CPU_WARMED_BY_SAMPLE]++;
	} else if (!warmed) {
		t->counters[PST_C_CPU_COLD_WALKS]++;
	}
	if (n >= max)
		t->counters[PST_C_DROP_STACK_TRUNC]++;
	return attribute_shim_frames(t, pcs, n, in_hook);
}

int ps_sample_max_frames(void)
{
	int max = (int)ps_cfg.stack_depth;
	return max > MAX_DEPTH ? MAX_DEPTH : max;
}

/*
 * A sample landing inside a hook (t->busy): the hook may be in the middle
 * of a record or of the stack trie, so nothing is written now. The stack
 * is captured into the thread's queue and written by ps_cpu_flush when the
 * hook ends (or by the next sample outside a hook). Inside libunwind the
 * stack cannot be walked again: the sample waits for the stack the hook is
 * capturing (ps_cpu_hook_stack), as [profshim] under it.
 */
void ps_sample_defer(struct ps_thread *t, struct ps_cpu_thread *c, void *uc, uint64_t weight)
{
	uint32_t i = c->npending;
	if (i >= PS_CPU_PENDING_MAX) {
		/* A long hook (a window compressed in it, a page fault): the
		 * queue is the same hook's samples, so the last one's stack is
		 * this one's too, but for the profiler's own frames, which are
		 * [profshim] anyway. Its weight goes there. Not while the queue
		 * is being written out: that entry may be written already. */
		if (!c->flushing) {
			c->pending[PS_CPU_PENDING_MAX - 1].weight += weight;
			t->counters[PST_C_SAMPLES_DEFERRED]++;
			return;
		}
		t->counters[PST_C_DROP_SAMPLE_BUSY]++;
		ps_sample_drop(t, weight);
		return;
	}
	struct ps_cpu_pending *p = &c->pending[i];
	p->weight = weight;
	p->depth = ps_sample_depth(t);
	p->need_stack = t->unwinding != 0;
	p->n = 0;
	if (!p->need_stack) {
		int max = ps_sample_max_frames();
		if (max > PS_CPU_PENDING_DEPTH)
			max = PS_CPU_PENDING_DEPTH;
		int n = ps_sample_capture(t, uc, p->pcs, max, true);
		if (n == PS_UNWIND_IN_LOADER) {
			t->counters[PST_C_DROP_SAMPLE_LOADER]++;
			ps_sample_drop(t, weight);
			return;
		}
		p->n = n;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	c->npending = i + 1;
	t->cpu_pending = 1;
	t->counters[PST_C_SAMPLES_DEFERRED]++;
}

void ps_cpu_hook_stack(struct ps_thread *t, const uintptr_t *pcs, int n)
{
	struct ps_cpu_thread *c = t->cpu;
	if (!c)
		return;
	uint32_t k = __atomic_load_n(&c->npending, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < k; i++) {
		struct ps_cpu_pending *p = &c->pending[i];
		if (!p->need_stack)
			continue;
		int m = n < PS_CPU_PENDING_DEPTH - 1 ? n : PS_CPU_PENDING_DEPTH - 1;
		p->pcs[0] = PST_PC_PROFSHIM;
		memcpy(p->pcs + 1, pcs, (size_t)m * sizeof(*pcs));
		p->n = m + 1;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		p->need_stack = 0;
	}
}

static void write_pending(struct ps_thread *t, struct ps_cpu_thread *c, struct ps_cpu_pending *p)
{
	if (p->need_stack) { /* the hook never gave its stack */
		p->pcs[0] = PST_PC_PROFSHIM;
		p->n = 1;
	}
	uint64_t stack = ps_stack_intern(t, p->pcs, p->n);
	c->last_stack = stack;
	c->last_profshim = p->n > 0 && p->pcs[0] == PST_PC_PROFSHIM;
	if (p->n > 0 && p->pcs[0] == PST_PC_PROFSHIM)
		t->counters[PST_C_SAMPLES_PROFSHIM] += p->weight;
	ps_sample_write(t, p->weight, stack, p->depth);
}

/* CPU time in the kernel (perf timer): under [kernel] at the thread's
 * root, as its stack is unknown. */
static void write_kernel(struct ps_thread *t, uint64_t weight)
{
	uintptr_t pc = PST_PC_KERNEL;
	ps_sample_write(t, weight, ps_stack_intern(t, &pc, 1), 0);
}

/* Runs with t busy (a hook's end, or the handler outside a hook). A
 * sample that comes in meanwhile appends; the final compare-and-swap
 * sees it. c: t's timer slot, t->cpu or one its thread end has just
 * unhooked (no handler touches it any more). */
void ps_sample_flush_slot(struct ps_thread *t, struct ps_cpu_thread *c)
{
	uint32_t i = 0;
	c->flushing = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	for (;;) {
		uint32_t n = __atomic_load_n(&c->npending, __ATOMIC_ACQUIRE);
		if (i < n) {
			write_pending(t, c, &c->pending[i++]);
			continue;
		}
		/* one instruction: a signal cannot split the read and the clear */
		uint64_t kw = __atomic_exchange_n(&c->kernel_weight, 0, __ATOMIC_ACQ_REL);
		if (kw) {
			write_kernel(t, kw);
			continue;
		}
		t->cpu_pending = 0;
		if (__atomic_compare_exchange_n(&c->npending, &n, 0, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
			c->flushing = 0;
			return;
		}
		t->cpu_pending = 1;
	}
}

void ps_cpu_flush_queue(struct ps_thread *t)
{
	struct ps_cpu_thread *c = t->cpu;
	if (!c) {
		t->cpu_pending = 0;
		return;
	}
	if (!ps_cpu_slot_enter(c)) { /* closed: its queue was counted as dropped */
		t->cpu_pending = 0;
		return;
	}
	ps_sample_flush_slot(t, c);
	ps_cpu_slot_leave(c);
}

/* The thread's unwinder fast path, asked for by a sample (warm_due), made
 * at a hook's end: outside the handler, t busy. libunwind is not
 * reentrant: a sample meanwhile waits as [profshim] (t->unwinding). */
static void warm_now(struct ps_thread *t, struct ps_cpu_thread *c)
{
	/* libunwind's address checks fail reads with EAGAIN; ps_leave may
	 * come after the hook restored the program's errno */
	int saved = errno;
	t->unwinding = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	ps_sigunwind_warm();
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->unwinding = 0;
	errno = saved;
	c->warmed = 1;
	c->warm_due = 0;
	if (c->npending)
		t->cpu_pending = 1; /* written at the next hook's end */
}

/* At a hook's end (ps_leave): the queue, then a warm-up a sample asked
 * for. */
void ps_cpu_flush(struct ps_thread *t)
{
	ps_cpu_flush_queue(t);
	struct ps_cpu_thread *c = t->cpu;
	if (c && c->warm_due && !c->warmed)
		warm_now(t, c);
}

/* The handshake with ps_cpu_account_live (sequentially consistent on both
 * sides: either the thread sees `closed`, or the closer sees `inside`). */
bool ps_cpu_slot_enter(struct ps_cpu_thread *c)
{
	__atomic_add_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&c->closed, __ATOMIC_SEQ_CST))
		return true;
	__atomic_sub_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
	return false;
}

void ps_cpu_slot_leave(struct ps_cpu_thread *c)
{
	__atomic_sub_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
}

/* A thread preempted inside its handler gets the CPU back within a few
 * scheduler ticks; one stopped (SIGSTOP, a debugger) never does, so the
 * wait is bounded (about 100 ms). */
bool ps_cpu_slot_close(struct ps_cpu_thread *c)
{
	__atomic_store_n(&c->closed, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 1000; i++) {
		if (!__atomic_load_n(&c->inside, __ATOMIC_SEQ_CST))
			return true;
		if (i < 100)
			sched_yield();
		else
			usleep(100);
	}
	return false;
}
