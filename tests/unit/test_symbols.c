/*
 * Unit tests of the offline symbolizer (analyze/symbols.c). The session is
 * faked: its modules are this test program and the objects it has loaded
 * (build/tests/sym_lib.so among them), read with dl_iterate_phdr as the
 * shim does. Expected lines come from __LINE__ markers in the sources.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <libgen.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "session.h"
#include "symbols.h"

static int passed, failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			passed++;                                                                  \
		} else {                                                                           \
			failed++;                                                                  \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, m = strlen(suffix);
	return s && n >= m && strcmp(s + n - m, suffix) == 0;
}

#define S(x) ((x) ? (x) : "(null)")

/* --- code to symbolize: known functions at known lines --- */

static volatile int sink;
static uintptr_t ret_pc;
static int call_line_inl1, call_line_inl2, call_line_outer, call_line_caller;

__attribute__((noipa)) static uintptr_t get_ret(void)
{
	return (uintptr_t)__builtin_return_address(0);
}

static const int static_fn_line = __LINE__ + 1;
__attribute__((noipa)) static int static_fn(int x)
{
	return x * 3 + sink;
}

static const int inl1_line = __LINE__ + 1;
static inline __attribute__((always_inline)) void inl1(void)
{
	sink++;
	ret_pc = get_ret(), call_line_inl1 = __LINE__; /* one line: the call's */
	sink++;
}

static const int inl2_line = __LINE__ + 1;
static inline __attribute__((always_inline)) void inl2(void)
{
	sink++;
	inl1(), call_line_inl2 = __LINE__; /* one line: the call's */
	sink++;
}

static const int outer_fn_line = __LINE__ + 1;
__attribute__((noipa)) void outer_fn(void)
{
	sink++;
	inl2(), call_line_outer = __LINE__; /* one line: the call's */
	sink++;
}

static const int caller_fn_line = __LINE__ + 1;
__attribute__((noipa)) static void caller_fn(void)
{
	ret_pc = get_ret(), call_line_caller = __LINE__; /* one line: the call's */
	sink++;
}

/* --- building the fake session --- */

static char exe_path[PATH_MAX];

static size_t note_build_id(const struct dl_phdr_info *info, uint8_t *out)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const uint8_t *desc = p + sizeof(*nh) + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_descsz <= 64) {
				memcpy(out, desc, nh->n_descsz);
				return nh->n_descsz;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 0;
}

static int add_module(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct pa_session *s = data;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		lo = a < lo ? a : lo;
		hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
	}
	if (!hi)
		return 0;
	struct pa_module *m = pa_vec_push(&s->modules);
	m->bias = info->dlpi_addr;
	m->lo = lo;
	m->hi = hi;
	m->path = pa_xstrdup(info->dlpi_name && *info->dlpi_name ? info->dlpi_name : exe_path);
	m->build_id_len = note_build_id(info, m->build_id);
	m->first_ticks = 1;
	m->last_ticks = UINT64_MAX;
	return 0;
}

static void session_init(struct pa_session *s)
{
	memset(s, 0, sizeof(*s));
	pa_vec_init(&s->modules, sizeof(struct pa_module));
	pa_vec_init(&s->warnings, sizeof(char *));
}

/* A session whose modules are what this process has loaded now. */
static void session_live(struct pa_session *s)
{
	session_init(s);
	dl_iterate_phdr(add_module, s);
}

static struct pa_module *module_named(struct pa_session *s, const char *suffix)
{
	for (size_t i = 0; i < s->modules.len; i++) {
		struct pa_module *m = pa_vec_at(&s->modules, i);
		if (ends_with(m->path, suffix))
			return m;
	}
	return NULL;
}

static struct pa_module *add_fake(struct pa_session *s, const struct pa_module *like,
				  const char *path)
{
	struct pa_module copy = *like; /* like may point into the vec */
	struct pa_module *m = pa_vec_push(&s->modules);
	*m = copy;
	m->path = pa_xstrdup(path);
	return m;
}

static void session_done(struct pa_session *s)
{
	for (size_t i = 0; i < s->modules.len; i++)
		free(((struct pa_module *)pa_vec_at(&s->modules, i))->path);
	for (size_t i = 0; i < s->warnings.len; i++)
		free(*(char **)pa_vec_at(&s->warnings, i));
	pa_vec_free(&s->modules);
	pa_vec_free(&s->warnings);
}

static const char *warning(struct pa_session *s, size_t i)
{
	return i < s->warnings.len ? *(char **)pa_vec_at(&s->warnings, i) : NULL;
}

/* --- the library under test --- */

static char lib_path[PATH_MAX];
static int (*lib_add)(int, int);
static int (*lib_twice)(int);
static void *(*lib_hidden_addr)(void);
static const int *lib_add_line, *lib_twice_line, *lib_hidden_line;

static int load_lib(void)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", exe_path);
	snprintf(lib_path, sizeof(lib_path), "%s/../sym_lib.so", dirname(dir));
	char *real = realpath(lib_path, NULL);
	if (!real) {
		fprintf(stderr, "test_symbols: %s missing (make test-progs)\n", lib_path);
		return -1;
	}
	snprintf(lib_path, sizeof(lib_path), "%s", real);
	free(real);
	void *h = dlopen(lib_path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "test_symbols: %s\n", dlerror());
		return -1;
	}
	lib_add = (int (*)(int, int))dlsym(h, "sym_lib_add");
	lib_twice = (int (*)(int))dlsym(h, "_ZN3sym5twiceEi");
	lib_hidden_addr = (void *(*)(void))dlsym(h, "sym_lib_hidden_addr");
	lib_add_line = dlsym(h, "sym_lib_add_line");
	lib_twice_line = dlsym(h, "sym_lib_twice_line");
	lib_hidden_line = dlsym(h, "sym_lib_hidden_line");
	return lib_add && lib_twice && lib_hidden_addr && lib_add_line && lib_twice_line &&
		       lib_hidden_line
		   ? 0
		   : -1;
}

/* --- tests --- */

static void test_static_function(void)
{
	struct pa_session s;
	session_live(&s);
	struct pa_symbols *sy = pa_symbols_new(&s);
	const struct pa_frame *f = pa_symbols_function(sy, (uintptr_t)static_fn, 5);
	CHECK(streq(f->function, "static_fn"), "got %s", S(f->function));
	CHECK(ends_with(f->file, "tests/unit/test_symbols.c"), "got %s", S(f->file));
	CHECK(f->func_line == static_fn_line, "got %d want %d", f->func_line, static_fn_line);
	CHECK(f->line == static_fn_line, "got %d", f->line);
	CHECK(streq(f->module, exe_path), "got %s", S(f->module));
	CHECK(!f->inlined, "inlined");
	/* an address inside the function resolves to it too */
	const struct pa_frame *fr;
	int n = pa_symbols_resolve(sy, (uintptr_t)static_fn + 1, false, 5, &fr);
	CHECK(n == 1 && streq(fr[0].function, "static_fn"), "n %d %s", n, S(fr[0].function));
	CHECK(s.warnings.len == 0, "warning %s", S(warning(&s, 0)));
	pa_symbols_free(sy);
	session_done(&s);
}

static void test_library_functions(void)
{
	struct pa_session s;
	session_live(&s);
	struct pa_symbols *sy = pa_symbols_new(&s);
	const struct pa_frame *f = pa_symbols_function(sy, (uintptr_t)lib_add, 5);
	CHECK(streq(f->function, "sym_lib_add"), "got %s", S(f->function));
	CHECK(ends_with(f->file, "tests/progs/lib/sym_lib.c"), "got %s", S(f->file));
	CHECK(f->func_line == *lib_add_line, "got %d want %d", f->func_line, *lib_add_line);
	CHECK(streq(f->module, lib_path), "got %s", S(f->module));

	f = pa_symbols_function(sy, (uintptr_t)lib_twice, 5);
	CHECK(streq(f->function, "sym::twice(int)"), "got %s", S(f->function));
	CHECK(f->func_line == *lib_twice_line, "got %d want %d", f->func_line, *lib_twice_line);

	f = pa_symbols_function(sy, (uintptr_t)lib_hidden_addr(), 5);
	CHECK(streq(f->function, "sym_lib_hidden"), "got %s", S(f->function));
	CHECK(f->func_line == *lib_hidden_line, "got %d want %d", f->func_line, *lib_hidden_line);
	CHECK(s.warnings.len == 0, "warning %s", S(warning(&s, 0)));
	pa_symbols_free(sy);
	session_done(&s);
}

static void test_inline_chain(void)
{
	outer_fn();
	struct pa_session s;
	session_live(&s);
	struct pa_symbols *sy = pa_symbols_new(&s);
	const struct pa_frame *f;
	int n = pa_symbols_resolve(sy, ret_pc, true, 5, &f);
	CHECK(n == 3, "got %d frames", n);
	if (n == 3) {
		CHECK(streq(f[0].function, "inl1") && f[0].inlined, "got %s", S(f[0].function));
		CHECK(f[0].line == call_line_inl1, "got %d want %d", f[0].line, call_line_inl1);
		CHECK(f[0].func_line == inl1_line, "got %d want %d", f[0].func_line, inl1_line);
		CHECK(ends_with(f[0].file, "test_symbols.c"), "got %s", S(f[0].file));
		CHECK(streq(f[1].function, "inl2") && f[1].inlined, "got %s", S(f[1].function));
		CHECK(f[1].line == call_line_inl2, "got %d want %d", f[1].line, call_line_inl2);
		CHECK(f[1].func_line == inl2_line, "got %d want %d", f[1].func_line, inl2_line);
		CHECK(ends_with(f[1].file, "test_symbols.c"), "got %s", S(f[1].file));
		CHECK(streq(f[2].function, "outer_fn") && !f[2].inlined, "got %s",
		      S(f[2].function));
		CHECK(f[2].line == call_line_outer, "got %d want %d", f[2].line, call_line_outer);
		CHECK(f[2].func_line == outer_fn_line, "got %d want %d", f[2].func_line,
		      outer_fn_line);
		CHECK(streq(f[2].module, exe_path), "got %s", S(f[2].module));
	}
	/* cached: the same frames again, and names are interned */
	const struct pa_frame *again;
	CHECK(pa_symbols_resolve(sy, ret_pc, true, 5, &again) == n && again == f, "not cached");
	CHECK(pa_symbols_resolve(sy, ret_pc - 1, false, 5, &again) == n && again == f,
	      "pc-1 differs from ret_addr lookup");
	struct pa_symbols_stats st;
	pa_symbols_stats(sy, &st);
	CHECK(st.lookups == 3 && st.cache_hits == 2, "lookups %lu hits %lu",
	      (unsigned long)st.lookups, (unsigned long)st.cache_hits);
	pa_symbols_free(sy);
	session_done(&s);
}

static void test_return_address(void)
{
	caller_fn();
	struct pa_session s;
	session_live(&s);
	struct pa_symbols *sy = pa_symbols_new(&s);
	const struct pa_frame *f;
	int n = pa_symbols_resolve(sy, ret_pc, true, 5, &f);
	CHECK(n == 1 && streq(f[0].function, "caller_fn"), "n %d %s", n, S(f[0].function));
	CHECK(f[0].line == call_line_caller, "got %d want %d", f[0].line, call_line_caller);
	CHECK(f[0].func_line == caller_fn_line, "got %d", f[0].func_line);
	pa_symbols_free(sy);
	session_done(&s);
}

/* Copy the library into dir, patching one byte of its build-id note. */
static int copy_file(const char *from, const char *to, const uint8_t *id, size_t idlen)
{
	FILE *in = fopen(from, "rb");
	if (!in)
		return -1;
	static uint8_t buf[1 << 22];
	size_t n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	if (id) {
		uint8_t *p = memmem(buf, n, id, idlen);
		if (!p)
			return -1;
		p[0] ^= 0xff;
	}
	FILE *out = fopen(to, "wb");
	if (!out)
		return -1;
	size_t w = fwrite(buf, 1, n, out);
	return fclose(out) == 0 && w == n ? 0 : -1;
}

static char tmpdir[] = "/tmp/test_symbols.XXXXXX";

static void test_build_id_mismatch(void)
{
	struct pa_session s;
	session_live(&s);
	struct pa_module *lib = module_named(&s, "/sym_lib.so");
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s/sym_lib.so", tmpdir);
	int rc = lib && lib->build_id_len
		     ? copy_file(lib_path, copy, lib->build_id, lib->build_id_len)
		     : -1;
	CHECK(rc == 0, "copy with patched build-id failed");
	free(lib->path);
	lib->path = pa_xstrdup(copy); /* the run recorded the original's build-id */
	struct pa_symbols *sy = pa_symbols_new(&s);
	char want[64];
	snprintf(want, sizeof(want), "sym_lib.so+0x%lx",
		 (unsigned long)((uintptr_t)lib_add - lib->bias));
	const struct pa_frame *f;
	int n = pa_symbols_resolve(sy, (uintptr_t)lib_add, false, 5, &f);
	CHECK(n == 1 && streq(f[0].function, want), "got %s want %s", S(f[0].function), want);
	CHECK(f[0].file == NULL && f[0].line == 0, "file %s", S(f[0].file));
	CHECK(streq(f[0].module, copy), "module %s", S(f[0].module));
	n = pa_symbols_resolve(sy, (uintptr_t)lib_twice, false, 5, &f);
	CHECK(n == 1 && strncmp(f[0].function, "sym_lib.so+0x", 13) == 0, "got %s",
	      S(f[0].function));
	CHECK(s.warnings.len == 1 && strstr(warning(&s, 0), "build-id") &&
		  strstr(warning(&s, 0), copy),
	      "warnings %zu: %s", s.warnings.len, S(warning(&s, 0)));
	/* the rest of the process still resolves */
	n = pa_symbols_resolve(sy, (uintptr_t)static_fn, false, 5, &f);
	CHECK(streq(f[0].function, "static_fn"), "got %s", S(f[0].function));
	pa_symbols_free(sy);
	session_done(&s);
}

static void test_missing_file_and_no_module(void)
{
	struct pa_session s;
	session_init(&s);
	struct pa_module like = {
	    .bias = 0x100000, .lo = 0x100000, .hi = 0x200000, .last_ticks = UINT64_MAX};
	like.build_id_len = 4;
	add_fake(&s, &like, "/nonexistent/dir/libgone.so");
	struct pa_symbols *sy = pa_symbols_new(&s);
	const struct pa_frame *f;
	int n = pa_symbols_resolve(sy, 0x100123, false, 5, &f);
	CHECK(n == 1 && streq(f[0].function, "libgone.so+0x123"), "got %s", S(f[0].function));
	CHECK(streq(f[0].module, "/nonexistent/dir/libgone.so") && !f[0].file, "module %s",
	      S(f[0].module));
	n = pa_symbols_resolve(sy, 0x100456, true, 5, &f);
	CHECK(n == 1 && streq(f[0].function, "libgone.so+0x455"), "got %s", S(f[0].function));
	CHECK(s.warnings.len == 1 && strstr(warning(&s, 0), "libgone.so"), "warnings %zu",
	      s.warnings.len);
	n = pa_symbols_resolve(sy, 0x10, false, 5, &f);
	CHECK(n == 1 && streq(f[0].function, "0x10") && !f[0].module && !f[0].file, "got %s",
	      S(f[0].function));
	const struct pa_frame *fn = pa_symbols_function(sy, 0x2345678, 5);
	CHECK(streq(fn->function, "0x2345678"), "got %s", S(fn->function));
	pa_symbols_free(sy);
	session_done(&s);
}

/* The same address range used by two libraries at different times. */
static void test_range_reuse(void)
{
	struct pa_session s;
	session_live(&s);
	struct pa_module *lib = module_named(&s, "/sym_lib.so");
	lib->first_ticks = 100;
	lib->last_ticks = 300; /* unloaded by the map at 300 */
	struct pa_module *other = add_fake(&s, lib, "/nonexistent/other.so");
	lib = NULL; /* moved */
	other->first_ticks = 300;
	other->last_ticks = UINT64_MAX;
	struct pa_symbols *sy = pa_symbols_new(&s);
	uint64_t ticks[] = {150, 299, 100};
	for (int i = 0; i < 3; i++) {
		const struct pa_frame *f = pa_symbols_function(sy, (uintptr_t)lib_add, ticks[i]);
		CHECK(streq(f->function, "sym_lib_add"), "ticks %lu: %s", (unsigned long)ticks[i],
		      S(f->function));
	}
	const struct pa_frame *f = pa_symbols_function(sy, (uintptr_t)lib_add, 350);
	CHECK(strncmp(f->function, "other.so+0x", 11) == 0, "got %s", S(f->function));
	pa_symbols_free(sy);
	session_done(&s);
}

/* Debuginfo stripped: names from the ELF symtab; all stripped: dynsym. */
static void test_stripped(void)
{
	char cmd[7 * PATH_MAX], dbg[PATH_MAX], all[PATH_MAX];
	snprintf(dbg, sizeof(dbg), "%s/dbg/sym_lib.so", tmpdir);
	snprintf(all, sizeof(all), "%s/all/sym_lib.so", tmpdir);
	snprintf(
	    cmd, sizeof(cmd),
	    "mkdir -p %s/dbg %s/all && objcopy --strip-debug %s %s && objcopy --strip-all %s %s",
	    tmpdir, tmpdir, lib_path, dbg, lib_path, all);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_symbols: objcopy failed, stripped tests skipped\n");
		return;
	}
	struct pa_session s;
	session_live(&s);
	struct pa_module *lib = module_named(&s, "/sym_lib.so");
	free(lib->path);
	lib->path = pa_xstrdup(dbg);
	struct pa_symbols *sy = pa_symbols_new(&s);
	const struct pa_frame *f = pa_symbols_function(sy, (uintptr_t)lib_twice, 5);
	CHECK(streq(f->function, "sym::twice(int)") && !f->file && !f->line, "got %s %s",
	      S(f->function), S(f->file));
	f = pa_symbols_function(sy, (uintptr_t)lib_hidden_addr(), 5);
	CHECK(streq(f->function, "sym_lib_hidden"), "got %s", S(f->function));
	pa_symbols_free(sy);

	free(lib->path);
	lib->path = pa_xstrdup(all);
	sy = pa_symbols_new(&s);
	f = pa_symbols_function(sy, (uintptr_t)lib_add, 5);
	CHECK(streq(f->function, "sym_lib_add"), "got %s", S(f->function));
	f = pa_symbols_function(sy, (uintptr_t)lib_hidden_addr(), 5);
	CHECK(!strstr(f->function, "sym_lib_add") && !strstr(f->function, "twice"),
	      "hidden got wrong name %s", S(f->function));
	CHECK(s.warnings.len == 0, "warning %s", S(warning(&s, 0)));
	pa_symbols_free(sy);
	session_done(&s);
}

/* A C++ program resolved after it exited: demangled methods and template
 * instances, an inlined template, its build-id checked. */
static void test_cxx_offline(void)
{
	char dir[PATH_MAX], cmd[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s", exe_path);
	snprintf(cmd, sizeof(cmd), "%s/../sym_cxx", dirname(dir));
	char *prog = realpath(cmd, NULL);
	FILE *p = prog ? popen(prog, "r") : NULL;
	CHECK(p != NULL, "cannot run %s", cmd);
	if (!p) {
		free(prog);
		return;
	}
	struct pa_session s;
	session_init(&s);
	struct pa_module m = {.last_ticks = UINT64_MAX};
	char label[32], id[160] = "";
	unsigned long pc[3] = {0};
	int line[3] = {0}, func_line[3] = {0}, k = 0;
	if (fscanf(p, "module %lx %lx %lx %159s\n", &m.bias, &m.lo, &m.hi, id) == 4) {
		for (size_t i = 0; id[2 * i] && i < sizeof(m.build_id); i++)
			sscanf(id + 2 * i, "%2hhx", &m.build_id[m.build_id_len++]);
		add_fake(&s, &m, prog);
	}
	while (k < 3 &&
	       fscanf(p, "point %31s %lx %d %d\n", label, &pc[k], &line[k], &func_line[k]) == 4)
		k++;
	CHECK(pclose(p) == 0 && k == 3 && s.modules.len == 1, "sym_cxx output: %d points", k);
	free(prog);
	if (k < 3 || s.modules.len != 1) {
		session_done(&s);
		return;
	}
	struct pa_symbols *sy = pa_symbols_new(&s);
	const struct pa_frame *f;
	int n = pa_symbols_resolve(sy, pc[0], true, 5, &f);
	CHECK(n == 2, "got %d frames", n);
	if (n == 2) {
		CHECK(streq(f[0].function, "int ns::twice<int>(int)") && f[0].inlined, "got %s",
		      S(f[0].function));
		CHECK(f[0].line == line[0] && f[0].func_line == func_line[0],
		      "line %d:%d want %d:%d", f[0].line, f[0].func_line, line[0], func_line[0]);
		CHECK(ends_with(f[0].file, "tests/progs/sym_cxx.cpp"), "got %s", S(f[0].file));
		CHECK(streq(f[1].function, "ns::Widget::spin(int)") && !f[1].inlined, "got %s",
		      S(f[1].function));
		CHECK(f[1].line == line[2] && f[1].func_line == func_line[2],
		      "line %d:%d want %d:%d", f[1].line, f[1].func_line, line[2], func_line[2]);
	}
	n = pa_symbols_resolve(sy, pc[1], true, 5, &f);
	CHECK(n == 1 && streq(f[0].function, "ns::Widget::spin(int)") && f[0].line == line[1],
	      "got %d %s:%d", n, S(f[0].function), f[0].line);
	CHECK(s.warnings.len == 0, "warning %s", S(warning(&s, 0)));
	pa_symbols_free(sy);
	session_done(&s);
}

/* The vDSO has no file: module+offset, no warning, no crash. */
static void test_vdso(void)
{
	struct pa_session s;
	session_live(&s);
	struct pa_module *v = module_named(&s, "linux-vdso.so.1");
	if (!v) {
		session_done(&s);
		return;
	}
	struct pa_symbols *sy = pa_symbols_new(&s);
	const struct pa_frame *f;
	int n = pa_symbols_resolve(sy, v->lo + 0x10, false, 5, &f);
	CHECK(n == 1 && strncmp(f[0].function, "linux-vdso.so.1+0x", 18) == 0, "got %s",
	      S(f[0].function));
	CHECK(s.warnings.len == 0, "warning %s", S(warning(&s, 0)));
	pa_symbols_free(sy);
	session_done(&s);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Not asserted (timing is for benchmarks): cold lookups of distinct pcs
 * over libc's code, and warm (cached) ones. */
static void report_speed(void)
{
	struct pa_session s;
	session_live(&s);
	struct pa_module *libc = module_named(&s, "libc.so.6");
	if (!libc) {
		session_done(&s);
		return;
	}
	struct pa_symbols *sy = pa_symbols_new(&s);
	const struct pa_frame *f;
	enum { N = 100000 };
	uint64_t span = libc->hi - libc->lo, step = span / N ? span / N : 1;
	double t0 = now_s();
	for (uint64_t i = 0; i < N; i++)
		pa_symbols_resolve(sy, libc->lo + i * step, true, 5, &f);
	double t1 = now_s();
	for (int r = 0; r < 10; r++)
		for (uint64_t i = 0; i < N; i++)
			pa_symbols_resolve(sy, libc->lo + i * step, true, 5, &f);
	double t2 = now_s();
	printf("speed: %d distinct pcs in libc: %.1f ms cold (incl. opening), %.2f ms per 100k "
	       "cached\n",
	       N, (t1 - t0) * 1e3, (t2 - t1) * 1e3 / 10);
	pa_symbols_free(sy);
	session_done(&s);
}

int main(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	exe_path[n > 0 ? n : 0] = 0;
	if (load_lib() != 0 || !mkdtemp(tmpdir)) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	test_static_function();
	test_library_functions();
	test_inline_chain();
	test_return_address();
	test_build_id_mismatch();
	test_missing_file_and_no_module();
	test_range_reuse();
	test_stripped();
	test_vdso();
	test_cxx_offline();
	if (getenv("TEST_SYMBOLS_SPEED"))
		report_speed();
	char cmd[PATH_MAX];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_symbols: could not remove %s\n", tmpdir);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
