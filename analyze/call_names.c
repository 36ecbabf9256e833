/*
 * Names of instrumented functions: see call_names.h. The fallback reads
 * each module's ELF symbol table once (libelf), sorted by address.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call_names.h"
#include "models.h"
#if __has_include("symbols.h")
#include "symbols.h"
#define HAVE_SYMBOLIZER 1
#endif

struct elf_sym {
	uint64_t value, size;
	char *name;
};

struct module_syms {
	const struct pa_module *mod;
	struct elf_sym *syms;
	size_t n;
};

struct call_names {
	const struct pa_models *pm;
	struct module_syms *mods;
	size_t nmods;
	struct pa_vec strings; /* char *, freed at the end */
};

struct call_names *call_names_new(const struct pa_models *pm)
{
	struct call_names *cn = pa_xcalloc(1, sizeof(*cn));
	cn->pm = pm;
	pa_vec_init(&cn->strings, sizeof(char *));
	return cn;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct elf_sym *x = a, *y = b;
	return x->value < y->value ? -1 : x->value > y->value;
}

/* Function symbols of one symbol table section. */
static void read_symtab(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, struct module_syms *ms)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || !sh->sh_entsize)
		return;
	size_t count = sh->sh_size / sh->sh_entsize;
	ms->syms = pa_xrealloc(ms->syms, (ms->n + count) * sizeof(*ms->syms));
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    !sym.st_value)
			continue;
		const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		struct elf_sym *e = &ms->syms[ms->n++];
		e->value = sym.st_value;
		e->size = sym.st_size;
		e->name = pa_xstrdup(name);
	}
}

static void load_module(struct module_syms *ms)
{
	int fd = open(ms->mod->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf) {
		/* .symtab has every function; .dynsym only exported ones */
		for (int want = SHT_SYMTAB; want >= SHT_DYNSYM && !ms->n; want = want == SHT_SYMTAB ? SHT_DYNSYM : -1) {
			Elf_Scn *scn = NULL;
			while ((scn = elf_nextscn(elf, scn)) != NULL) {
				GElf_Shdr sh;
				if (gelf_getshdr(scn, &sh) && sh.sh_type == (unsigned)want)
					read_symtab(elf, scn, &sh, ms);
			}
		}
		elf_end(elf);
	}
	close(fd);
	if (ms->n)
		qsort(ms->syms, ms->n, sizeof(*ms->syms), cmp_sym);
}

static struct module_syms *module_of(struct call_names *cn, uint64_t addr)
{
	const struct pa_session *s = cn->pm->s;
	const struct pa_module *mod = NULL;
	for (size_t i = 0; i < s->modules.len && !mod; i++) {
		const struct pa_module *m = pa_vec_at(&s->modules, i);
		if (addr >= m->lo && addr < m->hi)
			mod = m;
	}
	if (!mod)
		return NULL;
	for (size_t i = 0; i < cn->nmods; i++)
		if (cn->mods[i].mod == mod)
			return &cn->mods[i];
	cn->mods = pa_xrealloc(cn->mods, (cn->nmods + 1) * sizeof(*cn->mods));
	struct module_syms *ms = &cn->mods[cn->nmods++];
	memset(ms, 0, sizeof(*ms));
	ms->mod = mod;
	load_module(ms);
	return ms;
}

static const char *elf_name(struct module_syms *ms, uint64_t off)
{
	size_t lo = 0, hi = ms->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ms->syms[mid].value <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct elf_sym *e = &ms->syms[lo - 1];
	return off < e->value + (e->size ? e->size : 1) ? e->name : NULL;
}

static const char *keep(struct call_names *cn, char *s)
{
	*(char **)pa_vec_push(&cn->strings) = s;
	return s;
}

void call_names_lookup(struct call_names *cn, uint64_t addr, const char **name, const char **file,
		       int *line)
{
	*file = "";
	*line = 0;
#ifdef HAVE_SYMBOLIZER
	if (cn->pm->syms) {
		const struct pa_frame *fr = pa_symbols_function(cn->pm->syms, addr, cn->pm->s->start_ticks);
		*name = fr->function;
		*file = fr->file ? fr->file : "";
		*line = fr->func_line ? fr->func_line : fr->line;
		return;
	}
#endif
	struct module_syms *ms = module_of(cn, addr);
	const char *n = ms ? elf_name(ms, addr - ms->mod->bias) : NULL;
	char buf[64];
	if (n) {
		*name = n;
		return;
	}
	if (ms) {
		const char *base = strrchr(ms->mod->path, '/');
		char *s;
		if (asprintf(&s, "%s+0x%" PRIx64, base ? base + 1 : ms->mod->path, addr - ms->mod->bias) < 0)
			s = pa_xstrdup("?");
		*name = keep(cn, s);
		return;
	}
	snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
	*name = keep(cn, pa_xstrdup(buf));
}

void call_names_free(struct call_names *cn)
{
	if (!cn)
		return;
	for (size_t i = 0; i < cn->nmods; i++) {
		for (size_t k = 0; k < cn->mods[i].n; k++)
			free(cn->mods[i].syms[k].name);
		free(cn->mods[i].syms);
	}
	free(cn->mods);
	for (size_t i = 0; i < cn->strings.len; i++)
		free(*(char **)pa_vec_at(&cn->strings, i));
	pa_vec_free(&cn->strings);
	free(cn);
}
