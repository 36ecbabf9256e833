/* mem_known linked against jemalloc (see the Makefile rule for *_jemalloc). */
#include "mem_known.c"
