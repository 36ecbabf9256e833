/*
 * Shared by the compressor thread's test programs (core_zthreads.c,
 * core_zraw.c): the threads of this process other than main, from
 * /proc/self/task, and how many of them are the shim's compressor
 * (named "profshim-z").
 */
#ifndef TASK_COUNT_H
#define TASK_COUNT_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void count_threads(int *others, int *compressors)
{
	char path[300], name[64];
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	*others = *compressors = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == getpid())
			continue;
		(*others)++;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (f && fgets(name, sizeof(name), f) && !strcmp(name, "profshim-z\n"))
			(*compressors)++;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
}

#endif
