/*
 * Offline symbolizer: turns code addresses recorded in a session into
 * functions, source files and lines, with inline frames expanded.
 *
 * Built on elfutils libdwfl: each module of the session's module map is
 * opened lazily, once, from its path on disk (separate debuginfo is found
 * through /usr/lib/debug and .gnu_debuglink), at the load bias it had in
 * the traced process. A module whose file is missing or whose build-id
 * differs from the one recorded at run time is never trusted: its
 * addresses come out as "module+0xoff" (offset = pc - load bias, what
 * addr2line wants) and a warning goes to the session once per module.
 *
 * Results are cached per (pc, module); every pointer handed out stays
 * valid until pa_symbols_free.
 */
#ifndef PA_SYMBOLS_H
#define PA_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

struct pa_frame {
	const char *function; /* demangled; unknown: "module+0xoff" or "0x..." */
	const char *file;     /* source file or NULL */
	int line;	      /* 0 if unknown */
	int func_line;	      /* line where the function starts, 0 if unknown */
	const char *module;   /* module path or NULL (pc in no module) */
	bool inlined;	      /* inlined into the next (outer) frame */
};

struct pa_symbols;

/* A symbolizer over the modules of s (s must outlive it). Modules are
 * opened on first use, so this is cheap. */
struct pa_symbols *pa_symbols_new(struct pa_session *s);
void pa_symbols_free(struct pa_symbols *sy);

/* Frames for pc, innermost first; inline frames are expanded, the
 * function the code was inlined into comes last (its line is the call
 * site). ret_addr: pc is a return address (a caller frame of a stack), so
 * pc - 1 is looked up, which lies in the call instruction. ticks: when the
 * address was seen, to pick the module mapped there at that time. Returns
 * the number of frames (>= 1) and sets *frames. */
int pa_symbols_resolve(struct pa_symbols *sy, uint64_t pc, bool ret_addr, uint64_t ticks,
		       const struct pa_frame **frames);

/* The function whose entry is addr (from -finstrument-functions hooks):
 * the out-of-line function at addr, line = its first line. Never NULL. */
const struct pa_frame *pa_symbols_function(struct pa_symbols *sy, uint64_t addr, uint64_t ticks);

/* The global or static variable holding addr (a lock's address), as
 * "name" or "name+off", in module's basename "name (module)"; false when
 * addr is in no module's data (heap, stack) or no symbol covers it. */
bool pa_symbols_data(struct pa_symbols *sy, uint64_t addr, uint64_t ticks, char *out, size_t cap);

/* Counters for benchmarks and --verbose. */
struct pa_symbols_stats {
	uint64_t lookups, cache_hits, modules_opened, modules_bad;
};
void pa_symbols_stats(const struct pa_symbols *sy, struct pa_symbols_stats *out);

#endif
