/* A run directory and its process tree: see run.h. */
#define _GNU_SOURCE
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool pa_is_run_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void run_warn(struct pa_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_warn(struct pa_run *r, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg)
		*(char **)pa_vec_push(&r->warnings) = msg;
}

/* Does the file start with the process file magic? */
static bool is_process_file(const char *path)
{
	char magic[PST_MAGIC_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	struct stat st;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		  read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
		  !memcmp(magic, PST_MAGIC_PROCESS, PST_MAGIC_LEN);
	close(fd);
	return ok;
}

static char *join_args(const struct pa_session *s)
{
	size_t len = 1;
	for (int i = 0; i < s->argc; i++)
		len += strlen(s->argv[i]) + 1;
	char *out = pa_xmalloc(len);
	out[0] = 0;
	for (int i = 0; i < s->argc; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, s->argv[i]);
	}
	if (!s->argc && s->exe) {
		free(out);
		out = pa_xstrdup(s->exe);
	}
	return out;
}

static void add_process(struct pa_run *r, const char *path, const char *name)
{
	struct pa_session s;
	struct pa_error err;
	if (pa_session_open(&s, path, &err)) {
		run_warn(r, "%s: left out of the run: %s", name, err.msg);
		pa_session_close(&s);
		return;
	}
	struct pa_run_proc *p = pa_vec_push(&r->procs);
	p->path = pa_xstrdup(path);
	p->file = pa_xstrdup(name);
	p->command = pa_xstrdup(s.command ? s.command : "?");
	p->cmdline = join_args(&s);
	p->pid = s.pid;
	p->ppid = s.ppid;
	p->start_ns = s.start_mono_ns;
	p->end_ns = s.ended ? s.end_mono_ns : 0;
	p->ended = s.ended;
	p->end_reason = s.end_reason;
	p->end_status = (int)s.end_status;
	p->exec_index = s.exec_index;
	p->parent = p->prev = p->next = -1;
	p->wall_ms = s.ended && s.end_mono_ns > s.start_mono_ns
			 ? (double)(s.end_mono_ns - s.start_mono_ns) / 1e6
			 : 0;
	/* links by file name, resolved once every process is read */
	char *links[2] = {s.parent_file ? pa_xstrdup(s.parent_file) : NULL,
			  s.previous_file ? pa_xstrdup(s.previous_file) : NULL};
	*(char **)pa_vec_push(&r->links) = links[0];
	*(char **)pa_vec_push(&r->links) = links[1];
	pa_session_close(&s);
}

static long find_file(const struct pa_run *r, const char *name)
{
	for (size_t i = 0; name && i < r->procs.len; i++)
		if (!strcmp(pa_run_at(r, i)->file, name))
			return (long)i;
	return -1;
}

/* The image of pid that was running at time t (started last before it). */
static long image_at(const struct pa_run *r, uint32_t pid, uint64_t t, size_t self)
{
	long best = -1;
	for (size_t i = 0; i < r->procs.len; i++) {
		const struct pa_run_proc *p = pa_run_at(r, i);
		if (i == self || p->pid != pid || p->start_ns > t)
			continue;
		if (p->ended && p->end_ns < t && p->end_reason != PST_END_EXEC)
			continue; /* had ended before */
		if (best < 0 || p->start_ns > pa_run_at(r, (size_t)best)->start_ns)
			best = (long)i;
	}
	return best;
}

static void link_exec_chains(struct pa_run *r)
{
	for (size_t i = 0; i < r->procs.len; i++) {
		struct pa_run_proc *p = pa_run_at(r, i);
		long prev = find_file(r, *(char **)pa_vec_at(&r->links, 2 * i + 1));
		if (prev < 0 && p->exec_index > 0) {
			/* the replaced image wrote elsewhere or is gone: same pid,
			 * ended by exec, started before */
			long c = image_at(r, p->pid, p->start_ns, i);
			if (c >= 0 && pa_run_at(r, (size_t)c)->end_reason == PST_END_EXEC)
				prev = c;
		}
		/* never a cycle: i must not already precede prev */
		for (long x = prev; x >= 0; x = pa_run_at(r, (size_t)x)->prev)
			if ((size_t)x == i) {
				prev = -1;
				break;
			}
		if (prev >= 0 && pa_run_at(r, (size_t)prev)->next < 0) {
			p->prev = prev;
			pa_run_at(r, (size_t)prev)->next = (long)i;
		}
	}
}

/* An image that ended by exec with no next image: the program it ran was
 * not recorded (LD_PRELOAD dropped: a setuid program, an env -u; or no
 * trace file could be made, e.g. after a privilege drop). Not silently. */
static void warn_unrecorded_execs(struct pa_run *r)
{
	for (size_t i = 0; i < r->procs.len; i++) {
		const struct pa_run_proc *p = pa_run_at(r, i);
		if (p->ended && p->end_reason == PST_END_EXEC && p->next < 0)
			run_warn(r,
				 "%s: pid %u exec'd a program that left no trace in this run "
				 "(not recorded: the shim was not loaded, or it could not "
				 "create its file, e.g. after a privilege drop)",
				 p->file, p->pid);
	}
}

static void link_parents(struct pa_run *r)
{
	for (size_t i = 0; i < r->procs.len; i++) {
		struct pa_run_proc *p = pa_run_at(r, i);
		if (p->prev >= 0)
			continue; /* images after an exec hang below the first one */
		long par = find_file(r, *(char **)pa_vec_at(&r->links, 2 * i));
		if (par < 0)
			par = image_at(r, p->ppid, p->start_ns, i);
		if (par >= 0 && (size_t)par != i)
			p->parent = par;
	}
	/* A cycle (bad data, pid reuse) would hang the walk: cut it. */
	for (size_t i = 0; i < r->procs.len; i++) {
		long x = pa_run_at(r, i)->parent;
		for (size_t steps = 0; x >= 0; steps++) {
			if (steps > r->procs.len) {
				pa_run_at(r, i)->parent = -1;
				break;
			}
			struct pa_run_proc *q = pa_run_at(r, (size_t)x);
			while (q->prev >= 0)
				q = pa_run_at(r, (size_t)q->prev);
			x = q->parent;
		}
	}
}

static struct pa_run *sort_run; /* qsort has no context argument */
static int by_start(const void *a, const void *b)
{
	const struct pa_run_proc *x = pa_run_at(sort_run, *(const size_t *)a);
	const struct pa_run_proc *y = pa_run_at(sort_run, *(const size_t *)b);
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Children of image i, by start time. */
static void add_subtree(struct pa_run *r, size_t head, unsigned depth, size_t *sorted)
{
	for (long img = (long)head; img >= 0; img = pa_run_at(r, (size_t)img)->next) {
		struct pa_run_proc *p = pa_run_at(r, (size_t)img);
		p->depth = depth;
		*(size_t *)pa_vec_push(&r->order) = (size_t)img;
		for (size_t k = 0; k < r->procs.len; k++) {
			size_t c = sorted[k];
			if (pa_run_at(r, c)->parent == img && r->order.len <= 4 * r->procs.len)
				add_subtree(r, c, depth + 1, sorted);
		}
	}
}

static void build_order(struct pa_run *r)
{
	size_t n = r->procs.len;
	size_t *sorted = pa_xcalloc(n ? n : 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		sorted[i] = i;
	sort_run = r;
	qsort(sorted, n, sizeof(size_t), by_start);
	for (size_t k = 0; k < n; k++) {
		struct pa_run_proc *p = pa_run_at(r, sorted[k]);
		if (p->prev < 0 && p->parent < 0)
			add_subtree(r, sorted[k], 0, sorted);
	}
	free(sorted);
}

int pa_run_open(struct pa_run *r, const char *dir, struct pa_error *err)
{
	memset(r, 0, sizeof(*r));
	r->dir = pa_xstrdup(dir);
	for (size_t n = strlen(r->dir); n > 1 && r->dir[n - 1] == '/';)
		r->dir[--n] = 0;
	pa_vec_init(&r->procs, sizeof(struct pa_run_proc));
	pa_vec_init(&r->order, sizeof(size_t));
	pa_vec_init(&r->warnings, sizeof(char *));
	pa_vec_init(&r->links, sizeof(char *));
	if (!pa_is_run_dir(dir)) {
		/* one process file: a run of one process */
		const char *slash = strrchr(dir, '/');
		add_process(r, dir, slash ? slash + 1 : dir);
		if (!r->procs.len) {
			snprintf(err->msg, sizeof(err->msg), "%s",
				 r->warnings.len ? *(char **)pa_vec_at(&r->warnings, 0) : dir);
			return -1;
		}
		build_order(r);
		return 0;
	}
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err->msg, sizeof(err->msg), "%s: cannot read the directory: %s", dir,
			 strerror(errno));
		return -1;
	}
	struct dirent *e;
	char path[8192];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", r->dir, e->d_name);
		if (is_process_file(path))
			add_process(r, path, e->d_name);
	}
	closedir(d);
	if (!r->procs.len) {
		snprintf(err->msg, sizeof(err->msg),
			 "%s: no profshim process file in this directory%s", dir,
			 r->warnings.len ? " that could be read" : "");
		return -1;
	}
	link_exec_chains(r);
	warn_unrecorded_execs(r);
	link_parents(r);
	build_order(r);
	return 0;
}

size_t pa_run_select(struct pa_run *r, long pid, const char *comm)
{
	size_t n = 0;
	for (size_t i = 0; i < r->procs.len; i++) {
		struct pa_run_proc *p = pa_run_at(r, i);
		p->selected =
		    (pid < 0 || p->pid == (uint32_t)pid) && (!comm || !strcmp(p->command, comm));
		n += p->selected;
	}
	return n;
}

void pa_run_close(struct pa_run *r)
{
	for (size_t i = 0; i < r->procs.len; i++) {
		struct pa_run_proc *p = pa_run_at(r, i);
		free(p->path);
		free(p->file);
		free(p->command);
		free(p->cmdline);
	}
	for (size_t i = 0; i < r->links.len; i++)
		free(*(char **)pa_vec_at(&r->links, i));
	for (size_t i = 0; i < r->warnings.len; i++)
		free(*(char **)pa_vec_at(&r->warnings, i));
	pa_vec_free(&r->procs);
	pa_vec_free(&r->order);
	pa_vec_free(&r->warnings);
	pa_vec_free(&r->links);
	free(r->dir);
}
