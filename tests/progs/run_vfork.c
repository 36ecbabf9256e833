/* Known answer: marks "before", vfork()s a child that execs /bin/true,
 * waits, marks "after" 3 times and exits 0. The parent's trace must go on
 * after the child's exec (the child shares its memory). */
#include <sys/wait.h>
#include <unistd.h>

#include "profshim.h"

int main(void)
{
	PROFSHIM_MARK("before");
	pid_t c = vfork();
	if (c == 0) {
		execl("/bin/true", "true", (char *)0);
		_exit(127);
	}
	int st;
	waitpid(c, &st, 0);
	for (int i = 0; i < 3; i++)
		PROFSHIM_MARK("after");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
