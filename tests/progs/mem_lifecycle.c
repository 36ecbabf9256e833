/*
 * Allocations before main (a constructor) and after exit starts (an atexit
 * handler, a destructor). Known answers (innermost frame in this program):
 *   constructor  malloc(111), kept
 *   atexit       malloc(222), kept; malloc(333) + free
 *   destructor   malloc(444), kept
 * 4 allocations, 1110 bytes, 1 free, 3 leaked blocks (777 B).
 */
#include <stdlib.h>

void *volatile kept[4];

__attribute__((noinline)) static void at_exit_handler(void)
{
	kept[1] = malloc(222);
	void *p = malloc(333);
	kept[2] = p;
	free(p);
}

__attribute__((constructor)) static void before_main(void)
{
	kept[0] = malloc(111);
	atexit(at_exit_handler);
}

__attribute__((destructor)) static void after_exit(void)
{
	kept[3] = malloc(444);
}

int main(void)
{
	return kept[0] ? 0 : 1;
}
