/* Known calls around a failed exec: the shim writes what the thread holds
 * before an exec (and closes sampling mode's fast paths); when the exec
 * fails the program goes on and every call must still be counted.
 *
 * Calls: 3,000 x (malloc(64) + free), an execv of a file that does not
 * exist (fails: ENOENT), 2,000 x (realloc(NULL, 64) + free). Prints
 * "exec_failed=1". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int churn(int n, int use_realloc)
{
	for (int i = 0; i < n; i++) {
		volatile char *b = use_realloc ? realloc(NULL, 64) : malloc(64);
		if (!b)
			return 1;
		b[0] = 1;
		free((void *)b);
	}
	return 0;
}

int main(void)
{
	if (churn(3000, 0))
		return 1;
	char *args[] = {"/nonexistent/profshim-test", NULL};
	execv(args[0], args);
	int failed = errno == ENOENT;
	if (churn(2000, 1))
		return 1;
	printf("exec_failed=%d\n", failed);
	return 0;
}
