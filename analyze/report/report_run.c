/*
 * Reports of a whole run (a run directory): the process tree, CPU by
 * command and by command and function, as text and JSON; the merged CPU
 * tree as folded stacks with a root per command; the wrapper's one line.
 */
#define _GNU_SOURCE
#include "report_run.h"
#include "stack_tree.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "out_folded.h"

/* --- figures over the merged tree --- */

struct cmd_row {
	const char *command;
	size_t processes;
	double cpu_ms, wall_ms;
	uint64_t allocs, calls;
	bool has_io;
	uint64_t io_read, io_written;
};

static int by_cpu_desc(const void *a, const void *b)
{
	double x = ((const struct cmd_row *)a)->cpu_ms, y = ((const struct cmd_row *)b)->cpu_ms;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* One row per command over the selected processes, most CPU first. */
static struct cmd_row *command_rows(const struct pa_run *r, size_t *n)
{
	struct cmd_row *rows = pa_xcalloc(r->procs.len + 1, sizeof(*rows));
	*n = 0;
	for (size_t i = 0; i < r->procs.len; i++) {
		const struct pa_run_proc *p = pa_run_at(r, i);
		if (!p->selected)
			continue;
		size_t k = 0;
		while (k < *n && strcmp(rows[k].command, p->command))
			k++;
		if (k == *n)
			rows[(*n)++].command = p->command;
		rows[k].processes++;
		rows[k].cpu_ms += p->cpu_ms;
		rows[k].wall_ms += p->wall_ms;
		rows[k].allocs += p->allocs;
		rows[k].calls += p->calls;
		rows[k].has_io |= p->has_io;
		rows[k].io_read += p->io_read;
		rows[k].io_written += p->io_written;
	}
	qsort(rows, *n, sizeof(*rows), by_cpu_desc);
	return rows;
}

struct func_row {
	uint32_t cmd_node;
	int32_t func;
	uint64_t self;
};

static int by_self_desc(const void *a, const void *b)
{
	uint64_t x = ((const struct func_row *)a)->self, y = ((const struct func_row *)b)->self;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* (command, function) pairs by self weight, most first. */
static struct func_row *function_rows(const struct cpu_model *m, size_t *n)
{
	struct pa_pairmap idx;
	pa_pairmap_init(&idx);
	struct pa_vec rows;
	pa_vec_init(&rows, sizeof(struct func_row));
	for (uint32_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *nd = cpu_node_at(m, i);
		if (!nd->self || nd->depth < 1)
			continue;
		uint32_t cmd = i;
		while (cpu_node_at(m, cmd)->depth > 1)
			cmd = cpu_node_at(m, cmd)->parent;
		uint32_t k = pa_pairmap_get(&idx, cmd, (uint64_t)(uint32_t)nd->func);
		if (!k) {
			struct func_row *fr = pa_vec_push(&rows);
			fr->cmd_node = cmd;
			fr->func = nd->func;
			k = (uint32_t)rows.len;
			pa_pairmap_put(&idx, cmd, (uint64_t)(uint32_t)nd->func, k);
		}
		((struct func_row *)pa_vec_at(&rows, k - 1))->self += nd->self;
	}
	pa_pairmap_free(&idx);
	if (rows.len)
		qsort(rows.items, rows.len, sizeof(struct func_row), by_self_desc);
	*n = rows.len;
	return rows.items;
}

static const char *func_name(const struct cpu_model *m, int32_t f)
{
	return f >= 0 ? cpu_func_at(m, f)->name : "(no frame)";
}

/* --- text --- */

static void fmt_ms(char *buf, size_t cap, bool known, double v)
{
	if (known)
		snprintf(buf, cap, "%.1f", v);
	else
		snprintf(buf, cap, "-");
}

static void text_tree(const struct pa_run *r, FILE *out)
{
	fprintf(out, "Processes (in the order they ran; '>' marks an exec)\n");
	fprintf(out, "  %-44s %8s %8s %11s %11s %11s %11s\n", "command", "pid", "parent", "wall ms",
		"CPU ms", "allocs", "calls");
	for (size_t k = 0; k < r->order.len; k++) {
		const struct pa_run_proc *p = pa_run_at(r, *(size_t *)pa_vec_at(&r->order, k));
		char label[512], wall[32], cpu[32];
		unsigned indent = p->depth * 2 > 20 ? 20 : p->depth * 2;
		snprintf(label, sizeof(label), "%*s%s%s", (int)indent, "", p->prev >= 0 ? "> " : "",
			 p->cmdline);
		if (strlen(label) > 44)
			strcpy(label + 41, "...");
		fmt_ms(wall, sizeof(wall), p->analyzed, p->wall_ms);
		fmt_ms(cpu, sizeof(cpu), p->has_cpu, p->cpu_ms);
		uint32_t parent = 0;
		const struct pa_run_proc *head = p;
		while (head->prev >= 0)
			head = pa_run_at(r, (size_t)head->prev);
		parent = head->parent >= 0 ? pa_run_at(r, (size_t)head->parent)->pid : p->ppid;
		fprintf(out, "  %-44s %8u %8u %11s %11s %11" PRIu64 " %11" PRIu64 "%s\n", label,
			p->pid, parent, wall, cpu, p->allocs, p->calls,
			!p->ended ? "  (did not end normally)" : "");
	}
}

/* Bytes moved by the io recorder's calls, for the commands recorded with
 * it (the rest of the I/O figures are per process: --pid, --comm). */
static void io_by_command(const struct cmd_row *rows, size_t n, FILE *out)
{
	bool any = false;
	for (size_t i = 0; i < n; i++)
		any |= rows[i].has_io;
	if (!any)
		return;
	fprintf(out, "\nI/O by command (bytes; details per process: --pid=N, --comm=NAME)\n");
	fprintf(out, "  %-24s %15s %15s\n", "command", "read", "written");
	for (size_t i = 0; i < n; i++)
		if (rows[i].has_io)
			fprintf(out, "  %-24s %15" PRIu64 " %15" PRIu64 "\n", rows[i].command,
				rows[i].io_read, rows[i].io_written);
}

void pa_run_write_text(const struct pa_run *r, const struct pa_run_cpu *rc, int top, FILE *out)
{
	size_t nsel = 0;
	for (size_t i = 0; i < r->procs.len; i++)
		nsel += pa_run_at(r, i)->selected;
	fprintf(out, "profshim run: %s (%zu processes%s)\n\n", r->dir, r->procs.len,
		nsel == r->procs.len ? "" : ", figures for the selected ones");
	text_tree(r, out);
	size_t nc;
	struct cmd_row *rows = command_rows(r, &nc);
	fprintf(out, "\nBy command\n  %-24s %9s %11s %11s %11s %11s\n", "command", "processes",
		"CPU ms", "wall ms", "allocs", "calls");
	for (size_t i = 0; i < nc; i++)
		fprintf(out, "  %-24s %9zu %11.1f %11.1f %11" PRIu64 " %11" PRIu64 "\n",
			rows[i].command, rows[i].processes, rows[i].cpu_ms, rows[i].wall_ms,
			rows[i].allocs, rows[i].calls);
	io_by_command(rows, nc, out);
	free(rows);
	const struct cpu_model *m = rc->m;
	if (!m->weight)
		return;
	size_t nf;
	struct func_row *fr = function_rows(m, &nf);
	fprintf(out, "\nCPU by command and function (self time, all selected processes)\n");
	fprintf(out, "  %11s %7s  %-16s %s\n", "CPU ms", "share", "command", "function");
	for (size_t i = 0; i < nf && i < (size_t)top; i++)
		fprintf(out, "  %11.1f %6.1f%%  %-16s %s\n", (double)fr[i].self * m->period_s * 1e3,
			100.0 * (double)fr[i].self / (double)m->weight,
			func_name(m, cpu_node_at(m, fr[i].cmd_node)->func),
			func_name(m, fr[i].func));
	if (nf > (size_t)top)
		fprintf(out, "  ... %zu more (--top=N)\n", nf - (size_t)top);
	free(fr);
}

/* --- JSON --- */

void pa_run_write_json(const struct pa_run *r, const struct pa_run_cpu *rc, FILE *out)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *run = cJSON_AddObjectToObject(root, "run");
	cJSON_AddStringToObject(run, "directory", r->dir);
	cJSON *procs = cJSON_AddArrayToObject(run, "processes");
	uint64_t dropped = 0;
	for (size_t k = 0; k < r->order.len; k++) {
		size_t i = *(size_t *)pa_vec_at(&r->order, k);
		const struct pa_run_proc *p = pa_run_at(r, i);
		const struct pa_run_proc *head = p;
		while (head->prev >= 0)
			head = pa_run_at(r, (size_t)head->prev);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "file", p->file);
		cJSON_AddStringToObject(o, "command", p->command);
		cJSON_AddStringToObject(o, "command_line", p->cmdline);
		cJSON_AddNumberToObject(o, "pid", p->pid);
		cJSON_AddNumberToObject(o, "ppid", p->ppid);
		cJSON_AddNumberToObject(o, "parent_pid",
					head->parent >= 0 ? pa_run_at(r, (size_t)head->parent)->pid
							  : p->ppid);
		if (head->parent >= 0)
			cJSON_AddStringToObject(o, "parent_file",
						pa_run_at(r, (size_t)head->parent)->file);
		if (p->prev >= 0)
			cJSON_AddStringToObject(o, "exec_from",
						pa_run_at(r, (size_t)p->prev)->file);
		cJSON_AddNumberToObject(o, "exec_index", p->exec_index);
		cJSON_AddNumberToObject(o, "depth", p->depth);
		cJSON_AddBoolToObject(o, "selected", p->selected);
		cJSON_AddBoolToObject(o, "ended_normally", p->ended);
		if (p->analyzed) {
			cJSON_AddNumberToObject(o, "wall_ms", p->wall_ms);
			if (p->has_cpu)
				cJSON_AddNumberToObject(o, "cpu_ms", p->cpu_ms);
			cJSON_AddNumberToObject(o, "allocations", (double)p->allocs);
			cJSON_AddNumberToObject(o, "calls", (double)p->calls);
			cJSON_AddNumberToObject(o, "dropped", (double)p->dropped);
			if (p->has_io) {
				cJSON_AddNumberToObject(o, "io_bytes_read", (double)p->io_read);
				cJSON_AddNumberToObject(o, "io_bytes_written",
							(double)p->io_written);
			}
		}
		dropped += p->dropped;
		cJSON_AddItemToArray(procs, o);
	}
	size_t nc;
	struct cmd_row *rows = command_rows(r, &nc);
	cJSON *cmds = cJSON_AddArrayToObject(run, "by_command");
	for (size_t i = 0; i < nc; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "command", rows[i].command);
		cJSON_AddNumberToObject(o, "processes", (double)rows[i].processes);
		cJSON_AddNumberToObject(o, "cpu_ms", rows[i].cpu_ms);
		cJSON_AddNumberToObject(o, "wall_ms", rows[i].wall_ms);
		cJSON_AddNumberToObject(o, "allocations", (double)rows[i].allocs);
		cJSON_AddNumberToObject(o, "calls", (double)rows[i].calls);
		if (rows[i].has_io) {
			cJSON_AddNumberToObject(o, "io_bytes_read", (double)rows[i].io_read);
			cJSON_AddNumberToObject(o, "io_bytes_written", (double)rows[i].io_written);
		}
		cJSON_AddItemToArray(cmds, o);
	}
	free(rows);
	const struct cpu_model *m = rc->m;
	cJSON_AddNumberToObject(run, "cpu_ms", (double)m->weight * m->period_s * 1e3);
	size_t nf;
	struct func_row *fr = function_rows(m, &nf);
	cJSON *funcs = cJSON_AddArrayToObject(run, "cpu_by_function");
	for (size_t i = 0; i < nf; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "command",
					func_name(m, cpu_node_at(m, fr[i].cmd_node)->func));
		cJSON_AddStringToObject(o, "function", func_name(m, fr[i].func));
		cJSON_AddNumberToObject(o, "cpu_ms", (double)fr[i].self * m->period_s * 1e3);
		cJSON_AddNumberToObject(o, "samples", (double)fr[i].self);
		cJSON_AddItemToArray(funcs, o);
	}
	free(fr);
	cJSON_AddNumberToObject(run, "dropped", (double)dropped);
	cJSON *warn = cJSON_AddArrayToObject(run, "warnings");
	for (size_t i = 0; i < r->warnings.len; i++)
		cJSON_AddItemToArray(warn,
				     cJSON_CreateString(*(char **)pa_vec_at(&r->warnings, i)));
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (text) {
		fputs(text, out);
		fputc('\n', out);
		free(text);
	}
}

/* --- folded: command;outer;...;leaf weight --- */

/* Every stack with self weight, outermost frame (the command) first. */
static void each_stack(const struct pa_run_cpu *rc,
		       void (*fn)(const struct pa_frame **chain, int n, uint64_t w, void *ctx),
		       void *ctx)
{
	const struct cpu_model *m = rc->m;
	const struct pa_frame **chain = pa_xcalloc(4097, sizeof(*chain));
	for (uint32_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, i);
		if (!n->self || n->depth > 4096)
			continue;
		const struct cpu_node *x = n;
		for (int k = (int)n->depth - 1; k >= 0; k--) {
			chain[k] = &m->frames[x->func];
			x = cpu_node_at(m, x->parent);
		}
		fn(chain, (int)n->depth, n->self, ctx);
	}
	free(chain);
}

static void folded_line(const struct pa_frame **chain, int n, uint64_t w, void *ctx)
{
	pa_folded_line(ctx, chain, n, w);
}

void pa_run_write_folded(const struct pa_run_cpu *rc, FILE *out)
{
	each_stack(rc, folded_line, out);
}

static void tree_add(const struct pa_frame **chain, int n, uint64_t w, void *ctx)
{
	st_add(ctx, chain, n, (double)w);
}

void pa_run_stack_tree(const struct pa_run_cpu *rc, struct stack_tree *t)
{
	const struct cpu_model *m = rc->m;
	st_init(t, PA_DATA_CPU);
	each_stack(rc, tree_add, t);
	st_finish(t);
	t->unit = "samples";
	t->what = "CPU";
	t->unit_scale = m->period_s;
	snprintf(t->title, sizeof(t->title), "CPU samples of every process, by command");
}

/* --- the wrapper's summary line --- */

void pa_run_write_line(const struct pa_run *r, FILE *out)
{
	const struct pa_run_proc *most = NULL;
	uint64_t dropped = 0;
	for (size_t i = 0; i < r->procs.len; i++) {
		const struct pa_run_proc *p = pa_run_at(r, i);
		dropped += p->dropped;
		if (p->has_cpu && (!most || p->cpu_ms > most->cpu_ms))
			most = p;
	}
	fprintf(out, "%zu process%s", r->procs.len, r->procs.len == 1 ? "" : "es");
	if (most && r->procs.len > 1)
		fprintf(out, "; most CPU: %s (pid %u, %.1f ms)", most->command, most->pid,
			most->cpu_ms);
	fputc('\n', out);
	if (dropped)
		fprintf(out,
			"warning: %" PRIu64 " events could not be written and are missing "
			"(see the report's dropped counts)\n",
			dropped);
}
