/* Known answer: retitles itself the way nginx does (writes over its argv
 * memory) to "run_title: master process run_title -c /etc/rt/ngx.conf",
 * forks a worker that retitles itself "run_title: worker process" and makes
 * 1000 allocations of 77 bytes, waits for it and exits 0. Both processes'
 * program name is "run_title". Run it with a long argument (room for the
 * titles); exits 2 when there is not enough. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *area;
static size_t area_len;

static int set_title(const char *title)
{
	if (strlen(title) >= area_len)
		return -1;
	memset(area, 0, area_len);
	strcpy(area, title);
	return 0;
}

int main(int argc, char **argv)
{
	area = argv[0];
	area_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) - argv[0]);
	if (set_title("run_title: master process run_title -c /etc/rt/ngx.conf"))
		return 2;
	pid_t c = fork();
	if (c == 0) {
		set_title("run_title: worker process");
		for (int i = 0; i < 1000; i++) {
			void *volatile p = malloc(77);
			free(p);
		}
		exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
