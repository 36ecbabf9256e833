/* Known answer: records N markers (argv[2], default 100000) and then dies
 * the way argv[1] says: "kill" (SIGKILL), "segv" (SIGSEGV), "abort",
 * "_exit" (_exit(3)), or "exit" (a normal return). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profshim.h"

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "kill";
	int n = argc > 2 ? atoi(argv[2]) : 100000;
	for (int i = 0; i < n; i++)
		PROFSHIM_MARK("before-death");
	if (!strcmp(how, "exit"))
		return 0;
	if (!strcmp(how, "segv"))
		*(volatile int *)0 = 1;
	if (!strcmp(how, "abort"))
		abort();
	if (!strcmp(how, "_exit"))
		_exit(3);
	kill(getpid(), SIGKILL);
	return 0;
}
