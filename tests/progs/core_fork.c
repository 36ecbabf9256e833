/* Known answer: the parent records 3 markers, forks, the child records 5
 * and prints its pid, the parent then records 2 more: 5 in each process. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profshim.h"

int main(void)
{
	for (int i = 0; i < 3; i++)
		PROFSHIM_MARK("parent-before");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 5; i++)
			PROFSHIM_MARK("child");
		printf("child=%d\n", (int)getpid());
		return 0;
	}
	int status;
	waitpid(pid, &status, 0);
	for (int i = 0; i < 2; i++)
		PROFSHIM_MARK("parent-after");
	printf("parent=%d\n", (int)getpid());
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
