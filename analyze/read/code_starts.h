/*
 * Where functions begin in a module without symbols for them (a stripped
 * binary's own code): the initial locations of .eh_frame_hdr's search
 * table, one per call-frame entry, which compilers emit one per function.
 * Used to name an address "module+0xSTART" by its function, so that one
 * function is one name and not one per sampled address.
 */
#ifndef PA_CODE_STARTS_H
#define PA_CODE_STARTS_H

#include <elfutils/libdwfl.h>
#include <stddef.h>
#include <stdint.h>

struct pa_code_starts {
	uint64_t *starts; /* ELF addresses, ascending */
	size_t n;
};

/* Read dm's .eh_frame_hdr table (an empty set when there is none or it is
 * in an encoding this does not read). */
void pa_code_starts_read(Dwfl_Module *dm, struct pa_code_starts *out);
void pa_code_starts_free(struct pa_code_starts *cs);
/* The start of the function holding ELF address addr, or addr itself when
 * the table has none at or below it. */
uint64_t pa_code_start_of(const struct pa_code_starts *cs, uint64_t addr);

#endif
