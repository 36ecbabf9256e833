/*
 * .eh_frame_hdr (LSB "Exception Frame Header"): version 1, the encodings of
 * eh_frame_ptr, fde_count and the table, then eh_frame_ptr, fde_count and
 * fde_count pairs (initial location, FDE address) sorted by location. GNU
 * ld and lld write the table as DW_EH_PE_datarel | DW_EH_PE_sdata4
 * (relative to the header's own address); that is the one read here.
 */
#define _GNU_SOURCE
#include <dwarf.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "code_starts.h"
#include "session.h"

#define PE_OMIT 0xff
#define PE_UDATA4 0x03
#define PE_SDATA4 0x0b
#define PE_PCREL 0x10
#define PE_DATAREL 0x30

static int32_t get_s32(const uint8_t *p)
{
	int32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* The .eh_frame_hdr section's data and address, or NULL. */
static Elf_Data *hdr_section(Elf *elf, GElf_Addr *addr)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".eh_frame_hdr")) {
			*addr = sh.sh_addr;
			return elf_getdata(scn, NULL);
		}
	}
	return NULL;
}

void pa_code_starts_read(Dwfl_Module *dm, struct pa_code_starts *out)
{
	memset(out, 0, sizeof(*out));
	GElf_Addr bias, hdr_addr;
	Elf *elf = dm ? dwfl_module_getelf(dm, &bias) : NULL;
	Elf_Data *d = elf ? hdr_section(elf, &hdr_addr) : NULL;
	if (!d || !d->d_buf || d->d_size < 12)
		return;
	const uint8_t *p = d->d_buf, *end = p + d->d_size;
	/* version 1; eh_frame_ptr as pcrel|sdata4 (4 bytes); fde_count as
	 * udata4; the table as datarel|sdata4 */
	if (p[0] != 1 || p[1] != (PE_PCREL | PE_SDATA4) || p[2] != PE_UDATA4 ||
	    p[3] != (PE_DATAREL | PE_SDATA4))
		return;
	uint32_t count;
	memcpy(&count, p + 8, sizeof(count));
	const uint8_t *table = p + 12;
	if (count == 0 || (size_t)(end - table) / 8 < count)
		return;
	out->starts = pa_xcalloc(count, sizeof(*out->starts));
	for (uint32_t i = 0; i < count; i++)
		out->starts[i] = hdr_addr + (uint64_t)(int64_t)get_s32(table + 8 * (size_t)i);
	out->n = count;
}

void pa_code_starts_free(struct pa_code_starts *cs)
{
	free(cs->starts);
	memset(cs, 0, sizeof(*cs));
}

uint64_t pa_code_start_of(const struct pa_code_starts *cs, uint64_t addr)
{
	size_t lo = 0, hi = cs->n; /* the last start <= addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cs->starts[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? cs->starts[lo - 1] : addr;
}
