/*
 * Offline symbolizer (see symbols.h): elfutils libdwfl per module, a cache
 * per (pc, module), and interned strings so that equal names share one
 * pointer (models may then key on pointers).
 */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "code_starts.h"
#include "strtab.h"
#include "symbols.h"

/* From libstdc++ (the C++ ABI); declared here to stay a C program. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* --- per-module state --- */

enum mod_state { MOD_UNOPENED, MOD_OK, MOD_BAD };

/* Sorted address ranges; every element type starts with these two. */
struct addr_range {
	uint64_t lo, hi; /* [lo, hi) in process addresses */
};

struct sym_range { /* an ELF function symbol */
	struct addr_range r;
	const char *name;
};

struct fn_range { /* a DWARF subprogram's (part of its) code */
	struct addr_range r;
	Dwarf_Die die;
};

struct sym_module {
	enum mod_state state;
	Dwfl *dwfl;	  /* owned unless shared_from >= 0 */
	long shared_from; /* index of the module whose Dwfl this reuses, or -1 */
	Dwfl_Module *dm;
	const char *base; /* basename, for "module+0xoff" names */
	/* built on first use; libdwfl's own lookups scan linearly per call */
	bool syms_built, fns_built, starts_built;
	struct pa_code_starts starts; /* where unnamed functions begin */
	struct pa_vec syms;	      /* struct sym_range, by lo */
	struct pa_vec fns;	      /* struct fn_range, by lo */
	Dwarf_Addr dwbias;	      /* process address - DWARF address */
	/* fns of the CUs read so far (function_at): (CU offset + 1, 0) */
	struct pa_pairmap fn_cus;
	bool fns_started;
};

/* A cached answer. key_mod: module index + 1 (0: no module), with
 * KEY_FUNCTION set for pa_symbols_function answers. */
#define KEY_FUNCTION 0x80000000u

struct cache_entry {
	uint64_t pc;
	uint32_t key_mod;
	uint32_t nframes; /* 0: empty slot */
	const struct pa_frame *frames;
};

struct pa_symbols {
	struct pa_session *s;
	struct sym_module *mods;
	size_t nmods;
	size_t last_mod; /* module of the previous lookup: likely again */
	struct cache_entry *cache;
	size_t cache_cap, cache_used;
	struct pa_strtab strings;     /* names and files */
	struct pa_arena_chunk *arena; /* frames */
	struct pa_symbols_stats stats;
};

/* One copy of each name and file, until pa_symbols_free. */
static const char *intern(struct pa_symbols *sy, const char *s)
{
	return pa_strtab_intern(&sy->strings, s);
}

/* C++ names as people write them; anything else unchanged. */
static const char *demangled(struct pa_symbols *sy, const char *name)
{
	if (!name || strncmp(name, "_Z", 2) != 0)
		return intern(sy, name);
	int status = -1;
	char *d = __cxa_demangle(name, NULL, NULL, &status);
	const char *r = intern(sy, status == 0 && d ? d : name);
	free(d);
	return r;
}

/* --- which module covered pc at time ticks --- */

static bool covers(const struct pa_module *m, uint64_t pc)
{
	return pc >= m->lo && pc < m->hi;
}

/*
 * Address ranges are reused when libraries are unloaded and others loaded:
 * the session's pa_module_for picks the module mapped at pc at that time
 * ([first_ticks, last_ticks)), else any that covered pc. Consecutive
 * lookups mostly hit the same module, so that one is tried first.
 */
static long module_index_at(struct pa_symbols *sy, uint64_t pc, uint64_t ticks)
{
	const struct pa_vec *v = &sy->s->modules;
	if (sy->last_mod < v->len) {
		const struct pa_module *m = pa_vec_at(v, sy->last_mod);
		if (covers(m, pc) && m->first_ticks <= ticks && ticks < m->last_ticks)
			return (long)sy->last_mod;
	}
	const struct pa_module *m = pa_module_for(sy->s, pc, ticks);
	if (!m)
		return -1;
	sy->last_mod = (size_t)(m - (const struct pa_module *)v->items);
	return (long)sy->last_mod;
}

/* --- opening modules --- */

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo, /* /usr/lib/debug, debuglink */
    .section_address = dwfl_offline_section_address,
};

/* The vDSO has no file on disk; that is normal, not worth a warning. */
static bool is_vdso(const char *path)
{
	return strncmp(path, "linux-vdso", 10) == 0 || strncmp(path, "linux-gate", 10) == 0 ||
	       strcmp(path, "[vdso]") == 0;
}

static void hex_id(const uint8_t *id, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", id[i]);
	out[2 * len] = 0;
}

/* Does the file we opened carry the build-id recorded at run time? A
 * module recorded without one cannot be checked and is trusted. */
static bool build_id_matches(struct pa_symbols *sy, const struct pa_module *pm, Dwfl_Module *dm)
{
	if (pm->build_id_len == 0)
		return true;
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(dm, &bits, &vaddr);
	if (n == (int)pm->build_id_len && memcmp(bits, pm->build_id, (size_t)n) == 0)
		return true;
	char want[129], have[129] = "none";
	hex_id(pm->build_id, pm->build_id_len, want);
	if (n > 0 && n <= 64)
		hex_id(bits, (size_t)n, have);
	pa_warn(sy->s,
		"symbols: %s: build-id %s on disk differs from %s recorded at run time; "
		"its addresses are shown as module+offset",
		pm->path, have, want);
	return false;
}

/* Another module with the same file at the same bias already opened? */
static long same_module(struct pa_symbols *sy, size_t i)
{
	const struct pa_module *pm = pa_vec_at(&sy->s->modules, i);
	for (size_t j = 0; j < i; j++) {
		const struct pa_module *o = pa_vec_at(&sy->s->modules, j);
		if (sy->mods[j].state != MOD_UNOPENED && sy->mods[j].shared_from < 0 &&
		    o->bias == pm->bias && o->build_id_len == pm->build_id_len &&
		    memcmp(o->build_id, pm->build_id, pm->build_id_len) == 0 &&
		    strcmp(o->path, pm->path) == 0)
			return (long)j;
	}
	return -1;
}

/* Report the module's file to a fresh Dwfl at its load bias. */
static void open_module(struct pa_symbols *sy, size_t i)
{
	struct sym_module *m = &sy->mods[i];
	const struct pa_module *pm = pa_vec_at(&sy->s->modules, i);
	m->state = MOD_BAD;
	long j = same_module(sy, i);
	if (j >= 0) {
		m->shared_from = j; /* module_get answers with module j */
		m->state = sy->mods[j].state;
		return;
	}
	sy->stats.modules_opened++;
	if (is_vdso(pm->path))
		return;
	int fd = open(pm->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pa_warn(sy->s, "symbols: %s: %s; its addresses are shown as module+offset",
			pm->path, strerror(errno));
		sy->stats.modules_bad++;
		return;
	}
	m->dwfl = dwfl_begin(&offline_callbacks);
	/* add_p_vaddr true: base is the load bias, as dl_iterate_phdr gave it */
	m->dm = m->dwfl ? dwfl_report_elf(m->dwfl, m->base, pm->path, fd, pm->bias, true) : NULL;
	if (!m->dm) {
		pa_warn(sy->s, "symbols: %s: %s; its addresses are shown as module+offset",
			pm->path, dwfl_errmsg(-1));
		close(fd); /* dwfl owns fd only on success */
	} else {
		dwfl_report_end(m->dwfl, NULL, NULL);
		if (build_id_matches(sy, pm, m->dm)) {
			m->state = MOD_OK;
			return;
		}
	}
	sy->stats.modules_bad++;
}

static struct sym_module *module_get(struct pa_symbols *sy, size_t i)
{
	if (sy->mods[i].state == MOD_UNOPENED)
		open_module(sy, i);
	long j = sy->mods[i].shared_from;
	return &sy->mods[j >= 0 ? j : (long)i];
}

/* --- building frames --- */

#define MAX_FRAMES 64 /* inline depth; deeper chains are cut (outer kept) */

struct frame_buf {
	struct pa_frame f[MAX_FRAMES];
	int n;
};

static struct pa_frame *push_frame(struct frame_buf *fb)
{
	if (fb->n == MAX_FRAMES)
		fb->f[MAX_FRAMES - 2] = fb->f[MAX_FRAMES - 1]; /* drop an inner one */
	else
		fb->n++;
	struct pa_frame *f = &fb->f[fb->n - 1];
	memset(f, 0, sizeof(*f));
	return f;
}

/* "libfoo.so+0x1234" (file offset as addr2line takes it) or "0x...". In a
 * module m without a symbol for pc (a stripped binary), the offset is
 * that of the start of pc's function (code_starts.h): one function is
 * one name, not one per sampled address. */
static void unknown_frame(struct pa_symbols *sy, const struct pa_module *pm, struct sym_module *m,
			  uint64_t pc, struct frame_buf *fb)
{
	char buf[512];
	struct pa_frame *f = push_frame(fb);
	if (pm) {
		uint64_t at = pc;
		GElf_Addr bias;
		if (m->state == MOD_OK && dwfl_module_getelf(m->dm, &bias)) {
			if (!m->starts_built) {
				m->starts_built = true;
				pa_code_starts_read(m->dm, &m->starts);
			}
			at = pa_code_start_of(&m->starts, pc - bias) + bias;
		}
		snprintf(buf, sizeof(buf), "%s+0x%" PRIx64, m->base, at - pm->bias);
		f->module = intern(sy, pm->path);
	} else {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, pc);
	}
	f->function = intern(sy, buf);
}

/* The name of a subprogram or inlined instance: C++ through its mangled
 * linkage name (qualified, with parameters), else DW_AT_name; C linkage
 * names are asm labels (glibc's __GI_ aliases), not what people wrote.
 * _integrate follows abstract_origin and specification, where clones and
 * methods keep their names. */
static const char *die_name(struct pa_symbols *sy, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (!n)
		n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	if (n && strncmp(n, "_Z", 2) == 0)
		return demangled(sy, n);
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	return intern(sy, name ? name : n);
}

static int die_decl_line(Dwarf_Die *die)
{
	int line = 0;
	return dwarf_decl_line(die, &line) == 0 ? line : 0;
}

/* Where an inlined instance was called from: its DW_AT_call_file/line. */
static void call_site(struct pa_symbols *sy, Dwarf_Die *cu, Dwarf_Die *inl, const char **file,
		      int *line)
{
	Dwarf_Attribute a;
	Dwarf_Word idx, ln;
	Dwarf_Files *files;
	size_t nfiles;
	*file = NULL;
	*line = 0;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &a), &ln) == 0)
		*line = (int)ln;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &a), &idx) == 0 &&
	    dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && idx < nfiles)
		*file = intern(sy, dwarf_filesrc(files, idx, NULL, NULL));
}

/* The source line of pc from the line table. */
static void pc_line(struct pa_symbols *sy, Dwfl_Module *dm, uint64_t pc, const char **file,
		    int *line)
{
	*file = NULL;
	*line = 0;
	Dwfl_Line *l = dwfl_module_getsrc(dm, pc);
	if (l)
		*file = intern(sy, dwfl_lineinfo(l, NULL, line, NULL, NULL, NULL));
}

/* --- address indexes --- */

static int cmp_range(const void *a, const void *b)
{
	const struct addr_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : (x->hi > y->hi) - (x->hi < y->hi);
}

static void sort_ranges(struct pa_vec *v)
{
	if (v->len)
		qsort(v->items, v->len, v->item, cmp_range);
}

/* The range containing pc: the last one starting at or below pc, or one
 * a little before it that is larger (aliases, nested symbols). */
static const void *find_range(const struct pa_vec *v, uint64_t pc)
{
	size_t lo = 0, hi = v->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct addr_range *r = pa_vec_at(v, mid);
		if (r->lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, back = 0; i > 0 && back < 8; i--, back++) {
		const struct addr_range *r = pa_vec_at(v, i - 1);
		if (pc < r->hi)
			return r;
	}
	return NULL;
}

/* Function symbols of the ELF symtab (or dynsym when stripped), once. */
static void build_syms(struct sym_module *m)
{
	m->syms_built = true;
	pa_vec_init(&m->syms, sizeof(struct sym_range));
	int n = dwfl_module_getsymtab(m->dm);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(m->dm, i, &sym, &addr, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);
		if (!name || !*name || sym.st_shndx == SHN_UNDEF ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		struct sym_range *r = pa_vec_push(&m->syms);
		r->r.lo = addr;
		r->r.hi = addr + (sym.st_size ? sym.st_size : 1);
		r->name = name;
	}
	sort_ranges(&m->syms);
}

/* Subprograms with code, at the top of a CU or in namespaces and classes
 * (C++ method definitions may sit there); their bodies are not entered,
 * so this reads little of the DWARF. */
static void collect_fns(struct sym_module *m, Dwarf_Die *parent)
{
	Dwarf_Die die;
	if (dwarf_child(parent, &die) != 0)
		return;
	do {
		int tag = dwarf_tag(&die);
		if (tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
		    tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
		    tag == DW_TAG_module) {
			collect_fns(m, &die);
			continue;
		}
		if (tag != DW_TAG_subprogram)
			continue;
		Dwarf_Addr base, start, end;
		ptrdiff_t off = 0;
		while ((off = dwarf_ranges(&die, off, &base, &start, &end)) > 0) {
			struct fn_range *r = pa_vec_push(&m->fns);
			r->r.lo = start + m->dwbias;
			r->r.hi = end + m->dwbias;
			r->die = die;
		}
	} while (dwarf_siblingof(&die, &die) == 0);
}

static void build_fns(struct sym_module *m)
{
	m->fns_built = true;
	if (m->fns_started)
		pa_vec_free(&m->fns);
	pa_vec_init(&m->fns, sizeof(struct fn_range));
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;
	while ((cu = dwfl_module_nextcu(m->dm, cu, &bias))) {
		m->dwbias = bias;
		collect_fns(m, cu);
	}
	sort_ranges(&m->fns);
}

static const struct sym_range *symbol_at(struct sym_module *m, uint64_t pc)
{
	if (!m->syms_built)
		build_syms(m);
	return find_range(&m->syms, pc);
}

/* The functions of the CU that holds pc, read on its first use: a
 * module's other CUs are never walked (libc's debug info has two
 * thousand; walking them all was a fixed cost of every report). Without
 * a CU found by address (no .debug_aranges for it), every CU is read, as
 * a function could still cover pc. */
static void collect_cu_of(struct sym_module *m, uint64_t pc)
{
	if (!m->fns_started) {
		m->fns_started = true;
		pa_vec_init(&m->fns, sizeof(struct fn_range));
		pa_pairmap_init(&m->fn_cus);
	}
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(m->dm, pc, &bias);
	if (!cu) {
		build_fns(m);
		return;
	}
	uint64_t off = dwarf_dieoffset(cu);
	if (pa_pairmap_get(&m->fn_cus, off + 1, 0))
		return;
	pa_pairmap_put(&m->fn_cus, off + 1, 0, 1);
	m->dwbias = bias;
	collect_fns(m, cu);
	sort_ranges(&m->fns);
}

static const struct fn_range *function_at(struct sym_module *m, uint64_t pc)
{
	if (!m->fns_built)
		collect_cu_of(m, pc);
	return find_range(&m->fns, pc);
}

/* Blocks that can hold inlined code of the function around them. */
static bool is_code_scope(int tag)
{
	return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block ||
	       tag == DW_TAG_try_block || tag == DW_TAG_catch_block;
}

/* The inlined instances containing pc inside fn, outermost first: go down
 * the one child scope containing pc at each level. */
static int inline_chain(Dwarf_Die *fn, Dwarf_Addr pc, Dwarf_Die *out, int max)
{
	int n = 0;
	Dwarf_Die cur = *fn, child;
	while (n < max && dwarf_child(&cur, &child) == 0) {
		bool found = false;
		do {
			int tag = dwarf_tag(&child);
			if (is_code_scope(tag) && dwarf_haspc(&child, pc) == 1) {
				if (tag == DW_TAG_inlined_subroutine)
					out[n++] = child;
				cur = child;
				found = true;
				break;
			}
		} while (dwarf_siblingof(&child, &child) == 0);
		if (!found)
			break;
	}
	return n;
}

static void set_frame(struct pa_symbols *sy, struct pa_frame *f, Dwarf_Die *die, const char *file,
		      int line, const char *modpath)
{
	f->function = die_name(sy, die);
	f->file = file;
	f->line = line;
	f->func_line = die_decl_line(die);
	f->module = modpath;
}

/*
 * The DWARF view: the subprogram containing pc, and the inlined instances
 * inside it that contain pc; each is a frame whose caller location is the
 * instance's call site (DW_AT_call_file/line), the subprogram comes last.
 * Returns false when the module has no DWARF function for pc.
 */
static bool dwarf_frames(struct pa_symbols *sy, struct sym_module *m, const char *modpath,
			 uint64_t pc, struct frame_buf *fb)
{
	const struct fn_range *fr = function_at(m, pc);
	if (!fr)
		return false;
	Dwarf_Die fn = fr->die, cu, chain[MAX_FRAMES - 1];
	if (!dwarf_diecu(&fn, &cu, NULL, NULL))
		return false;
	int n = inline_chain(&fn, pc - m->dwbias, chain, MAX_FRAMES - 1);
	const char *file;
	int line;
	pc_line(sy, m->dm, pc, &file, &line);
	for (int i = n - 1; i >= 0; i--) {
		struct pa_frame *f = push_frame(fb);
		set_frame(sy, f, &chain[i], file, line, modpath);
		f->inlined = true;
		call_site(sy, &cu, &chain[i], &file, &line);
	}
	set_frame(sy, push_frame(fb), &fn, file, line, modpath);
	return true;
}

/* The ELF symbol table view (no DWARF): function name, and the line table
 * if there is one. Returns false if no symbol covers pc. */
static bool symtab_frame(struct pa_symbols *sy, struct sym_module *m, const char *modpath,
			 uint64_t pc, struct frame_buf *fb)
{
	const struct sym_range *r = symbol_at(m, pc);
	if (!r)
		return false;
	struct pa_frame *f = push_frame(fb);
	f->function = demangled(sy, r->name);
	f->module = modpath;
	pc_line(sy, m->dm, pc, &f->file, &f->line);
	return true;
}

/* Fill a function name DWARF could not give from the ELF symbol table. */
static void name_from_symtab(struct pa_symbols *sy, struct sym_module *m, uint64_t pc,
			     struct pa_frame *f)
{
	const struct sym_range *r = symbol_at(m, pc);
	if (r)
		f->function = demangled(sy, r->name);
}

static void symbolize(struct pa_symbols *sy, uint64_t pc, long mi, struct frame_buf *fb)
{
	if (mi < 0) {
		unknown_frame(sy, NULL, NULL, pc, fb);
		return;
	}
	const struct pa_module *pm = pa_vec_at(&sy->s->modules, (size_t)mi);
	struct sym_module *m = module_get(sy, (size_t)mi);
	const char *modpath = intern(sy, pm->path);
	if (m->state == MOD_OK) {
		if (dwarf_frames(sy, m, modpath, pc, fb)) {
			struct pa_frame *outer = &fb->f[fb->n - 1];
			if (!outer->function)
				name_from_symtab(sy, m, pc, outer);
			for (int i = 0; i < fb->n; i++)
				if (!fb->f[i].function)
					fb->f[i].function = intern(sy, "??");
			if (outer->function)
				return;
		} else if (symtab_frame(sy, m, modpath, pc, fb)) {
			return;
		}
	}
	fb->n = 0;
	unknown_frame(sy, pm, m, pc, fb);
}

/* --- the cache --- */

static struct cache_entry *cache_slot(struct pa_symbols *sy, uint64_t pc, uint32_t key_mod)
{
	size_t mask = sy->cache_cap - 1;
	for (size_t i = pa_mix64(pc ^ ((uint64_t)key_mod << 48)) & mask;; i = (i + 1) & mask) {
		struct cache_entry *e = &sy->cache[i];
		if (!e->nframes || (e->pc == pc && e->key_mod == key_mod))
			return e;
	}
}

static void cache_grow(struct pa_symbols *sy)
{
	struct cache_entry *old = sy->cache;
	size_t old_cap = sy->cache_cap;
	sy->cache_cap = old_cap ? old_cap * 2 : 4096;
	sy->cache = pa_xcalloc(sy->cache_cap, sizeof(*sy->cache));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].nframes)
			*cache_slot(sy, old[i].pc, old[i].key_mod) = old[i];
	free(old);
}

static struct cache_entry *cache_insert(struct pa_symbols *sy, uint64_t pc, uint32_t key_mod,
					const struct pa_frame *frames, int n)
{
	if (2 * (sy->cache_used + 1) > sy->cache_cap)
		cache_grow(sy);
	struct cache_entry *e = cache_slot(sy, pc, key_mod);
	struct pa_frame *copy = pa_arena_alloc(&sy->arena, (size_t)n * sizeof(*copy));
	memcpy(copy, frames, (size_t)n * sizeof(*copy));
	e->pc = pc;
	e->key_mod = key_mod;
	e->nframes = (uint32_t)n;
	e->frames = copy;
	sy->cache_used++;
	return e;
}

/* --- API --- */

struct pa_symbols *pa_symbols_new(struct pa_session *s)
{
	struct pa_symbols *sy = pa_xcalloc(1, sizeof(*sy));
	sy->s = s;
	sy->nmods = s->modules.len;
	sy->mods = pa_xcalloc(sy->nmods ? sy->nmods : 1, sizeof(*sy->mods));
	for (size_t i = 0; i < sy->nmods; i++) {
		const struct pa_module *pm = pa_vec_at(&s->modules, i);
		const char *slash = strrchr(pm->path, '/');
		sy->mods[i].base = intern(sy, slash ? slash + 1 : pm->path);
		sy->mods[i].shared_from = -1;
	}
	cache_grow(sy);
	return sy;
}

void pa_symbols_free(struct pa_symbols *sy)
{
	if (!sy)
		return;
	for (size_t i = 0; i < sy->nmods; i++) {
		struct sym_module *m = &sy->mods[i];
		if (m->shared_from >= 0)
			continue;
		pa_vec_free(&m->syms);
		pa_vec_free(&m->fns);
		pa_code_starts_free(&m->starts);
		if (m->fns_started)
			pa_pairmap_free(&m->fn_cus);
		if (m->dwfl)
			dwfl_end(m->dwfl);
	}
	free(sy->mods);
	free(sy->cache);
	pa_strtab_free(&sy->strings);
	pa_arena_free(sy->arena);
	free(sy);
}

/* Cached lookup of pc (already adjusted) in module mi. */
static const struct cache_entry *lookup(struct pa_symbols *sy, uint64_t pc, long mi, bool function)
{
	uint32_t key_mod = (uint32_t)(mi + 1) | (function ? KEY_FUNCTION : 0);
	sy->stats.lookups++;
	struct cache_entry *e = cache_slot(sy, pc, key_mod);
	if (e->nframes) {
		sy->stats.cache_hits++;
		return e;
	}
	struct frame_buf fb;
	fb.n = 0;
	symbolize(sy, pc, mi, &fb);
	if (function) {
		/* the out-of-line function at its entry, named by its first line */
		struct pa_frame *f = &fb.f[fb.n - 1];
		if (f->func_line)
			f->line = f->func_line;
		return cache_insert(sy, pc, key_mod, f, 1);
	}
	return cache_insert(sy, pc, key_mod, fb.f, fb.n);
}

int pa_symbols_resolve(struct pa_symbols *sy, uint64_t pc, bool ret_addr, uint64_t ticks,
		       const struct pa_frame **frames)
{
	if (pc == PST_PC_PROFSHIM) { /* the profiler's own time */
		static const struct pa_frame profshim = {.function = "[profshim]"};
		*frames = &profshim;
		return 1;
	}
	if (pc == PST_PC_KERNEL) { /* system time the perf timer could not sample */
		static const struct pa_frame kernel = {.function = "[kernel]"};
		*frames = &kernel;
		return 1;
	}
	/* a return address points after the call; pc - 1 is inside it */
	if (ret_addr && pc > 0)
		pc--;
	const struct cache_entry *e = lookup(sy, pc, module_index_at(sy, pc, ticks), false);
	*frames = e->frames;
	return (int)e->nframes;
}

const struct pa_frame *pa_symbols_function(struct pa_symbols *sy, uint64_t addr, uint64_t ticks)
{
	return lookup(sy, addr, module_index_at(sy, addr, ticks), true)->frames;
}

/* Rare (a report's locks), so a scan of the symbol table per call. */
bool pa_symbols_data(struct pa_symbols *sy, uint64_t addr, uint64_t ticks, char *out, size_t cap)
{
	long mi = module_index_at(sy, addr, ticks);
	if (mi < 0)
		return false;
	struct sym_module *m = module_get(sy, (size_t)mi);
	if (m->state != MOD_OK)
		return false;
	int n = dwfl_module_getsymtab(m->dm);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr at;
		const char *name = dwfl_module_getsym_info(m->dm, i, &sym, &at, NULL, NULL, NULL);
		if (!name || !*name || GELF_ST_TYPE(sym.st_info) != STT_OBJECT || addr < at ||
		    addr >= at + (sym.st_size ? sym.st_size : 1))
			continue;
		if (addr == at)
			snprintf(out, cap, "%s (%s)", name, m->base);
		else
			snprintf(out, cap, "%s+%" PRIu64 " (%s)", name, addr - at, m->base);
		return true;
	}
	return false;
}

void pa_symbols_stats(const struct pa_symbols *sy, struct pa_symbols_stats *out)
{
	*out = sy->stats;
}
