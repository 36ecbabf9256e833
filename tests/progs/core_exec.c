/* Known answer: the first image records 2 markers and execs itself with
 * "again"; the second image records 4 markers and exits 0. */
#include <string.h>
#include <unistd.h>

#include "profshim.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "again")) {
		for (int i = 0; i < 4; i++)
			PROFSHIM_MARK("after-exec");
		return 0;
	}
	for (int i = 0; i < 2; i++)
		PROFSHIM_MARK("before-exec");
	char *args[] = {argv[0], "again", NULL};
	execv("/proc/self/exe", args);
	return 1;
}
