/*
 * For the symbolizer's unit test (tests/unit/test_symbols.c): a C++
 * program that prints its own module (load bias, range, build-id) and code
 * addresses with the lines they stand for, then exits; the test resolves
 * them offline, after the process is gone, as profanalyze does.
 * Output lines:  module BIAS LO HI BUILDID
 *                point LABEL RETADDR LINE FUNCLINE
 */
#include <cstdio>
#include <elf.h>
#include <link.h>

static volatile int sink;

__attribute__((noinline)) static unsigned long here()
{
	sink++;
	return (unsigned long)__builtin_return_address(0);
}

namespace ns {

static const int twice_line = __LINE__ + 2;
template <class T>
__attribute__((always_inline)) inline T twice(T x)
{
	unsigned long pc;
	int line;
	pc = here(), line = __LINE__; /* one line (clang-format safe) */
	std::printf("point twice %lx %d %d\n", pc, line, twice_line);
	return 2 * x;
}

struct Widget {
	int n;
	int spin(int k);
};

static const int spin_line = __LINE__ + 1;
__attribute__((noinline)) int Widget::spin(int k)
{
	int r, line;
	r = twice(k), line = __LINE__;
	std::printf("point spin %lx %d %d\n", here(), __LINE__, spin_line);
	std::printf("point spin_call 0 %d %d\n", line, spin_line);
	return r + n;
}

} // namespace ns

static int print_module(struct dl_phdr_info *info, size_t, void *)
{
	unsigned long lo = ~0UL, hi = 0;
	const unsigned char *id = nullptr;
	unsigned idlen = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		unsigned long a = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD) {
			lo = a < lo ? a : lo;
			hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
		}
		if (ph->p_type == PT_NOTE && !id) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)a;
			if (nh->n_type == NT_GNU_BUILD_ID) {
				id = (const unsigned char *)(nh + 1) + ((nh->n_namesz + 3) & ~3u);
				idlen = nh->n_descsz;
			}
		}
	}
	std::printf("module %lx %lx %lx ", (unsigned long)info->dlpi_addr, lo, hi);
	for (unsigned i = 0; i < idlen; i++)
		std::printf("%02x", id[i]);
	std::printf("\n");
	return 1; /* the program itself comes first */
}

int main()
{
	dl_iterate_phdr(print_module, nullptr);
	ns::Widget w{1};
	return w.spin(20) == 41 ? 0 : 1;
}
