/*
 * A library for the symbolizer's tests (tests/unit/test_symbols.c): its
 * functions report where they start, so the tests know the exact answers.
 */

/* A C++-mangled name (what g++ emits for sym::twice(int)), so that
 * demangling is tested without a C++ library. */
int sym_lib_twice(int x) __asm__("_ZN3sym5twiceEi");

const int sym_lib_add_line = __LINE__ + 1;
__attribute__((noinline)) int sym_lib_add(int a, int b)
{
	return a + b;
}

const int sym_lib_twice_line = __LINE__ + 1;
__attribute__((noinline)) int sym_lib_twice(int x)
{
	return 2 * x;
}

/* Not exported: found through the ELF symtab / DWARF only. */
const int sym_lib_hidden_line = __LINE__ + 1;
__attribute__((noinline, visibility("hidden"))) int sym_lib_hidden(int x)
{
	return x * x + 1;
}

void *sym_lib_hidden_addr(void)
{
	return (void *)sym_lib_hidden;
}
