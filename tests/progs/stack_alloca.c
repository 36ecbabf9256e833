/* Known stacks for the cached unwinder's check of the program frame's rbp
 * (preload/core/unwind_fast.h, ps_top_same): two stacks that only the rbp
 * tells apart. f allocates under a buffer it alloca's, sized so that its
 * malloc call has the same return address and stack pointer whether A or
 * B called it (through one call site of main), while f's rbp, so its
 * caller, differs. In B's call, f writes into its buffer, at the slots
 * A's walk read (f's saved rbp and return address into A), the values they
 * held then: every slot of the kept walk of A's call holds its value
 * again. A cached unwinder that trusted ip, sp and the slots alone would
 * give B's allocations A's stack.
 * Sites: 10 x 700 bytes f;A;main and 10 x 800 bytes f;B;main. Prints
 * "done", or why the layout did not come out as needed (exit 2). */
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uintptr_t buf_a, rbp_a, slots_a[2]; /* f's buffer, rbp, frame in A's call */
static void *volatile sink;
static const char *bad;

__attribute__((noinline)) static void f(int via_b, size_t size)
{
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	size_t n = 64;
	if (via_b) {
		if (!rbp_a || fp < rbp_a + 64) {
			bad = "B's frame is not above A's";
			return;
		}
		n += fp - rbp_a; /* the buffer ends where A's ended */
	}
	char *buf = alloca(n);
	if (!via_b) {
		buf_a = (uintptr_t)buf;
		rbp_a = fp;
		memcpy(slots_a, (const void *)fp, sizeof(slots_a));
	} else {
		if ((uintptr_t)buf != buf_a || rbp_a < (uintptr_t)buf ||
		    rbp_a + sizeof(slots_a) > (uintptr_t)buf + n) {
			bad = "f's buffer is not where it was in A's call";
			return;
		}
		memcpy((void *)rbp_a, slots_a, sizeof(slots_a)); /* A's slots again */
	}
	sink = malloc(size);
	free(sink);
}

__attribute__((noinline)) void A(int i)
{
	volatile char pad[512];
	pad[0] = (char)i;
	f(0, 700);
	pad[1] = pad[0];
}

__attribute__((noinline)) void B(int i)
{
	volatile char pad[16];
	pad[0] = (char)i;
	f(1, 800);
	pad[1] = pad[0];
}

int main(void)
{
	void (*volatile call)(int);
	for (int i = 0; i < 20; i++) {
		call = i & 1 ? B : A;
		call(i); /* one call site: the same return address into main */
	}
	if (bad) {
		printf("layout: %s\n", bad);
		return 2;
	}
	printf("done\n");
	return 0;
}
