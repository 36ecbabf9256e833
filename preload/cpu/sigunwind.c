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
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "shim.h"
#include "sigunwind.h"
#include "unwind.h"

struct text_range {
	const char *name; /* part of the module's path (or NULL: see addr) */
	uintptr_t addr;	  /* without a name: an address inside the module */
	uintptr_t lo, hi;
};
/* The dynamic loader's and libunwind's code. */
static struct text_range loader = {"/ld-linux", 0, 0, 0};
static struct text_range unwinder = {"/libunwind", 0, 0, 0};
/* libc's and the shim's: where a thread may hold what a frame cache's
 * making takes (see ps_sigunwind_may_warm). */
static struct text_range libc_text = {"/libc.so", 0, 0, 0};
static struct text_range shim_text = {NULL, 0, 0, 0};

static bool module_holds(const struct dl_phdr_info *info, uintptr_t addr)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && addr >= lo && addr < lo + ph->p_memsz)
			return true;
	}
	return false;
}

static int find_text(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct text_range *r = data;
	const char *name = info->dlpi_name;
	if (r->name ? !name || !strstr(name, r->name) : !module_holds(info, r->addr))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		uintptr_t hi = lo + ph->p_memsz;
		if (!r->lo || lo < r->lo)
			r->lo = lo;
		if (hi > r->hi)
			r->hi = hi;
	}
	return 1;
}

static int texts_found;

/* Where the loader and libunwind are: on first need, which is never in a
 * signal handler (libunwind creates its pipe on its first use, and the
 * sampler uses it first in ps_sigunwind_init). */
static void find_texts(void)
{
	if (__atomic_load_n(&texts_found, __ATOMIC_ACQUIRE))
		return;
	dl_iterate_phdr(find_text, &loader);
	dl_iterate_phdr(find_text, &unwinder);
	dl_iterate_phdr(find_text, &libc_text);
	shim_text.addr = (uintptr_t)&ps_sigunwind_init;
	dl_iterate_phdr(find_text, &shim_text);
	__atomic_store_n(&texts_found, 1, __ATOMIC_RELEASE);
}

/*
 * libunwind checks addresses by writing them into a pipe it opens once and
 * keeps (and, when a read from it fails, closes both numbers and opens a
 * new one). A program that closes every descriptor and opens files of its
 * own would get those files closed or read by libunwind. Its pipe is
 * therefore moved to high numbers the moment libunwind creates it.
 */
typedef int (*pipe2_fn)(int[2], int);
void ps_io_pipe_made(int fds[2], uintptr_t from); /* io_files.c */

PS_EXPORT int pipe2(int fds[2], int flags)
{
	static pipe2_fn real;
	find_texts();
	uintptr_t from = (uintptr_t)__builtin_return_address(0);
	bool from_unwinder = from >= unwinder.lo && from < unwinder.hi;
	int rc;
	if (from_unwinder) {
		/* libunwind's start may run in a signal handler (unwind.c): no
		 * dlsym there */
		rc = (int)syscall(SYS_pipe2, fds, flags);
	} else {
		if (!real)
			real = (pipe2_fn)dlsym(RTLD_NEXT, "pipe2");
		rc = real(fds, flags);
	}
	if (rc == 0 && from_unwinder) {
		int saved = errno;
		fds[0] = ps_fd_move_high(fds[0]);
		fds[1] = ps_fd_move_high(fds[1]);
		errno = saved;
	} else if (rc == 0) {
		ps_io_pipe_made(fds, from); /* the program's pipe: named by the io recorder */
	}
	return rc;
}

bool ps_in_unwinder(uintptr_t pc)
{
	return pc >= unwinder.lo && pc < unwinder.hi;
}

#define MAX_FRAMES 256

/* Does every calloc go to glibc's (the shim's calloc first in the lookup
 * order, glibc's next)? See ps_sigunwind_may_warm. */
static bool glibc_allocates;

static bool in_text(const struct text_range *r, uintptr_t pc)
{
	return pc >= r->lo && pc < r->hi;
}

/* The loader's, libunwind's, libc's and the shim's code ranges, and who
 * allocates. libunwind itself starts on first need (ps_unwind_start,
 * unwind.c): the first walk, which may be a sample's in the handler. */
void ps_sigunwind_init(void)
{
	find_texts();
	uintptr_t first = (uintptr_t)dlsym(RTLD_DEFAULT, "calloc");
	uintptr_t next = (uintptr_t)dlsym(RTLD_NEXT, "calloc");
	glibc_allocates = in_text(&shim_text, first) && in_text(&libc_text, next);
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

/* The thread's frame cache for unw_backtrace: 256 KiB that libunwind
 * fills entry by entry, 64 page faults, a third of a millisecond. Made
 * when a thread starts (ps_cpu_thread_start), outside any handler. The
 * starting thread of a process is not warmed at start (that was the
 * largest part of a short process's start-up): its first sample makes the
 * cache in the handler where that is safe (ps_sigunwind_may_warm), else
 * the next hook's end does (sample_queue.c), as for threads adopted from
 * /proc/self/task. */
void ps_sigunwind_warm(void)
{
	void *buf[64];
	ps_unwind_start();
	unw_backtrace(buf, 64);
}

/*
 * Making the frame cache takes what a handler must not take from a thread
 * that may hold it: libunwind's first unw_backtrace runs a pthread_once
 * and its memory pool's lock, glibc's pthread_setspecific, and the walk
 * dl_iterate_phdr (the loader's lock, recursive). A thread holds those
 * only while its pc is in libc, the loader, libunwind or the shim (the
 * pool's lock is even held with every signal blocked), never while it runs
 * the program's own code. So a sample that interrupted the program's own
 * code (or any library but those four) may make the cache right there: a
 * thread that computes without calling a hook gets the fast walk from its
 * first sample on, and a short process that never gets a sample never
 * pays for it. Unknown ranges (libc not found by name): never.
 *
 * One more: glibc's pthread_setspecific callocs a block when libunwind's
 * key is past the first 32. That calloc goes through the shim's (plain
 * path in a handler) to the allocator after it; glibc's takes its lock
 * only in libc, but another allocator (tcmalloc, jemalloc) has its own
 * code and locks. So only where glibc allocates (ps_sigunwind_lazy_ok);
 * elsewhere the starting thread is warmed at start, as before.
 */
bool ps_sigunwind_lazy_ok(void)
{
	return __atomic_load_n(&texts_found, __ATOMIC_ACQUIRE) && libc_text.hi && loader.hi &&
	       unwinder.hi && shim_text.hi && glibc_allocates;
}

bool ps_sigunwind_may_warm(const void *ucontext)
{
	if (!ps_sigunwind_lazy_ok())
		return false;
	uintptr_t pc = interrupted_pc(ucontext);
	return !in_text(&libc_text, pc) && !in_text(&loader, pc) && !in_text(&unwinder, pc) &&
	       !in_text(&shim_text, pc);
}

/* The slow, general walk: libunwind's cursor started on the signal frame. */
static int walk_cursor(ucontext_t *uc, uintptr_t *pcs, int n, int max)
{
	unw_cursor_t cur;
	/* On x86-64 and aarch64 unw_context_t is the ucontext_t. */
	if (n >= max || unw_init_local2(&cur, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME))
		return n;
	while (n < max && unw_step(&cur) > 0) {
		unw_word_t ip;
		if (unw_get_reg(&cur, UNW_REG_IP, &ip) || ip == 0)
			break;
		pcs[n++] = (uintptr_t)ip;
	}
	return n;
}

/*
 * The fast walk: unw_backtrace from here uses libunwind's per-thread frame
 * cache (no lock, no signal masking once the thread's cache exists, which
 * the warm-up makes) and goes through the signal frame. The interrupted
 * pc marks where the program's frames start; frames above it are ours.
 */
#define FAST_EXTRA 16

static int walk_fast(uintptr_t pc, uintptr_t *pcs, int max)
{
	void *buf[MAX_FRAMES + FAST_EXTRA];
	int want = max + FAST_EXTRA;
	if (want > MAX_FRAMES + FAST_EXTRA)
		want = MAX_FRAMES + FAST_EXTRA;
	int n = unw_backtrace(buf, want);
	for (int i = 0; i < n && i < FAST_EXTRA; i++) {
		if ((uintptr_t)buf[i] != pc)
			continue;
		int k = 0;
		for (int j = i; j < n && k < max; j++)
			pcs[k++] = (uintptr_t)buf[j];
		return k;
	}
	return 0;
}

int ps_sigunwind_capture(void *ucontext, uintptr_t *pcs, int max, bool warmed)
{
	ucontext_t *uc = ucontext;
	uintptr_t pc = interrupted_pc(uc);
	if (pc >= loader.lo && pc < loader.hi)
		return PS_UNWIND_IN_LOADER;
	ps_unwind_start();
	if (max > MAX_FRAMES)
		max = MAX_FRAMES;
	int n = warmed && max > 1 ? walk_fast(pc, pcs, max) : 0;
	if (n > 0)
		return n;
	pcs[0] = pc;
	return walk_cursor(uc, pcs, 1, max);
}
