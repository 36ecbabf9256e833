/*
 * The rule that finds a frame's caller on x86-64, read from the DWARF call
 * frame information (.eh_frame) of the code at an address, for the cached
 * unwinder (unwind_cache.c).
 *
 * Only what compilers emit for ordinary code is understood: the CFA (the
 * caller's stack pointer) is rsp or rbp plus an offset, the return address
 * is saved at CFA-8, rbp is saved at CFA+offset or left alone, and the
 * outermost frame marks its return address undefined. Anything else
 * (signal frames, CFA expressions, realigned stacks, code without unwind
 * information) returns false: the caller then unwinds with libunwind, so
 * no stack ever comes out different from libunwind's.
 *
 * The FDE is found with _dl_find_object (lock-free, no malloc) and the
 * binary search table of PT_GNU_EH_FRAME; nothing here allocates or locks.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "unwind.h"

enum {
	PE_OMIT = 0xff,
	PE_FORMAT = 0x0f,
	PE_APPLY = 0x70,
	PE_INDIRECT = 0x80,
	PE_ABSPTR = 0x00,
	PE_ULEB128 = 0x01,
	PE_UDATA2 = 0x02,
	PE_UDATA4 = 0x03,
	PE_UDATA8 = 0x04,
	PE_SLEB128 = 0x09,
	PE_SDATA2 = 0x0a,
	PE_SDATA4 = 0x0b,
	PE_SDATA8 = 0x0c,
	PE_PCREL = 0x10,
	PE_DATAREL = 0x30,
};

/* DWARF register numbers of x86-64 */
enum { DW_RBP = 6, DW_RSP = 7, DW_RA = 16 };

static uint64_t uleb(const uint8_t **pp, const uint8_t *end)
{
	uint64_t v = 0;
	unsigned shift = 0;
	const uint8_t *p = *pp;
	while (p < end) {
		uint8_t b = *p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	*pp = p;
	return v;
}

static int64_t sleb(const uint8_t **pp, const uint8_t *end)
{
	int64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;
	const uint8_t *p = *pp;
	while (p < end) {
		b = *p++;
		if (shift < 64)
			v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	if (shift < 64 && (b & 0x40))
		v = (int64_t)((uint64_t)v | (~(uint64_t)0 << shift));
	*pp = p;
	return v;
}

/* An encoded pointer (DW_EH_PE_*) at *pp; datarel is relative to base.
 * False for an encoding not handled here. */
static bool read_encoded(const uint8_t **pp, const uint8_t *end, uint8_t enc, uintptr_t base,
			 uintptr_t *out)
{
	const uint8_t *p = *pp;
	uintptr_t field = (uintptr_t)p, v;
	switch (enc & PE_FORMAT) {
	case PE_ABSPTR:
	case PE_UDATA8:
	case PE_SDATA8:
		if (end - p < 8)
			return false;
		memcpy(&v, p, 8);
		p += 8;
		break;
	case PE_UDATA4: {
		uint32_t u;
		if (end - p < 4)
			return false;
		memcpy(&u, p, 4);
		v = u;
		p += 4;
		break;
	}
	case PE_SDATA4: {
		int32_t s;
		if (end - p < 4)
			return false;
		memcpy(&s, p, 4);
		v = (uintptr_t)(intptr_t)s;
		p += 4;
		break;
	}
	case PE_UDATA2: {
		uint16_t u;
		if (end - p < 2)
			return false;
		memcpy(&u, p, 2);
		v = u;
		p += 2;
		break;
	}
	case PE_SDATA2: {
		int16_t s;
		if (end - p < 2)
			return false;
		memcpy(&s, p, 2);
		v = (uintptr_t)(intptr_t)s;
		p += 2;
		break;
	}
	case PE_ULEB128:
		v = (uintptr_t)uleb(&p, end);
		break;
	case PE_SLEB128:
		v = (uintptr_t)sleb(&p, end);
		break;
	default:
		return false;
	}
	switch (enc & PE_APPLY) {
	case 0:
		break;
	case PE_PCREL:
		v += field;
		break;
	case PE_DATAREL:
		v += base;
		break;
	default:
		return false;
	}
	*pp = p;
	*out = v; /* indirect (personality only) is never followed */
	return true;
}

/* The FDE covering ip, from the eh_frame_hdr binary search table. */
static const uint8_t *find_fde(uintptr_t ip)
{
	struct dl_find_object fo;
	if (_dl_find_object((void *)ip, &fo) != 0 || !fo.dlfo_eh_frame)
		return NULL;
	const uint8_t *hdr = fo.dlfo_eh_frame;
	/* version 1; the table sorted, 4-byte entries relative to hdr */
	if (hdr[0] != 1 || hdr[3] != (PE_DATAREL | PE_SDATA4))
		return NULL;
	const uint8_t *p = hdr + 4, *lim = hdr + 64;
	uintptr_t eh_frame, count;
	if (!read_encoded(&p, lim, hdr[1], (uintptr_t)hdr, &eh_frame) ||
	    !read_encoded(&p, lim, hdr[2], (uintptr_t)hdr, &count) || count == 0)
		return NULL;
	const int32_t *table = (const int32_t *)p;
	intptr_t rel = (intptr_t)(ip - (uintptr_t)hdr);
	size_t lo = 0, hi = count; /* the last entry with start <= ip */
	if (table[0] > rel)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (table[2 * mid] <= rel)
			lo = mid;
		else
			hi = mid;
	}
	return hdr + table[2 * lo + 1];
}

struct cie {
	const uint8_t *insns, *end;
	uint64_t code_align;
	int64_t data_align;
	uint8_t fde_enc;
	bool has_aug_len;
};

static bool parse_cie(const uint8_t *c, struct cie *out)
{
	uint32_t len;
	memcpy(&len, c, 4);
	if (len == 0 || len == 0xffffffffu)
		return false;
	const uint8_t *end = c + 4 + len, *p = c + 8; /* past length and id 0 */
	uint8_t version = *p++;
	if (version != 1 && version != 3)
		return false;
	const char *aug = (const char *)p;
	size_t aug_n = strnlen(aug, (size_t)(end - p));
	p += aug_n + 1;
	out->code_align = uleb(&p, end);
	out->data_align = sleb(&p, end);
	uint64_t ra = version == 1 ? *p++ : uleb(&p, end);
	if (ra != DW_RA)
		return false;
	out->fde_enc = PE_ABSPTR;
	out->has_aug_len = aug[0] == 'z';
	if (out->has_aug_len) {
		uint64_t n = uleb(&p, end);
		const uint8_t *data_end = p + n;
		for (size_t i = 1; i < aug_n; i++) {
			uintptr_t ignored;
			switch (aug[i]) {
			case 'R':
				out->fde_enc = *p++;
				break;
			case 'L':
				p++;
				break;
			case 'P': {
				uint8_t enc = *p++;
				if (!read_encoded(&p, data_end, enc & ~PE_INDIRECT, 0, &ignored))
					return false;
				break;
			}
			default: /* 'S' (signal frame) and anything unknown */
				return false;
			}
		}
		p = data_end;
	} else if (aug[0] != '\0') {
		return false;
	}
	if (p > end)
		return false;
	out->insns = p;
	out->end = end;
	return true;
}

/* Register rules the walk needs: CFA, rbp and the return address. */
struct row {
	int cfa_reg;
	int64_t cfa_off;
	int64_t rbp_off, ra_off; /* saved at CFA + off; 0: not saved */
	bool ra_undefined;
	bool bad; /* a rule this walk cannot follow */
};

static void set_offset(struct row *r, uint64_t reg, int64_t off)
{
	if (reg == DW_RBP)
		r->rbp_off = off;
	else if (reg == DW_RA)
		r->ra_off = off, r->ra_undefined = false;
	/* other registers: not needed to find callers */
}

static void set_other(struct row *r, uint64_t reg, bool undefined)
{
	if (reg == DW_RA) {
		r->ra_undefined = undefined;
		r->ra_off = 0;
		if (!undefined)
			r->bad = true;
	} else if (reg == DW_RBP) {
		r->rbp_off = 0;
		if (!undefined)
			r->bad = true; /* in another register, or computed */
	}
}

static void restore_reg(struct row *r, const struct row *init, uint64_t reg)
{
	if (reg == DW_RBP)
		r->rbp_off = init->rbp_off;
	else if (reg == DW_RA)
		r->ra_off = init->ra_off, r->ra_undefined = init->ra_undefined;
}

#define STATE_STACK 8

/* Run CFA instructions from loc until the row covering ip; false on an
 * instruction not handled. */
static bool run_cfa(const uint8_t *p, const uint8_t *end, const struct cie *cie, uintptr_t loc,
		    uintptr_t ip, struct row *r, const struct row *init)
{
	struct row saved[STATE_STACK];
	int depth = 0;
	while (p < end) {
		uint8_t op = *p++;
		uint64_t reg, delta = 0;
		switch (op & 0xc0) {
		case 0x40:
			delta = op & 0x3f;
			goto advance;
		case 0x80:
			set_offset(r, op & 0x3f, (int64_t)uleb(&p, end) * cie->data_align);
			continue;
		case 0xc0:
			restore_reg(r, init, op & 0x3f);
			continue;
		}
		switch (op) {
		case 0x00: /* nop */
			continue;
		case 0x02:
			if (end - p < 1)
				return false;
			delta = *p++;
			goto advance;
		case 0x03: {
			uint16_t d;
			if (end - p < 2)
				return false;
			memcpy(&d, p, 2);
			p += 2;
			delta = d;
			goto advance;
		}
		case 0x04: {
			uint32_t d;
			if (end - p < 4)
				return false;
			memcpy(&d, p, 4);
			p += 4;
			delta = d;
			goto advance;
		}
		case 0x05: /* offset_extended */
			reg = uleb(&p, end);
			set_offset(r, reg, (int64_t)uleb(&p, end) * cie->data_align);
			continue;
		case 0x06: /* restore_extended */
			restore_reg(r, init, uleb(&p, end));
			continue;
		case 0x07: /* undefined */
			set_other(r, uleb(&p, end), true);
			continue;
		case 0x08: /* same_value */
			reg = uleb(&p, end);
			if (reg == DW_RBP)
				r->rbp_off = 0;
			else if (reg == DW_RA)
				r->bad = true;
			continue;
		case 0x09: /* register */
			reg = uleb(&p, end);
			(void)uleb(&p, end);
			set_other(r, reg, false);
			continue;
		case 0x0a: /* remember_state */
			if (depth == STATE_STACK)
				return false;
			saved[depth++] = *r;
			continue;
		case 0x0b: /* restore_state, the CFA rule with the rest (as
			    * compilers expect after an epilogue mid-function) */
			if (depth == 0)
				return false;
			*r = saved[--depth];
			continue;
		case 0x0c: /* def_cfa */
			r->cfa_reg = (int)uleb(&p, end);
			r->cfa_off = (int64_t)uleb(&p, end);
			continue;
		case 0x0d: /* def_cfa_register */
			r->cfa_reg = (int)uleb(&p, end);
			continue;
		case 0x0e: /* def_cfa_offset */
			r->cfa_off = (int64_t)uleb(&p, end);
			continue;
		case 0x0f: /* def_cfa_expression */
			return false;
		case 0x10: /* expression */
		case 0x16: /* val_expression */
			reg = uleb(&p, end);
			p += uleb(&p, end);
			if (reg == DW_RBP || reg == DW_RA)
				r->bad = true;
			continue;
		case 0x11: /* offset_extended_sf */
			reg = uleb(&p, end);
			set_offset(r, reg, sleb(&p, end) * cie->data_align);
			continue;
		case 0x12: /* def_cfa_sf */
			r->cfa_reg = (int)uleb(&p, end);
			r->cfa_off = sleb(&p, end) * cie->data_align;
			continue;
		case 0x13: /* def_cfa_offset_sf */
			r->cfa_off = sleb(&p, end) * cie->data_align;
			continue;
		case 0x14: /* val_offset */
		case 0x15: /* val_offset_sf */
			reg = uleb(&p, end);
			(void)uleb(&p, end);
			set_other(r, reg, false);
			continue;
		case 0x2e: /* GNU_args_size */
			(void)uleb(&p, end);
			continue;
		case 0x2f: /* GNU_negative_offset_extended */
			reg = uleb(&p, end);
			set_offset(r, reg, -(int64_t)uleb(&p, end) * cie->data_align);
			continue;
		default: /* set_loc and anything else */
			return false;
		}
	advance:
		delta *= cie->code_align;
		if (loc + delta > ip)
			return true;
		loc += delta;
	}
	return p <= end;
}

bool ps_cfi_rule(uintptr_t ip, struct ps_frame_rule *out)
{
	const uint8_t *fde = find_fde(ip);
	if (!fde)
		return false;
	uint32_t len;
	int32_t cie_off;
	memcpy(&len, fde, 4);
	memcpy(&cie_off, fde + 4, 4);
	if (len == 0 || len == 0xffffffffu || cie_off == 0)
		return false;
	struct cie cie;
	if (!parse_cie(fde + 4 - cie_off, &cie))
		return false;
	const uint8_t *end = fde + 4 + len, *p = fde + 8;
	uintptr_t start, range;
	if (!read_encoded(&p, end, cie.fde_enc, 0, &start) ||
	    !read_encoded(&p, end, cie.fde_enc & PE_FORMAT, 0, &range))
		return false;
	if (ip < start || ip - start >= range)
		return false;
	if (cie.has_aug_len)
		p += uleb(&p, end);
	struct row init = {.cfa_reg = -1}, r;
	if (!run_cfa(cie.insns, cie.end, &cie, start, UINTPTR_MAX, &init, &init))
		return false;
	r = init;
	if (!run_cfa(p, end, &cie, start, ip, &r, &init) || r.bad)
		return false;
	if (r.cfa_reg != DW_RSP && r.cfa_reg != DW_RBP)
		return false;
	if (r.cfa_off <= 0 || r.cfa_off > INT32_MAX || r.rbp_off < INT32_MIN || r.rbp_off > 0)
		return false;
	out->outermost = r.ra_undefined;
	if (!r.ra_undefined && r.ra_off != -8)
		return false;
	out->cfa_is_rbp = r.cfa_reg == DW_RBP;
	out->cfa_off = (int32_t)r.cfa_off;
	out->rbp_off = (int32_t)r.rbp_off;
	return true;
}
