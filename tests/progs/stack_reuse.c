/*
 * Known allocation stacks for the cached unwinder's reuse of the previous
 * walks (tests/stack_reuse.bats). Every allocation is made by alloc_at;
 * the size tells the scenario, the stack of program functions is known:
 *
 *   100 + d  rec to depth d in {0, 1, 7, 40} from main, round robin and
 *            then the same depth many times in a row: alloc_at < rec x
 *            (d + 1) < main; 12 calls each.
 *   300      rec to depth 7 from start_b (20 calls) or start_c (10 calls),
 *            alternating: the 9 innermost frames are the same (return
 *            address and stack pointer) in both, only the slot with the
 *            return address into start_b or start_c differs.
 *   400      jump_down to depth 30, which longjmps out from its
 *            innermost frame after allocating (10 calls); each jump is
 *            followed by
 *   401      rec to depth 3 from main (10 calls), on the stale frames the
 *            jump left, and
 *   402      rec to depth 30 from main (10 calls): as deep as the frames
 *            the jump abandoned.
 *   500      in a SIGUSR1 handler raised by sig_rec at depth 5: alloc_at <
 *            on_signal < (signal frame, libc's raise) < sig_rec x 6 < main
 *            (3 signals), then
 *   501      sig_rec's caller allocates on the same depth without a
 *            signal: alloc_at < sig_rec x 6 < main (3 calls).
 *   600/601  on a context of its own (makecontext, swapcontext), on the
 *            same stack memory each time, fiber_x or fiber_y (the same
 *            code): alloc_at < rec x 4 < fiber_x or fiber_y, then libc's
 *            start of a context (5 calls each, alternating): the frames
 *            come back at the same addresses, only the slot with the
 *            return address into fiber_x or fiber_y differs. (glibc's
 *            start of a context has no unwind information for its
 *            return address: the cached walk gives up there and these
 *            stacks come from libunwind, so this checks that fallback.)
 * Nothing is kept: every block is freed before the next allocation of its
 * slot, all at the end.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#define KEEP 16
static void *keep[KEEP];
static unsigned kept;
static jmp_buf env;
static volatile int jumping = 1; /* (for the compiler: it may return) */

/* a compiler barrier after each call: no call becomes a tail call (its
 * caller's frame would be gone from the stack) */
#define BARRIER() __asm__ volatile("" ::: "memory")

__attribute__((noinline)) static void alloc_at(size_t n)
{
	void *p = malloc(n);
	free(keep[kept % KEEP]);
	keep[kept++ % KEEP] = p;
	BARRIER();
}

__attribute__((noinline)) static void rec(int d, size_t n)
{
	if (d > 0)
		rec(d - 1, n);
	else
		alloc_at(n);
	BARRIER();
}

__attribute__((noinline)) static void start_b(size_t n)
{
	rec(7, n);
	BARRIER();
}

__attribute__((noinline)) static void start_c(size_t n)
{
	rec(7, n);
	BARRIER();
}

__attribute__((noinline)) static void jump_down(int d, size_t n)
{
	if (d > 0) {
		jump_down(d - 1, n);
	} else {
		alloc_at(n);
		if (jumping)
			longjmp(env, 1);
	}
	BARRIER();
}

static void on_signal(int sig)
{
	(void)sig;
	alloc_at(500);
	BARRIER();
}

__attribute__((noinline)) static void sig_rec(int d, int raise_it)
{
	if (d > 0)
		sig_rec(d - 1, raise_it);
	else if (raise_it)
		raise(SIGUSR1);
	else
		alloc_at(501);
	BARRIER();
}

static ucontext_t main_ctx, fiber_ctx;
static char fiber_stack[64 * 1024] __attribute__((aligned(16)));

__attribute__((noinline)) static void fiber_x(void)
{
	rec(3, 600);
	BARRIER();
}

__attribute__((noinline)) static void fiber_y(void)
{
	rec(3, 601);
	BARRIER();
}

/* fn on a new context on fiber_stack, until it returns */
static void run_fiber(void (*fn)(void))
{
	getcontext(&fiber_ctx);
	fiber_ctx.uc_stack.ss_sp = fiber_stack;
	fiber_ctx.uc_stack.ss_size = sizeof(fiber_stack);
	fiber_ctx.uc_link = &main_ctx;
	makecontext(&fiber_ctx, fn, 0);
	swapcontext(&main_ctx, &fiber_ctx);
}

int main(void)
{
	static const int depths[] = {0, 1, 7, 40};
	for (int i = 0; i < 6; i++)
		for (int k = 0; k < 4; k++)
			rec(depths[k], 100 + (size_t)depths[k]);
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 6; i++)
			rec(depths[k], 100 + (size_t)depths[k]);

	for (int i = 0; i < 30; i++) {
		if (i % 3 == 2)
			start_c(300);
		else
			start_b(300);
	}

	for (int i = 0; i < 10; i++) {
		if (!setjmp(env))
			jump_down(30, 400);
		rec(3, 401);
		rec(30, 402);
	}

	signal(SIGUSR1, on_signal);
	for (int i = 0; i < 3; i++) {
		sig_rec(5, 1);
		sig_rec(5, 0);
	}

	for (int i = 0; i < 10; i++)
		run_fiber(i % 2 ? fiber_y : fiber_x);

	for (int i = 0; i < KEEP; i++)
		free(keep[i]);
	puts("done");
	return 0;
}
