/*
 * One run, one place: where a process's files go when PROFSHIM_OUTPUT names
 * a directory, how each process is linked to its parent and to the image
 * it replaced (RUN_LINK), its final command line (PROCESS_CMDLINE), and
 * trimming the files an exec'd image left behind.
 *
 * The exec link travels in the environment of the exec (PROFSHIM_EXEC_FROM
 * = "<pid>:<exec index>:<process file>"): the new image takes it only when
 * the pid is its own, so a child that inherits the variable ignores it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#define EXEC_FROM "PROFSHIM_EXEC_FROM="

static char parent_file[PATH_MAX];   /* process file of the forking parent */
static char previous_file[PATH_MAX]; /* process file of the image exec replaced */
static unsigned exec_index;	     /* 0 = first image of this pid in the run */
static char exec_env[PATH_MAX + 64]; /* PROFSHIM_EXEC_FROM=... for the next exec */
/* The program's name as it started: programs that retitle themselves
 * (nginx, postgres) overwrite the argv memory program_invocation_short_name
 * points into before they fork their workers. */
static char program[64];

/* --- run directories --- */

bool ps_run_is_dir(const char *pattern)
{
	size_t n = strlen(pattern);
	if (n && pattern[n - 1] == '/')
		return true;
	struct stat st;
	return n && !strchr(pattern, '%') && stat(pattern, &st) == 0 && S_ISDIR(st.st_mode);
}

static size_t put(char *dst, size_t n, size_t cap, const char *src)
{
	size_t len = strlen(src);
	if (n + len >= cap)
		len = n < cap ? cap - n - 1 : 0;
	memcpy(dst + n, src, len);
	dst[n + len] = 0;
	return n + len;
}

/* Candidate i for this process's file in run directory dir (absolute):
 * "<dir>/<program>.<pid>.trace", then "<program>.<pid>.<i>.trace". The
 * directory is made when missing (one level, as `mkdir`). */
void ps_run_candidate(const char *dir, unsigned i, char *out, size_t cap)
{
	char num[24];
	if (i == 0)
		mkdir(dir, 0755); /* EEXIST is the usual answer */
	size_t n = put(out, 0, cap, dir);
	if (n && out[n - 1] != '/')
		n = put(out, n, cap, "/");
	n = put(out, n, cap, program[0] ? program : "process");
	n = put(out, n, cap, ".");
	ps_u64_to_str(num, (uint64_t)ps_pid);
	n = put(out, n, cap, num);
	if (i) {
		ps_u64_to_str(num, i);
		n = put(out, n, cap, ".");
		n = put(out, n, cap, num);
	}
	put(out, n, cap, ".trace");
}

/* --- links between the processes of a run --- */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Take the exec link from the environment when it is ours (same pid). */
static void take_exec_link(void)
{
	const char *v = getenv("PROFSHIM_EXEC_FROM");
	previous_file[0] = 0;
	exec_index = 0;
	if (!v)
		return;
	char *end;
	unsigned long pid = strtoul(v, &end, 10);
	if (*end != ':' || pid != (unsigned long)ps_pid)
		return;
	unsigned long idx = strtoul(end + 1, &end, 10);
	if (*end != ':' || strlen(end + 1) >= sizeof(previous_file))
		return;
	strcpy(previous_file, end + 1);
	exec_index = (unsigned)idx + 1;
}

/* program_invocation_short_name, usable in a file name. */
static void save_program_name(void)
{
	const char *p = program_invocation_short_name;
	size_t n = 0;
	for (; p && p[n] && n < sizeof(program) - 1; n++)
		program[n] = p[n] == '/' || p[n] == ' ' ? '_' : p[n];
	program[n] = 0;
}

void ps_run_at_start(void)
{
	save_program_name();
	take_exec_link();
}

void ps_run_fork_child(const char *parent_path)
{
	size_t n = strlen(parent_path);
	if (n >= sizeof(parent_file))
		n = 0;
	memcpy(parent_file, parent_path, n);
	parent_file[n] = 0;
	previous_file[0] = 0;
	exec_index = 0;
}

void ps_run_record_link(void)
{
	uint8_t buf[2 * PATH_MAX + 32], *p = buf;
	const char *par = parent_file[0] ? base_name(parent_file) : "";
	const char *prev = previous_file[0] ? base_name(previous_file) : "";
	p = pst_put_str(p, par, strlen(par));
	p = pst_put_str(p, prev, strlen(prev));
	p = pst_put_varint(p, exec_index);
	ps_process_ext(PST_X_RUN_LINK, buf, (size_t)(p - buf));
}

/* The thread files an exec'd image left: nothing writes them any more (the
 * old image is gone), so cut each to its data. The exec'ing thread's own
 * file and the process file were cut before the exec; files of threads
 * that were still running were not. */
static void trim_previous_image(void)
{
	char path[PATH_MAX + 32], num[24];
	size_t n = strlen(previous_file);
	if (!n || n + 24 >= sizeof(path))
		return;
	for (unsigned seq = 1; seq < 100000; seq++) {
		memcpy(path, previous_file, n);
		memcpy(path + n, ".t", 2);
		ps_u64_to_str(num, seq);
		strcpy(path + n + 2, num);
		int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			/* the first thread's file is made lazily: maybe never */
			if (errno == ENOENT && seq > 1)
				break;
			continue;
		}
		struct pst_file_header h;
		struct stat st;
		if (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		    !memcmp(h.magic, PST_MAGIC_THREAD, PST_MAGIC_LEN) && fstat(fd, &st) == 0 &&
		    h.committed < (uint64_t)st.st_size &&
		    (uint64_t)st.st_size > PST_DATA_OFFSET + h.committed)
			if (ftruncate(fd, (off_t)(PST_DATA_OFFSET + h.committed)) != 0) {
				/* readers stop at committed; profanalyze tries again */
			}
		close(fd);
	}
}

void ps_run_after_start(void)
{
	trim_previous_image();
}

const char *ps_run_exec_env(void)
{
	char num[24];
	size_t n = put(exec_env, 0, sizeof(exec_env), EXEC_FROM);
	ps_u64_to_str(num, (uint64_t)ps_pid);
	n = put(exec_env, n, sizeof(exec_env), num);
	n = put(exec_env, n, sizeof(exec_env), ":");
	ps_u64_to_str(num, exec_index);
	n = put(exec_env, n, sizeof(exec_env), num);
	n = put(exec_env, n, sizeof(exec_env), ":");
	put(exec_env, n, sizeof(exec_env), ps_process_path);
	return exec_env;
}

bool ps_run_is_exec_env(const char *entry)
{
	return !strncmp(entry, EXEC_FROM, sizeof(EXEC_FROM) - 1);
}

/* --- the command line: at start, and at the end --- */

/*
 * /proc/self/cmdline is the process's argv area, read by the kernel (on
 * into the environment when its last byte is no NUL any more: that is how
 * setproctitle makes room). The shim's constructor gets argv: the area is
 * copied from memory at start instead of opening /proc, and at the end it
 * is read again only when its bytes changed. A program that moves its
 * area elsewhere (prctl PR_SET_MM_ARG_START, privileged; systemd does it)
 * keeps its first command line in the trace.
 */
static const char *argv_area; /* NULL: not known, /proc is read */
static size_t argv_len;
static char start_args[8192];
static size_t start_alen;
static bool start_is_area; /* start_args is the area's bytes at start */

void ps_run_note_argv(int argc, char **argv)
{
	if (argc <= 0 || !argv || !argv[0])
		return;
	const char *end = argv[0];
	for (int i = 0; i < argc; i++) {
		if (argv[i] != end)
			return; /* not the kernel's layout any more: /proc */
		end += strlen(argv[i]) + 1;
	}
	argv_area = argv[0];
	argv_len = (size_t)(end - argv[0]);
}

static size_t read_cmdline(char *buf, size_t cap)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t n = 0;
	ssize_t r;
	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)r;
	close(fd);
	return n;
}

static bool area_is_cmdline(void)
{
	return argv_area && argv_len <= sizeof(start_args) && argv_area[argv_len - 1] == 0;
}

const char *ps_run_start_cmdline(size_t *len)
{
	start_is_area = area_is_cmdline();
	if (start_is_area) {
		memcpy(start_args, argv_area, argv_len);
		start_alen = argv_len;
	} else {
		start_alen = read_cmdline(start_args, sizeof(start_args));
	}
	*len = start_alen;
	return start_args;
}

static bool cmdline_unchanged(void)
{
	return start_is_area && area_is_cmdline() && argv_len == start_alen &&
	       memcmp(argv_area, start_args, argv_len) == 0;
}

/* argv as the process shows it now (nginx workers, postgres backends and
 * others rewrite theirs after fork): written at the process's end, read
 * from /proc/self/cmdline (readable after a privilege drop too). */
void ps_run_record_cmdline(void)
{
	static uint8_t buf[PST_MAX_RECORD - 64];
	static char args[8192]; /* at most 4 bytes of record per byte: fits buf */
	if (cmdline_unchanged())
		return; /* PROCESS_INFO's command line is the final one */
	/* no /proc (a chroot): the start-up command line stays */
	size_t alen = read_cmdline(args, sizeof(args));
	while (alen && args[alen - 1] == 0) /* padding after a shortened title */
		alen--;
	if (!alen)
		return;
	unsigned argc = 1;
	for (size_t i = 0; i < alen; i++)
		argc += args[i] == 0;
	uint8_t *p = pst_put_varint(buf, argc);
	for (size_t i = 0; argc--;) {
		size_t len = strnlen(args + i, alen - i);
		p = pst_put_str(p, args + i, len);
		i += len + 1;
	}
	ps_process_ext(PST_X_PROCESS_CMDLINE, buf, (size_t)(p - buf));
}
