/* Known answer: N_MARKS markers from the main thread, then exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include "profshim.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	for (int i = 0; i < n; i++)
		PROFSHIM_MARK("tick");
	printf("active=%d\n", profshim_active());
	return 0;
}
