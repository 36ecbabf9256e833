/*
 * Known answer for a run's process tree, three generations deep:
 *
 *   run_tree OUTDIR                 (generation 1) burns, forks A, waits
 *     A: fork of generation 1       execs itself as "run_tree stage2 OUTDIR"
 *     > run_tree stage2             (generation 2, A's pid) burns, then
 *                                   fork + exec of /bin/sh running a pipeline
 *         > sh -c 'echo x | tr x y | cat'   (generation 3) and its children
 *
 * Each run_tree image burns BURN_MS of CPU and writes the CPU time it used
 * (CLOCK_PROCESS_CPUTIME_ID, ms) to OUTDIR/cpu.<pid>.<stage>.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BURN_MS 150

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

volatile unsigned long sink;

__attribute__((noinline)) void burn(void)
{
	double start = cpu_ms();
	while (cpu_ms() - start < BURN_MS)
		for (int i = 0; i < 10000; i++)
			sink += (unsigned long)i * i;
}

static void report(const char *dir, const char *stage)
{
	char path[512], line[64];
	snprintf(path, sizeof(path), "%s/cpu.%d.%s", dir, (int)getpid(), stage);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int n = snprintf(line, sizeof(line), "%.1f\n", cpu_ms());
	if (fd >= 0 && write(fd, line, (size_t)n) != n)
		_exit(5);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "stage2")) {
		burn();
		pid_t c = fork();
		if (c == 0) {
			execl("/bin/sh", "sh", "-c", "echo x | tr x y | cat >/dev/null",
			      (char *)NULL);
			_exit(127);
		}
		int st;
		waitpid(c, &st, 0);
		report(argv[2], "stage2");
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	if (argc < 2)
		return 2;
	burn();
	pid_t a = fork();
	if (a == 0) {
		execl("/proc/self/exe", "run_tree", "stage2", argv[1], (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(a, &st, 0);
	report(argv[1], "main");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
