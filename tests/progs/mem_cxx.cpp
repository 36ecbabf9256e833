/*
 * Known answers for C++: allocations whose innermost frame is in this
 * program (operator new's caller):
 *   new int + delete                      1 alloc (4 B), 1 free
 *   new char[100] + delete[]              1 alloc (100 B), 1 free
 *   new double[8], never deleted          1 alloc (64 B), 1 leak
 *   std::vector<int> growing to 1000      11 allocs (4 * 2047 = 8188 B),
 *                                         11 frees
 *   new of an alignas(64) struct + delete 1 alloc (64 B), 1 free
 * Total: 15 allocations, 8420 bytes, 14 frees, 1 leaked block of 64 B.
 */
#include <cstdlib>
#include <vector>

struct alignas(64) Wide {
	char bytes[64];
};

double *volatile leaked;
volatile long sink;
/* Pointers kept in volatile globals: the compiler may not elide the
 * new/delete pairs (C++14 allows eliding unobservable ones). */
int *volatile hold_int;
char *volatile hold_chars;
struct Wide;
Wide *volatile hold_wide;

__attribute__((noinline)) static void scalars()
{
	hold_int = new int(5);
	sink += *hold_int;
	delete hold_int;
	hold_chars = new char[100];
	hold_chars[99] = 1;
	sink += hold_chars[99];
	delete[] hold_chars;
	leaked = new double[8];
}

__attribute__((noinline)) static void growth()
{
	std::vector<int> v;
	for (int i = 0; i < 1000; i++)
		v.push_back(i);
	sink += v[999];
}

__attribute__((noinline)) static void aligned()
{
	hold_wide = new Wide;
	hold_wide->bytes[0] = 1;
	sink += hold_wide->bytes[0];
	delete hold_wide;
}

int main()
{
	scalars();
	growth();
	aligned();
	return 0;
}
