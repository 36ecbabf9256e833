/*
 * Full memory recording's paths out of mem.c's hooks (mem_full.c).
 */
#ifndef PS_MEM_FULL_H
#define PS_MEM_FULL_H

#include "shim.h"

/* The free of p by entered thread t (not sampling mode): written, then
 * the block goes back; leaves t. */
void ps_mem_free_full(struct ps_thread *t, void *p) __attribute__((visibility("hidden")));

/* realloc(p, n) by entered thread t (not sampling mode; p not from the
 * bootstrap arena), fn PST_FN_REALLOC or PST_FN_REALLOCARRAY: the real
 * call, its ALLOC record and the map; leaves t, errno as the call left it. */
void *ps_mem_realloc_full(struct ps_thread *t, void *p, size_t n, unsigned fn)
    __attribute__((visibility("hidden")));

#endif
