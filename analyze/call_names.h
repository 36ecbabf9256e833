/*
 * Names of instrumented functions (addresses from the calls recorder):
 * through the session's symbolizer (symbols.h) when profanalyze has one,
 * else from the ELF symbol tables of the recorded modules (names only).
 */
#ifndef PA_CALL_NAMES_H
#define PA_CALL_NAMES_H

#include <stdint.h>

struct pa_models;
struct call_names;

struct call_names *call_names_new(const struct pa_models *pm);
/* Name, source file ("" if unknown) and line (0) of the function at addr.
 * The strings live until call_names_free. */
void call_names_lookup(struct call_names *cn, uint64_t addr, const char **name, const char **file,
		       int *line);
void call_names_free(struct call_names *cn);

#endif
