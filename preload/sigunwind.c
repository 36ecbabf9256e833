/*
 * Signal-safe stack capture (see sigunwind.h).
 *
 * libunwind's local unwinder with a per-thread cache needs no lock and no
 * allocation once the thread's cache exists and the functions it calls
 * have been bound; both are done by the warm-up walk. unw_get_proc_name is
 * never called here: names are resolved offline.
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>
#include <string.h>
#include <ucontext.h>

#include "shim.h"
#include "sigunwind.h"

/* The dynamic loader's text: [loader_lo, loader_hi). */
static uintptr_t loader_lo, loader_hi;

static int find_loader(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	const char *name = info->dlpi_name;
	if (!name || !strstr(name, "/ld-linux") ) 
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		uintptr_t hi = lo + ph->p_memsz;
		if (!loader_lo || lo < loader_lo)
			loader_lo = lo;
		if (hi > loader_hi)
			loader_hi = hi;
	}
	return 1;
}

static __attribute__((noinline)) void warm_walk(void)
{
	unw_context_t uc;
	unw_cursor_t cur;
	if (unw_getcontext(&uc) || unw_init_local(&cur, &uc))
		return;
	for (int i = 0; i < 64 && unw_step(&cur) > 0; i++) {
		unw_word_t ip;
		unw_get_reg(&cur, UNW_REG_IP, &ip);
	}
}

void ps_sigunwind_init(void)
{
	/* One cache per thread: no lock and no signal masking on a lookup. */
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	dl_iterate_phdr(find_loader, NULL);
	warm_walk();
}

void ps_sigunwind_warm(void)
{
	warm_walk();
}

static inline uintptr_t interrupted_pc(const ucontext_t *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	return (uintptr_t)uc->uc_mcontext.pc;
#else
#error "unsupported architecture"
#endif
}

int ps_sigunwind_capture(void *ucontext, uintptr_t *pcs, int max)
{
	ucontext_t *uc = ucontext;
	uintptr_t pc = interrupted_pc(uc);
	if (pc >= loader_lo && pc < loader_hi)
		return PS_UNWIND_IN_LOADER;
	pcs[0] = pc;
	int n = 1;
	unw_cursor_t cur;
	/* On x86-64 and aarch64 unw_context_t is the ucontext_t. */
	if (max <= 1 || unw_init_local2(&cur, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME))
		return n;
	while (n < max && unw_step(&cur) > 0) {
		unw_word_t ip;
		if (unw_get_reg(&cur, UNW_REG_IP, &ip) || ip == 0)
			break;
		pcs[n++] = (uintptr_t)ip;
	}
	return n;
}
