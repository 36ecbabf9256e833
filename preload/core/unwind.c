/*
 * Stack capture for the allocation hooks: unw_backtrace (libunwind's fast
 * path with a per-thread cache of frame descriptions), then the frames that
 * belong to the shim itself are dropped so a stack starts at the caller of
 * malloc (or of operator new).
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>

#include "shim.h"
#include "unwind.h"

/* Frames the shim adds on top of the program's: the hook, the recorder,
 * this function, operator new wrappers. Generous; only the top is cut. */
uintptr_t ps_shim_lo, ps_shim_hi; /* the shim's executable segment(s) */

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	uintptr_t me = (uintptr_t)data;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
	}
	if (me >= lo && me < hi) {
		ps_shim_lo = lo;
		ps_shim_hi = hi;
		return 1;
	}
	return 0;
}

void ps_unwind_init(void)
{
	dl_iterate_phdr(find_self, (void *)(uintptr_t)&ps_unwind_init);
	ps_unwind_mode_init();
}

/*
 * libunwind's start in the process: its tables and memory pools, the pipe
 * it checks addresses with (moved high, sigunwind.c), and our policy of
 * one cache per thread (no lock and no signal masking on a lookup), which
 * must be set before any walk. Made on first need, not at start-up: it
 * was a tenth of a short process's start-up (18 system calls, 12 page
 * faults, 42 K instructions) that a process taking no sample and no stack
 * never used. It may be made in a signal handler (the CPU sampler's first
 * sample): libunwind takes its locks with every signal blocked (so the
 * interrupted thread never holds one), allocates with mmap only, and its
 * pipe is made with a raw system call there.
 */
int ps_unwind_started;

void ps_unwind_start_slow(void)
{
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	__atomic_store_n(&ps_unwind_started, 1, __ATOMIC_RELEASE);
}

__attribute__((noinline)) int ps_unwind_caller(uintptr_t *ret, uintptr_t *frame)
{
	const uintptr_t *fp = __builtin_frame_address(0);
	for (int i = 0; i < 2 * PS_MAX_SHIM_FRAMES && fp; i++) {
		uintptr_t r = fp[1];
		if (!ps_in_shim(r)) {
			*ret = r;
			*frame = (uintptr_t)fp;
			return 1;
		}
		fp = (const uintptr_t *)fp[0];
	}
	return 0;
}
