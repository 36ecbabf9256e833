/*
 * C++ operator new and delete, routed to the malloc-family hooks.
 *
 * libstdc++'s operators call malloc, but jemalloc and tcmalloc define
 * their own operators, which would bypass the hooks: exporting these from
 * the shim makes C++ allocations visible, and counted the same, whatever
 * allocator sits below. The mangled names are those of the Itanium C++ ABI.
 *
 * A failed allocation is handed to the next operator new (libstdc++ or the
 * allocator's), which runs the new_handler loop and throws std::bad_alloc;
 * that exception may unwind through these frames (they have unwind tables).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

#include "shim.h"

typedef void *(*new_fn)(size_t);
typedef void *(*new_aligned_fn)(size_t, size_t);

/* The next operator for the failure path (throws or loops on new_handler). */
static void *next_new(const char *name, size_t n)
{
	new_fn f = (new_fn)dlsym(RTLD_NEXT, name);
	if (!f)
		abort(); /* a C++ program without a C++ runtime cannot happen */
	return f(n);
}

static void *next_new_aligned(const char *name, size_t n, size_t align)
{
	new_aligned_fn f = (new_aligned_fn)dlsym(RTLD_NEXT, name);
	if (!f)
		abort();
	return f(n, align);
}

static inline void *new_block(size_t n)
{
	return malloc(n ? n : 1);
}

static inline void *new_aligned_block(size_t n, size_t align)
{
	void *p = NULL;
	if (align < sizeof(void *))
		align = sizeof(void *);
	return posix_memalign(&p, align, n ? n : 1) == 0 ? p : NULL;
}

/* operator new(size_t), operator new[](size_t) */
PS_EXPORT void *_Znwm(size_t n)
{
	void *p = new_block(n);
	return p ? p : next_new("_Znwm", n);
}

PS_EXPORT void *_Znam(size_t n)
{
	void *p = new_block(n);
	return p ? p : next_new("_Znam", n);
}

/* nothrow variants: NULL on failure. */
PS_EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const void *tag)
{
	(void)tag;
	return new_block(n);
}

PS_EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const void *tag)
{
	(void)tag;
	return new_block(n);
}

/* operator new(size_t, std::align_val_t) and friends */
PS_EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t align)
{
	void *p = new_aligned_block(n, align);
	return p ? p : next_new_aligned("_ZnwmSt11align_val_t", n, align);
}

PS_EXPORT void *_ZnamSt11align_val_t(size_t n, size_t align)
{
	void *p = new_aligned_block(n, align);
	return p ? p : next_new_aligned("_ZnamSt11align_val_t", n, align);
}

PS_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *tag)
{
	(void)tag;
	return new_aligned_block(n, align);
}

PS_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *tag)
{
	(void)tag;
	return new_aligned_block(n, align);
}

/* Every operator delete is free(). */
#define DELETE_1(name)                                                                             \
	PS_EXPORT void name(void *p)                                                               \
	{                                                                                          \
		free(p);                                                                           \
	}
#define DELETE_2(name, T)                                                                          \
	PS_EXPORT void name(void *p, T x)                                                          \
	{                                                                                          \
		(void)x;                                                                           \
		free(p);                                                                           \
	}
#define DELETE_3(name, T, U)                                                                       \
	PS_EXPORT void name(void *p, T x, U y)                                                     \
	{                                                                                          \
		(void)x;                                                                           \
		(void)y;                                                                           \
		free(p);                                                                           \
	}

DELETE_1(_ZdlPv)
DELETE_1(_ZdaPv)
DELETE_2(_ZdlPvm, size_t)
DELETE_2(_ZdaPvm, size_t)
DELETE_2(_ZdlPvRKSt9nothrow_t, const void *)
DELETE_2(_ZdaPvRKSt9nothrow_t, const void *)
DELETE_2(_ZdlPvSt11align_val_t, size_t)
DELETE_2(_ZdaPvSt11align_val_t, size_t)
DELETE_3(_ZdlPvmSt11align_val_t, size_t, size_t)
DELETE_3(_ZdaPvmSt11align_val_t, size_t, size_t)
DELETE_3(_ZdlPvSt11align_val_tRKSt9nothrow_t, size_t, const void *)
DELETE_3(_ZdaPvSt11align_val_tRKSt9nothrow_t, size_t, const void *)
