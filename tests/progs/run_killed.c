/* Known answer: forks a child that makes 500 allocations of 33 bytes and
 * then dies by SIGKILL (it writes no end-of-process counters); the parent
 * waits and exits 0 when the child was killed. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t c = fork();
	if (c == 0) {
		for (int i = 0; i < 500; i++) {
			void *volatile p = malloc(33);
			free(p);
		}
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	int st;
	waitpid(c, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : 1;
}
