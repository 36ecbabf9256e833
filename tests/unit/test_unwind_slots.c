/* Unit tests of the cached unwinder's slot proof (preload/core/
 * unwind_fast.h): ps_slots_same is true exactly when every slot holds its
 * value, for every count (each remainder of the unrolled compare), and it
 * never reads a slot outward of the first that differs: those slots point
 * into a page with no access here, so a read past the difference kills
 * the test instead of passing it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"
#include "unwind_fast.h"

#define MAX_SLOTS 70

static uintptr_t stack_words[MAX_SLOTS];
static struct ps_slot_check slots[MAX_SLOTS];
static uintptr_t *no_access; /* a page that faults when read */

/* n slots, outermost first, each holding its value. */
static void fill(int n)
{
	for (int i = 0; i < n; i++) {
		stack_words[i] = 0x400000u + 16u * (unsigned)i;
		slots[i] = (struct ps_slot_check){(uintptr_t)&stack_words[i], stack_words[i]};
	}
}

static void test_equal(void)
{
	int good = 0;
	for (int n = 0; n <= MAX_SLOTS; n++) {
		fill(n);
		good += ps_slots_same(slots, (unsigned)n);
	}
	CHECK(good == MAX_SLOTS + 1);
}

/* Slot d differs; every slot outward of it (index < d: outermost first)
 * points at the no-access page. */
static void test_first_difference_stops(void)
{
	int good = 0, cases = 0;
	for (int n = 1; n <= MAX_SLOTS; n++) {
		for (int d = 0; d < n; d++) {
			fill(n);
			stack_words[d] ^= 1; /* the stack changed here */
			for (int i = 0; i < d; i++)
				slots[i].addr = (uintptr_t)no_access;
			good += !ps_slots_same(slots, (unsigned)n);
			cases++;
		}
	}
	CHECK(good == cases);
}

/* Only a slot's value decides: a slot holding 0 (the end of the stack)
 * compares equal to 0 and unequal to anything else. */
static void test_end_slot(void)
{
	uintptr_t word = 0;
	struct ps_slot_check end = {(uintptr_t)&word, 0};
	CHECK(ps_slots_same(&end, 1));
	word = 8;
	CHECK(!ps_slots_same(&end, 1));
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	no_access = mmap(NULL, (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(no_access != MAP_FAILED);
	if (no_access == MAP_FAILED)
		return UNIT_DONE();
	test_equal();
	test_first_difference_stops();
	test_end_slot();
	return UNIT_DONE();
}
