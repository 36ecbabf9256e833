/* Unit tests of run directories on the reading side: RUN_LINK and
 * PROCESS_CMDLINE records, bad ones refused with a message, and the process
 * tree a run directory forms (links by file, the ppid/time fallback, exec
 * chains, a cycle in bad data). Process files are made with the shim's
 * writer. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../preload/core/writer.c"
#include "run.h"
#include "session.h"
#include "unit.h"

static char dir[64];

static void ext(struct pw_stream *s, unsigned kind, const uint8_t *payload, size_t len)
{
	uint8_t *p = pw_reserve(s, len + 2 * PST_VARINT_MAX);
	p = pst_put_tag(p, kind, PST_K_EXT);
	p = pst_put_varint(p, len);
	memcpy(p, payload, len);
	pw_commit(s, p + len);
}

static uint8_t *str(uint8_t *p, const char *s)
{
	return pst_put_str(p, s, strlen(s));
}

struct proc {
	const char *file, *arg0;
	uint32_t pid, ppid;
	uint64_t start_ns, end_ns; /* end 0: no PROCESS_END */
	unsigned end_reason;
	const char *parent_file, *prev_file;
	unsigned exec_index;
	bool bad_link; /* a RUN_LINK whose string runs past its payload */
	const char *final_arg0;
};

static void write_proc(const struct proc *pr)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, pr->file);
	struct pw_stream s;
	CHECK(pw_open(&s, path, PST_MAGIC_PROCESS, pr->pid, pr->pid, 0, pr->start_ns, 256 * 1024) ==
	      0);
	uint8_t buf[512], *p = buf;
	p = pst_put_varint(p, pr->pid);
	p = pst_put_varint(p, pr->ppid);
	p = pst_put_varint(p, PST_CLOCK_MONOTONIC_NS);
	p = pst_put_varint(p, 1000000000000ull); /* 1e9 ticks per second, x1000 */
	p = pst_put_varint(p, pr->start_ns);
	p = pst_put_varint(p, pr->start_ns);
	p = pst_put_varint(p, pr->start_ns);
	p = pst_put_varint(p, 0);
	p = str(p, "/bin/x");
	p = pst_put_varint(p, 1);
	p = str(p, pr->arg0);
	ext(&s, PST_X_PROCESS_INFO, buf, (size_t)(p - buf));
	p = buf;
	if (pr->bad_link) {
		p = pst_put_varint(p, 200); /* a 200-byte string in 3 bytes */
		p = str(p, "x");
	} else {
		p = str(p, pr->parent_file ? pr->parent_file : "");
		p = str(p, pr->prev_file ? pr->prev_file : "");
		p = pst_put_varint(p, pr->exec_index);
	}
	ext(&s, PST_X_RUN_LINK, buf, (size_t)(p - buf));
	if (pr->final_arg0) {
		p = pst_put_varint(buf, 2);
		p = str(p, pr->final_arg0);
		p = str(p, "arg");
		ext(&s, PST_X_PROCESS_CMDLINE, buf, (size_t)(p - buf));
	}
	if (pr->end_ns) {
		p = pst_put_varint(buf, pr->end_ns);
		p = pst_put_varint(p, pr->end_ns);
		p = pst_put_varint(p, pr->end_ns);
		p = pst_put_varint(p, pr->end_reason);
		p = pst_put_varint(p, 0);
		ext(&s, PST_X_PROCESS_END, buf, (size_t)(p - buf));
	}
	pw_close(&s);
}

static void clear_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -f %s/*", dir);
	CHECK(system(cmd) == 0);
}

static long find(const struct pa_run *r, const char *file)
{
	for (size_t i = 0; i < r->procs.len; i++)
		if (!strcmp(pa_run_at(r, i)->file, file))
			return (long)i;
	return -1;
}

static void records_read(void)
{
	struct proc p = {.file = "a.1.trace",
			 .arg0 = "a",
			 .pid = 1,
			 .ppid = 0,
			 .start_ns = 1000,
			 .end_ns = 2000,
			 .parent_file = "up.trace",
			 .prev_file = "before.trace",
			 .exec_index = 3,
			 .final_arg0 = "a: worker"};
	write_proc(&p);
	struct pa_session s;
	struct pa_error err;
	CHECK(pa_session_open(&s, "/nonexistent", &err) != 0);
	pa_session_close(&s);
	char path[256];
	snprintf(path, sizeof(path), "%s/a.1.trace", dir);
	CHECK(pa_session_open(&s, path, &err) == 0);
	CHECK(s.has_run_link && s.exec_index == 3);
	CHECK(s.parent_file && !strcmp(s.parent_file, "up.trace"));
	CHECK(s.previous_file && !strcmp(s.previous_file, "before.trace"));
	CHECK(s.argc == 2 && !strcmp(s.argv[0], "a: worker") && !strcmp(s.argv[1], "arg"));
	CHECK(s.command && !strcmp(s.command, "a")); /* the first argv[0] names it */
	CHECK(s.end_mono_ns == 2000);
	pa_session_close(&s);

	struct proc bad = {
	    .file = "b.2.trace", .arg0 = "b", .pid = 2, .start_ns = 1, .bad_link = true};
	write_proc(&bad);
	snprintf(path, sizeof(path), "%s/b.2.trace", dir);
	CHECK(pa_session_open(&s, path, &err) != 0);
	CHECK(strstr(err.msg, "malformed run link") != NULL);
	pa_session_close(&s);

	/* A run with one readable and one broken process: the broken one is
	 * left out with a warning. */
	struct pa_run r;
	CHECK(pa_run_open(&r, dir, &err) == 0);
	CHECK(r.procs.len == 1 && r.warnings.len == 1);
	pa_run_close(&r);
	clear_dir();
}

static void tree_built(void)
{
	/* make(10) forks sh(11) which execs cc(11); cc spawns as(12) without
	 * a link (posix_spawn): its parent is the image of 11 running then. */
	struct proc procs[] = {
	    {.file = "make.10.trace",
	     .arg0 = "make",
	     .pid = 10,
	     .ppid = 1,
	     .start_ns = 100,
	     .end_ns = 900},
	    {.file = "sh.11.trace",
	     .arg0 = "sh",
	     .pid = 11,
	     .ppid = 10,
	     .start_ns = 200,
	     .end_ns = 300,
	     .end_reason = PST_END_EXEC,
	     .parent_file = "make.10.trace"},
	    {.file = "cc.11.trace",
	     .arg0 = "/usr/bin/cc",
	     .pid = 11,
	     .ppid = 10,
	     .start_ns = 300,
	     .end_ns = 800,
	     .prev_file = "sh.11.trace",
	     .exec_index = 1},
	    {.file = "as.12.trace",
	     .arg0 = "as",
	     .pid = 12,
	     .ppid = 11,
	     .start_ns = 400,
	     .end_ns = 500},
	    /* a stale process of pid 11 that ended before: never a parent */
	    {.file = "old.11.trace",
	     .arg0 = "old",
	     .pid = 11,
	     .ppid = 1,
	     .start_ns = 10,
	     .end_ns = 50},
	};
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		write_proc(&procs[i]);
	struct pa_run r;
	struct pa_error err;
	CHECK(pa_run_open(&r, dir, &err) == 0);
	CHECK(r.procs.len == 5 && r.order.len == 5);
	long mk = find(&r, "make.10.trace"), sh = find(&r, "sh.11.trace"),
	     cc = find(&r, "cc.11.trace"), as = find(&r, "as.12.trace");
	CHECK(pa_run_at(&r, (size_t)sh)->parent == mk);
	CHECK(pa_run_at(&r, (size_t)sh)->next == cc && pa_run_at(&r, (size_t)cc)->prev == sh);
	CHECK(pa_run_at(&r, (size_t)as)->parent == cc);
	CHECK(!strcmp(pa_run_at(&r, (size_t)cc)->command, "cc"));
	CHECK(pa_run_at(&r, (size_t)as)->depth == 2);
	/* run order: old, make, sh, cc, as */
	const char *want[] = {"old.11.trace", "make.10.trace", "sh.11.trace", "cc.11.trace",
			      "as.12.trace"};
	for (size_t k = 0; k < 5; k++)
		CHECK(!strcmp(pa_run_at(&r, *(size_t *)pa_vec_at(&r.order, k))->file, want[k]));
	CHECK(pa_run_select(&r, 11, NULL) == 3);
	CHECK(pa_run_select(&r, -1, "cc") == 1);
	CHECK(pa_run_select(&r, 12, "cc") == 0);
	pa_run_close(&r);
	clear_dir();
}

static void cycle_cut(void)
{
	/* Bad data: each image says it replaced the other. */
	struct proc procs[] = {
	    {.file = "x.5.trace",
	     .arg0 = "x",
	     .pid = 5,
	     .start_ns = 10,
	     .prev_file = "y.5.trace",
	     .exec_index = 1},
	    {.file = "y.5.trace",
	     .arg0 = "y",
	     .pid = 5,
	     .start_ns = 20,
	     .prev_file = "x.5.trace",
	     .exec_index = 1},
	};
	for (size_t i = 0; i < 2; i++)
		write_proc(&procs[i]);
	struct pa_run r;
	struct pa_error err;
	CHECK(pa_run_open(&r, dir, &err) == 0);
	CHECK(r.order.len == 2); /* both listed, once */
	pa_run_close(&r);
	clear_dir();
	CHECK(pa_run_open(&r, dir, &err) != 0); /* empty */
	CHECK(strstr(err.msg, "no profshim process file") != NULL);
	pa_run_close(&r);
}

/* The program's name from argv[0] (the exe is /bin/x): a retitled
 * process ("name: what it does ...") is named by the title's first word. */
static void program_names(void)
{
	static const char *const cases[][2] = {
	    {"nginx: master process nginx -c /etc/n/x.conf", "nginx"},
	    {"/usr/sbin/sshd: root@pts/0", "sshd"},
	    {"postgres: checkpointer", "postgres"},
	    {"/usr/bin/python3", "python3"},
	    {"-bash", "-bash"},
	    {"tool/", "tool"},
	    {"", "x"},
	    {": no name", "x"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proc p = {.file = "n.trace", .arg0 = cases[i][0], .pid = 5, .start_ns = 1};
		write_proc(&p);
		char path[256];
		snprintf(path, sizeof(path), "%s/n.trace", dir);
		struct pa_session s;
		struct pa_error err;
		CHECK(pa_session_open(&s, path, &err) == 0);
		CHECK(s.command && !strcmp(s.command, cases[i][1]));
		if (!s.command || strcmp(s.command, cases[i][1]))
			fprintf(stderr, "  argv[0] '%s': command '%s', expected '%s'\n",
				cases[i][0], s.command ? s.command : "(null)", cases[i][1]);
		pa_session_close(&s);
		clear_dir();
	}
}

int main(void)
{
	strcpy(dir, "/tmp/profshim-run.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	records_read();
	tree_built();
	cycle_cut();
	program_names();
	rmdir(dir);
	return UNIT_DONE();
}
