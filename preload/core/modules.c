/*
 * The module map: every loaded object with its path, load bias, address
 * range and build-id, recorded at start and after every dlopen/dlclose so
 * that addresses resolve offline, even in libraries unloaded since.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "shim.h"
#include "unwind.h"

static uint64_t generation;

/* Copy the GNU build-id note of a loaded object, if it has one. */
static size_t find_build_id(const struct dl_phdr_info *info, uint8_t *out, size_t cap)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t name_sz = (nh->n_namesz + 3) & ~3u;
			size_t desc_sz = (nh->n_descsz + 3) & ~3u;
			const uint8_t *name = p + sizeof(*nh);
			const uint8_t *desc = name + name_sz;
			if (desc + desc_sz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= cap) {
				memcpy(out, desc, nh->n_descsz);
				return nh->n_descsz;
			}
			p = desc + desc_sz;
		}
	}
	return 0;
}

static int record_module(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	const char *exe = data;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
	}
	if (hi == 0)
		return 0;
	const char *path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : exe;
	uint8_t buf[PST_MAX_STR + 256], *p = buf, id[64];
	size_t idlen = find_build_id(info, id, sizeof(id));
	p = pst_put_varint(p, generation);
	p = pst_put_varint(p, info->dlpi_addr);
	p = pst_put_varint(p, lo);
	p = pst_put_varint(p, hi);
	p = pst_put_str(p, path, strlen(path));
	p = pst_put_str(p, (const char *)id, idlen);
	ps_process_ext(PST_X_MODULE, buf, (size_t)(p - buf));
	return 0;
}

/* The program's path: the same for the image's whole life (an exec
 * starts a new shim), so read once, not at every dlopen. */
const char *ps_exe_path(void)
{
	static char exe[PATH_MAX];
	static int known;
	if (!__atomic_load_n(&known, __ATOMIC_ACQUIRE)) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = 0;
		__atomic_store_n(&known, 1, __ATOMIC_RELEASE);
	}
	return exe;
}

void ps_modules_record(void)
{
	const char *exe = ps_exe_path();
	uint64_t gen = __atomic_add_fetch(&generation, 1, __ATOMIC_RELAXED);
	uint8_t buf[32], *p = buf;
	p = pst_put_varint(p, gen);
	p = pst_put_varint(p, ps_now());
	ps_process_ext(PST_X_MODULES_BEGIN, buf, (size_t)(p - buf));
	dl_iterate_phdr(record_module, (void *)exe);
}

/* --- dlopen/dlclose change the map --- */

typedef void *(*dlopen_fn)(const char *, int);
typedef int (*dlclose_fn)(void *);

PS_EXPORT void *dlopen(const char *file, int mode)
{
	static dlopen_fn real;
	if (!real)
		real = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
	void *h = real(file, mode);
	if (h)
		ps_unwind_code_changed(); /* new code: cached unwind rules start over */
	if (h && ps_initialized && !ps_disabled) {
		int saved = errno;
		ps_modules_record();
		errno = saved;
	}
	return h;
}

PS_EXPORT int dlclose(void *handle)
{
	static dlclose_fn real;
	if (!real)
		real = (dlclose_fn)dlsym(RTLD_NEXT, "dlclose");
	int rc = real(handle);
	if (rc == 0)
		ps_unwind_code_changed(); /* the code at an address may be gone */
	if (rc == 0 && ps_initialized && !ps_disabled) {
		int saved = errno;
		ps_modules_record();
		errno = saved;
	}
	return rc;
}
