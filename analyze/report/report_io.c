/*
 * Reports of the io model: text sections and the JSON io_metrics object.
 * I/O by file and by peer, top call sites with stacks, slow calls,
 * waiting, lock contention, DNS, each thread's wall time split, spans and
 * counters.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "io_model.h"
#include "models.h"
#include "sample_model.h"
#include "symbols.h"

static double ms(double ns)
{
	return ns / 1e6;
}

static double avg_ns(const struct io_stat *st)
{
	return st->count ? st->total_ns / (double)st->count : 0;
}

static struct pa_thread *thread_at(const struct pa_session *s, size_t i)
{
	return *(struct pa_thread **)pa_vec_at(&s->threads, i);
}

static double session_secs(const struct pa_session *s)
{
	return pa_ticks_to_ns(s, pa_session_duration_ticks(s)) / 1e9;
}

/* Indices of n items sorted by a double key, descending. */
struct ranked {
	size_t i;
	double key;
};
static int cmp_ranked(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->key, y = ((const struct ranked *)b)->key;
	return x > y ? -1 : x < y;
}

/* Groups (files or peers) of class cls, by total time. */
static struct ranked *rank_groups(const struct io_model *m, enum io_class cls, size_t *n)
{
	struct ranked *r = pa_xcalloc(m->groups.len + 1, sizeof(*r));
	size_t k = 0;
	for (size_t i = 0; i < m->groups.len; i++) {
		const struct io_group *g = pa_vec_at(&m->groups, i);
		if (g->cls == cls && g->st.count)
			r[k++] = (struct ranked){i, g->st.total_ns};
	}
	qsort(r, k, sizeof(*r), cmp_ranked);
	*n = k;
	return r;
}

static void errors_text(const struct io_group *g, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	for (unsigned e = 1; e < IO_MAX_ERRNO; e++)
		if (g->errno_count[e]) {
			const char *name = strerrorname_np((int)e);
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s x%u",
					      n ? ", " : "", name ? name : "?", g->errno_count[e]);
		}
}

static void ops_text(const struct io_group *g, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	for (unsigned op = 1; op < IO_FD_OPS; op++)
		if (g->ops_by_op[op] && n < cap)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s %u", n ? ", " : "",
					      io_op_name(op), g->ops_by_op[op]);
}

static void groups_text(const struct pa_models *pm, FILE *out, enum io_class cls)
{
	const struct io_model *m = pm->io;
	size_t n;
	struct ranked *r = rank_groups(m, cls, &n);
	if (!n) {
		free(r);
		return;
	}
	fprintf(out, "\n%s\n", cls == IO_CLASS_NET ? "Network by peer" : "I/O by file");
	fprintf(out, "  %8s %12s %12s %10s %9s %9s %9s %9s %9s  %s\n", "calls", "bytes read",
		"bytes sent", "total ms", "avg ms", "p50 ms", "p95 ms", "p99 ms", "max ms",
		cls == IO_CLASS_NET ? "peer" : "file");
	for (size_t k = 0; k < n && k < (size_t)pm->o->top; k++) {
		const struct io_group *g = pa_vec_at(&m->groups, r[k].i);
		const struct io_stat *st = &g->st;
		fprintf(out,
			"  %8" PRIu64 " %12" PRIu64 " %12" PRIu64
			" %10.3f %9.4f %9.4f %9.4f %9.4f %9.4f  %s\n",
			st->count, g->bytes_read, g->bytes_written, ms(st->total_ns),
			ms(avg_ns(st)), ms(io_stat_pct(st, 50)), ms(io_stat_pct(st, 95)),
			ms(io_stat_pct(st, 99)), ms(st->max_ns), g->name);
		char buf[1024];
		ops_text(g, buf, sizeof(buf));
		fprintf(out, "  %8s ops: %s\n", "", buf);
		errors_text(g, buf, sizeof(buf));
		if (buf[0])
			fprintf(out, "  %8s errors: %s\n", "", buf);
	}
	free(r);
}

static void stack_text(const struct pa_models *pm, FILE *out, uint32_t stack, uint64_t ticks)
{
	struct pa_vec frames;
	pa_vec_init(&frames, sizeof(const struct pa_frame *));
	int n = pa_stack_frames(pm, stack, false, ticks, &frames);
	for (int i = n - 1, shown = 0; i >= 0 && shown < 8; i--, shown++) {
		const struct pa_frame *f = *(const struct pa_frame **)pa_vec_at(&frames, (size_t)i);
		if (f->file && f->line)
			fprintf(out, "      %s (%s:%d)\n", f->function, f->file, f->line);
		else
			fprintf(out, "      %s\n", f->function);
	}
	pa_vec_free(&frames);
}

static void sites_text(const struct pa_models *pm, FILE *out)
{
	const struct io_model *m = pm->io;
	struct ranked *r = pa_xcalloc(m->sites.len + 1, sizeof(*r));
	for (size_t i = 0; i < m->sites.len; i++)
		r[i] = (struct ranked){i, ((struct io_site *)pa_vec_at(&m->sites, i))->st.total_ns};
	qsort(r, m->sites.len, sizeof(*r), cmp_ranked);
	fprintf(out, "\nTop I/O and wait call sites by time\n");
	fprintf(out, "  %8s %10s %9s %9s  %-8s %s\n", "calls", "total ms", "avg ms", "max ms",
		"class", "site");
	char where[1024];
	for (size_t k = 0; k < m->sites.len && k < (size_t)pm->o->top; k++) {
		const struct io_site *st = pa_vec_at(&m->sites, r[k].i);
		fprintf(out, "  %8" PRIu64 " %10.3f %9.4f %9.4f  %-8s %s %s\n", st->st.count,
			ms(st->st.total_ns), ms(avg_ns(&st->st)), ms(st->st.max_ns),
			io_class_name(st->cls), st->op ? io_op_name(st->op) : "getaddrinfo",
			pa_describe_pc(pm, st->pc, true, 0, where, sizeof(where)));
		if (st->stack)
			stack_text(pm, out, st->stack, st->stack_ticks);
	}
	free(r);
}

static int cmp_slow(const void *a, const void *b)
{
	double x = ((const struct io_slow *)a)->dur_ns, y = ((const struct io_slow *)b)->dur_ns;
	return x > y ? -1 : x < y;
}

static void slow_text(const struct pa_models *pm, FILE *out)
{
	const struct io_model *m = pm->io;
	if (!m->slow.len)
		return;
	struct io_slow *v = pa_xcalloc(m->slow.len, sizeof(*v));
	memcpy(v, m->slow.items, m->slow.len * sizeof(*v));
	qsort(v, m->slow.len, sizeof(*v), cmp_slow);
	fprintf(out, "\nSlow calls (at least %.3f ms): %zu\n", ms(m->slow_ns), m->slow.len);
	for (size_t k = 0; k < m->slow.len && k < (size_t)pm->o->top; k++) {
		const struct io_slow *sl = &v[k];
		const struct io_group *g = io_desc_group(m, sl->desc);
		fprintf(out, "  %10.3f ms  at %9.3f ms  tid %u  %s%s%s%s\n", ms(sl->dur_ns),
			pa_ns_since_start(pm->s, sl->ticks) / 1e6,
			thread_at(pm->s, sl->thread)->tid, io_op_name(sl->op), g ? " " : "",
			g ? g->name : "", sl->unfinished ? " (unfinished: open at the end)" : "");
		if (sl->stack)
			stack_text(pm, out, sl->stack, sl->ticks);
	}
	free(v);
}

static void waits_text(const struct pa_models *pm, FILE *out)
{
	const struct io_model *m = pm->io;
	bool any = false;
	for (unsigned op = PST_IO_POLL; op < PST_IO_MUTEX; op++) {
		const struct io_stat *st = &m->by_op[op];
		if (!st->count)
			continue;
		if (!any)
			fprintf(out, "\nWaiting by kind\n  %8s %10s %9s %9s %9s  %s\n", "calls",
				"total ms", "avg ms", "p95 ms", "max ms", "kind");
		any = true;
		fprintf(out, "  %8" PRIu64 " %10.3f %9.4f %9.4f %9.4f  %s", st->count,
			ms(st->total_ns), ms(avg_ns(st)), ms(io_stat_pct(st, 95)), ms(st->max_ns),
			io_op_name(op));
		if (m->unfinished_by_op[op])
			fprintf(out, " (%" PRIu64 " unfinished: still waiting at the end)",
				m->unfinished_by_op[op]);
		fputc('\n', out);
	}
}

/* A lock by its variable's name when it is a global or static one, else
 * by its address (a lock inside a heap block or on a stack). */
static const char *lock_name(const struct pa_models *pm, const struct io_lock *l, char *buf,
			     size_t cap)
{
	if (!pa_symbols_data(pm->syms, l->addr, 0, buf, cap))
		snprintf(buf, cap, "0x%" PRIx64, l->addr);
	return buf;
}

static void locks_text(const struct pa_models *pm, FILE *out)
{
	const struct io_model *m = pm->io;
	if (!m->locks.len)
		return;
	fprintf(out, "\nLock contention (locks taken at once are not recorded)\n");
	fprintf(out, "  %11s %12s %11s  %-18s %s\n", "contentions", "total wait ms", "max ms",
		"lock", "first contended at");
	char where[1024];
	for (size_t i = 0; i < m->locks.len && i < (size_t)pm->o->top; i++) {
		const struct io_lock *l = pa_vec_at(&m->locks, i);
		char name[256];
		fprintf(out, "  %11" PRIu64 " %12.3f %11.4f  %-18s %s %s\n", l->st.count,
			ms(l->st.total_ns), ms(l->st.max_ns), lock_name(pm, l, name, sizeof(name)),
			io_op_name(l->op),
			pa_describe_pc(pm, l->site, true, 0, where, sizeof(where)));
	}
}

/* The sites of one class (waits, locks) by time: calls, total, max. */
static void class_sites_text(const struct pa_models *pm, FILE *out, enum io_class cls,
			     const char *title)
{
	const struct io_model *m = pm->io;
	struct ranked *r = pa_xcalloc(m->sites.len + 1, sizeof(*r));
	size_t n = 0;
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct io_site *st = pa_vec_at(&m->sites, i);
		if (st->cls == cls)
			r[n++] = (struct ranked){i, st->st.total_ns};
	}
	qsort(r, n, sizeof(*r), cmp_ranked);
	if (n)
		fprintf(out, "\n%s\n  %8s %10s %9s  %s\n", title, "calls", "total ms", "max ms",
			"site");
	char where[1024];
	for (size_t k = 0; k < n && k < (size_t)pm->o->top; k++) {
		const struct io_site *st = pa_vec_at(&m->sites, r[k].i);
		fprintf(out, "  %8" PRIu64 " %10.3f %9.4f  %s %s\n", st->st.count,
			ms(st->st.total_ns), ms(st->st.max_ns), io_op_name(st->op),
			pa_describe_pc(pm, st->pc, true, 0, where, sizeof(where)));
	}
	free(r);
}

static void dns_text(const struct pa_models *pm, FILE *out)
{
	const struct io_model *m = pm->io;
	if (!m->dns.len)
		return;
	fprintf(out, "\nDNS lookups (getaddrinfo)\n  %8s %10s %9s %7s  %s\n", "lookups", "total ms",
		"max ms", "errors", "name");
	for (size_t i = 0; i < m->dns.len; i++) {
		const struct io_dns *d = pa_vec_at(&m->dns, i);
		fprintf(out, "  %8" PRIu64 " %10.3f %9.4f %7" PRIu64 "  %s\n", d->st.count,
			ms(d->st.total_ns), ms(d->st.max_ns), d->st.errors, d->host);
	}
}

/* On-CPU time of thread i from the CPU samples (0 without). */
static double cpu_ns(const struct pa_models *pm, size_t i)
{
	const struct cpu_model *c = pm->cpu;
	if (!c || i >= c->threads.len)
		return 0;
	const struct cpu_thread_stats *ts = pa_vec_at(&c->threads, i);
	return (double)ts->weight * c->period_s * 1e9;
}

struct wall_split {
	double wall, cpu, cls[IO_CLASS_N], unaccounted;
};

static struct wall_split thread_split(const struct pa_models *pm, size_t i)
{
	const struct pa_thread *t = thread_at(pm->s, i);
	const struct io_thread *th = pa_vec_at(&pm->io->threads, i);
	struct wall_split w = {0};
	w.wall = pa_ticks_to_ns(pm->s,
				t->end_ticks > t->start_ticks ? t->end_ticks - t->start_ticks : 0);
	w.cpu = cpu_ns(pm, i) - th->cpu_over_ns;
	w.cpu = w.cpu > 0 ? w.cpu : 0;
	double sum = w.cpu;
	for (unsigned c = 0; c < IO_CLASS_N; c++) {
		w.cls[c] = th->ns[c];
		sum += th->ns[c];
	}
	w.unaccounted = w.wall > sum ? w.wall - sum : 0;
	return w;
}

static void wall_text(const struct pa_models *pm, FILE *out)
{
	fprintf(out, "\nWall time per thread (ms)\n  %9s %9s %9s %9s %9s %10s %12s  %s\n", "wall",
		"on CPU", "I/O", "network", "locks", "sleep/poll", "unaccounted", "thread");
	for (size_t i = 0; i < pm->s->threads.len; i++) {
		struct wall_split w = thread_split(pm, i);
		const struct pa_thread *t = thread_at(pm->s, i);
		fprintf(out, "  %9.3f %9.3f %9.3f %9.3f %9.3f %10.3f %12.3f  %s (tid %u)\n",
			ms(w.wall), ms(w.cpu), ms(w.cls[IO_CLASS_FILE]), ms(w.cls[IO_CLASS_NET]),
			ms(w.cls[IO_CLASS_LOCK]), ms(w.cls[IO_CLASS_WAIT]), ms(w.unaccounted),
			t->name[0] ? t->name : "thread", t->tid);
	}
	if (!pm->cpu)
		fprintf(out, "  (no CPU samples in this trace: on-CPU time is part of "
			     "'unaccounted')\n");
}

static void spans_text(const struct pa_models *pm, FILE *out)
{
	const struct io_model *m = pm->io;
	if (!m->spans.len && !m->counter_names.len)
		return;
	if (m->spans.len) {
		fprintf(out, "\nSpans\n  %8s %10s %9s %9s %9s %9s %9s %9s %7s  %s\n", "count",
			"total ms", "avg ms", "min ms", "p50 ms", "p95 ms", "p99 ms", "max ms",
			"errors", "name [thread]");
		for (size_t i = 0; i < m->spans.len; i++) {
			const struct io_span_stat *sp = pa_vec_at(&m->spans, i);
			const struct io_stat *st = &sp->st;
			double min = st->durs.len ? ((double *)st->durs.items)[0] : 0;
			char who[64] = "";
			if (sp->thread != UINT32_MAX)
				snprintf(who, sizeof(who), " [tid %u]",
					 thread_at(pm->s, sp->thread)->tid);
			fprintf(out,
				"  %8" PRIu64
				" %10.3f %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %7" PRIu64
				"  %s%s%s\n",
				st->count, ms(st->total_ns), ms(avg_ns(st)), ms(min),
				ms(io_stat_pct(st, 50)), ms(io_stat_pct(st, 95)),
				ms(io_stat_pct(st, 99)), ms(st->max_ns), st->errors, sp->name, who,
				sp->unclosed ? " (some never ended)" : "");
		}
	}
	if (m->counter_names.len) {
		fprintf(out, "\nCounters\n  %8s %14s %14s %14s  %s\n", "values", "min", "max",
			"last", "name");
		for (size_t i = 0; i < m->counter_names.len; i++) {
			const struct io_counter_name *c = pa_vec_at(&m->counter_names, i);
			fprintf(out,
				"  %8" PRIu64 " %14" PRId64 " %14" PRId64 " %14" PRId64 "  %s\n",
				c->count, c->min, c->max, c->last, c->name);
		}
	}
}

void io_report_text(const struct pa_models *pm, FILE *out)
{
	const struct io_model *m = pm->io;
	if (!io_model_has_data(m))
		return;
	if (m->calls) {
		groups_text(pm, out, IO_CLASS_FILE);
		groups_text(pm, out, IO_CLASS_NET);
		sites_text(pm, out);
		slow_text(pm, out);
		waits_text(pm, out);
		class_sites_text(pm, out, IO_CLASS_WAIT, "Waiting by site");
		locks_text(pm, out);
		class_sites_text(pm, out, IO_CLASS_LOCK, "Lock contention by acquiring site");
		dns_text(pm, out);
		wall_text(pm, out);
	}
	spans_text(pm, out);
}

/* --- JSON --- */

static void add_stat(cJSON *o, const char *prefix, const struct io_stat *st)
{
	char key[64];
	snprintf(key, sizeof(key), "%s_avg_ms", prefix);
	cJSON_AddNumberToObject(o, key, ms(avg_ns(st)));
	snprintf(key, sizeof(key), "%s_p50_ms", prefix);
	cJSON_AddNumberToObject(o, key, ms(io_stat_pct(st, 50)));
	snprintf(key, sizeof(key), "%s_p95_ms", prefix);
	cJSON_AddNumberToObject(o, key, ms(io_stat_pct(st, 95)));
	snprintf(key, sizeof(key), "%s_p99_ms", prefix);
	cJSON_AddNumberToObject(o, key, ms(io_stat_pct(st, 99)));
	snprintf(key, sizeof(key), "%s_max_ms", prefix);
	cJSON_AddNumberToObject(o, key, ms(st->max_ns));
}

static cJSON *errors_json(const struct io_group *g)
{
	cJSON *e = cJSON_CreateObject();
	for (unsigned k = 1; k < IO_MAX_ERRNO; k++)
		if (g->errno_count[k]) {
			const char *name = strerrorname_np((int)k);
			cJSON_AddNumberToObject(e, name ? name : "?", g->errno_count[k]);
		}
	return e;
}

static cJSON *ops_json(const struct io_group *g)
{
	cJSON *o = cJSON_CreateObject();
	for (unsigned op = 1; op < IO_FD_OPS; op++)
		if (g->ops_by_op[op])
			cJSON_AddNumberToObject(o, io_op_name(op), g->ops_by_op[op]);
	return o;
}

static void file_system_json(const struct pa_models *pm, cJSON *io)
{
	const struct io_model *m = pm->io;
	double secs = session_secs(pm->s);
	cJSON *fs = cJSON_AddObjectToObject(io, "file_system");
	uint64_t br = 0, bw = 0;
	cJSON *files = cJSON_CreateArray();
	size_t n;
	struct ranked *r = rank_groups(m, IO_CLASS_FILE, &n);
	for (size_t k = 0; k < n; k++) {
		const struct io_group *g = pa_vec_at(&m->groups, r[k].i);
		br += g->bytes_read;
		bw += g->bytes_written;
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "path", g->name);
		cJSON_AddNumberToObject(f, "ops", g->st.count);
		cJSON_AddNumberToObject(f, "reads", g->reads);
		cJSON_AddNumberToObject(f, "writes", g->writes);
		cJSON_AddNumberToObject(f, "bytes_read", g->bytes_read);
		cJSON_AddNumberToObject(f, "bytes_written", g->bytes_written);
		cJSON_AddNumberToObject(f, "total_ms", ms(g->st.total_ns));
		cJSON_AddNumberToObject(f, "p95_ms", ms(io_stat_pct(&g->st, 95)));
		cJSON_AddNumberToObject(f, "errors", g->st.errors);
		cJSON_AddBoolToObject(f, "unknown", g->unknown);
		cJSON_AddItemToObject(f, "ops_by_kind", ops_json(g));
		cJSON_AddItemToObject(f, "errors_by_errno", errors_json(g));
		add_stat(f, "latency", &g->st);
		cJSON_AddItemToArray(files, f);
	}
	free(r);
	const struct io_stat *all = &m->fs_all;
	cJSON_AddNumberToObject(fs, "ops", all->count);
	cJSON_AddNumberToObject(fs, "ops_per_sec", secs > 0 ? (double)all->count / secs : 0);
	cJSON_AddNumberToObject(fs, "bytes_read", br);
	cJSON_AddNumberToObject(fs, "bytes_written", bw);
	cJSON_AddNumberToObject(fs, "read_throughput_mb_s", secs > 0 ? (double)br / 1e6 / secs : 0);
	cJSON_AddNumberToObject(fs, "write_throughput_mb_s",
				secs > 0 ? (double)bw / 1e6 / secs : 0);
	cJSON_AddNumberToObject(fs, "avg_latency_ms", ms(avg_ns(all)));
	cJSON_AddNumberToObject(fs, "p95_latency_ms", ms(io_stat_pct(all, 95)));
	cJSON_AddNumberToObject(fs, "p99_latency_ms", ms(io_stat_pct(all, 99)));
	cJSON_AddItemToObject(fs, "files", files);
}

static void network_json(const struct pa_models *pm, cJSON *io)
{
	const struct io_model *m = pm->io;
	cJSON *net = cJSON_AddObjectToObject(io, "network");
	uint64_t sent = 0, recv = 0;
	cJSON *peers = cJSON_CreateArray();
	size_t n;
	struct ranked *r = rank_groups(m, IO_CLASS_NET, &n);
	for (size_t k = 0; k < n; k++) {
		const struct io_group *g = pa_vec_at(&m->groups, r[k].i);
		sent += g->bytes_written;
		recv += g->bytes_read;
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "peer", g->name);
		cJSON_AddNumberToObject(p, "calls", g->st.count);
		cJSON_AddNumberToObject(p, "avg_duration_ms", ms(avg_ns(&g->st)));
		cJSON_AddNumberToObject(p, "p95_duration_ms", ms(io_stat_pct(&g->st, 95)));
		cJSON_AddNumberToObject(p, "errors", g->st.errors);
		cJSON_AddNumberToObject(
		    p, "error_rate", g->st.count ? (double)g->st.errors / (double)g->st.count : 0);
		cJSON_AddNumberToObject(p, "sends", g->writes);
		cJSON_AddNumberToObject(p, "receives", g->reads);
		cJSON_AddNumberToObject(p, "bytes_sent", g->bytes_written);
		cJSON_AddNumberToObject(p, "bytes_received", g->bytes_read);
		cJSON_AddNumberToObject(p, "local_port", g->port);
		cJSON_AddItemToObject(p, "ops_by_kind", ops_json(g));
		cJSON_AddItemToObject(p, "errors_by_errno", errors_json(g));
		cJSON_AddItemToArray(peers, p);
	}
	free(r);
	uint64_t calls = m->net_all.count;
	for (size_t i = 0; i < m->dns.len; i++)
		calls += ((struct io_dns *)pa_vec_at(&m->dns, i))->st.count;
	cJSON_AddNumberToObject(net, "calls", calls);
	cJSON_AddNumberToObject(net, "bytes_sent", sent);
	cJSON_AddNumberToObject(net, "bytes_received", recv);
	cJSON_AddItemToObject(net, "peers", peers);
	cJSON *dns = cJSON_AddArrayToObject(net, "dns");
	for (size_t i = 0; i < m->dns.len; i++) {
		const struct io_dns *d = pa_vec_at(&m->dns, i);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", d->host);
		cJSON_AddNumberToObject(o, "lookups", d->st.count);
		cJSON_AddNumberToObject(o, "total_ms", ms(d->st.total_ns));
		cJSON_AddNumberToObject(o, "max_ms", ms(d->st.max_ns));
		cJSON_AddNumberToObject(o, "errors", d->st.errors);
		cJSON_AddItemToArray(dns, o);
	}
}

static void waits_locks_json(const struct pa_models *pm, cJSON *io)
{
	const struct io_model *m = pm->io;
	cJSON *waits = cJSON_AddArrayToObject(io, "waits");
	for (unsigned op = PST_IO_POLL; op < PST_IO_MUTEX; op++) {
		const struct io_stat *st = &m->by_op[op];
		if (!st->count)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", io_op_name(op));
		cJSON_AddNumberToObject(o, "calls", st->count);
		cJSON_AddNumberToObject(o, "total_ms", ms(st->total_ns));
		add_stat(o, "duration", st);
		cJSON_AddNumberToObject(o, "errors", st->errors);
		cJSON_AddNumberToObject(o, "unfinished", m->unfinished_by_op[op]);
		cJSON_AddItemToArray(waits, o);
	}
	cJSON *locks = cJSON_AddArrayToObject(io, "locks");
	char buf[1024];
	for (size_t i = 0; i < m->locks.len; i++) {
		const struct io_lock *l = pa_vec_at(&m->locks, i);
		cJSON *o = cJSON_CreateObject();
		snprintf(buf, sizeof(buf), "0x%" PRIx64, l->addr);
		cJSON_AddStringToObject(o, "lock", buf);
		if (pa_symbols_data(pm->syms, l->addr, 0, buf, sizeof(buf)))
			cJSON_AddStringToObject(o, "variable", buf);
		else
			cJSON_AddNullToObject(o, "variable");
		cJSON_AddStringToObject(o, "kind", io_op_name(l->op));
		cJSON_AddNumberToObject(o, "contentions", l->st.count);
		cJSON_AddNumberToObject(o, "total_wait_ms", ms(l->st.total_ns));
		cJSON_AddNumberToObject(o, "max_wait_ms", ms(l->st.max_ns));
		cJSON_AddStringToObject(o, "site",
					pa_describe_pc(pm, l->site, true, 0, buf, sizeof(buf)));
		cJSON_AddItemToArray(locks, o);
	}
	cJSON *sites = cJSON_AddArrayToObject(io, "sites");
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct io_site *st = pa_vec_at(&m->sites, i);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "site",
					pa_describe_pc(pm, st->pc, true, 0, buf, sizeof(buf)));
		cJSON_AddStringToObject(o, "class", io_class_name(st->cls));
		cJSON_AddStringToObject(o, "op", st->op ? io_op_name(st->op) : "getaddrinfo");
		cJSON_AddNumberToObject(o, "calls", st->st.count);
		cJSON_AddNumberToObject(o, "total_ms", ms(st->st.total_ns));
		cJSON_AddNumberToObject(o, "max_ms", ms(st->st.max_ns));
		cJSON_AddBoolToObject(o, "has_stack", st->stack != 0);
		cJSON_AddItemToArray(sites, o);
	}
	cJSON_AddNumberToObject(io, "slow_calls", m->slow.len);
	cJSON_AddNumberToObject(io, "unfinished_calls", m->unfinished);
	cJSON_AddNumberToObject(io, "slow_ms", ms(m->slow_ns));
}

static void threads_json(const struct pa_models *pm, cJSON *io)
{
	cJSON *arr = cJSON_AddArrayToObject(io, "threads");
	for (size_t i = 0; i < pm->s->threads.len; i++) {
		struct wall_split w = thread_split(pm, i);
		const struct pa_thread *t = thread_at(pm->s, i);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "tid", t->tid);
		cJSON_AddStringToObject(o, "name", t->name);
		cJSON_AddNumberToObject(o, "wall_ms", ms(w.wall));
		cJSON_AddNumberToObject(o, "cpu_ms", ms(w.cpu));
		cJSON_AddNumberToObject(o, "io_ms", ms(w.cls[IO_CLASS_FILE]));
		cJSON_AddNumberToObject(o, "network_ms", ms(w.cls[IO_CLASS_NET]));
		cJSON_AddNumberToObject(o, "locks_ms", ms(w.cls[IO_CLASS_LOCK]));
		cJSON_AddNumberToObject(o, "sleep_poll_ms", ms(w.cls[IO_CLASS_WAIT]));
		cJSON_AddNumberToObject(o, "unaccounted_ms", ms(w.unaccounted));
		cJSON_AddItemToArray(arr, o);
	}
}

static void spans_json(const struct pa_models *pm, cJSON *io)
{
	const struct io_model *m = pm->io;
	cJSON *spans = cJSON_AddArrayToObject(io, "spans");
	for (size_t i = 0; i < m->spans.len; i++) {
		const struct io_span_stat *sp = pa_vec_at(&m->spans, i);
		const struct io_stat *st = &sp->st;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", sp->name);
		if (sp->thread != UINT32_MAX)
			cJSON_AddNumberToObject(o, "tid", thread_at(pm->s, sp->thread)->tid);
		else
			cJSON_AddStringToObject(o, "tid", "all");
		cJSON_AddNumberToObject(o, "count", st->count);
		cJSON_AddNumberToObject(o, "total_ms", ms(st->total_ns));
		cJSON_AddNumberToObject(o, "avg_ms", ms(avg_ns(st)));
		cJSON_AddNumberToObject(o, "min_ms",
					st->durs.len ? ms(((double *)st->durs.items)[0]) : 0);
		cJSON_AddNumberToObject(o, "max_ms", ms(st->max_ns));
		cJSON_AddNumberToObject(o, "p50_ms", ms(io_stat_pct(st, 50)));
		cJSON_AddNumberToObject(o, "p95_ms", ms(io_stat_pct(st, 95)));
		cJSON_AddNumberToObject(o, "p99_ms", ms(io_stat_pct(st, 99)));
		cJSON_AddNumberToObject(o, "errors", st->errors);
		cJSON_AddNumberToObject(o, "unclosed", sp->unclosed);
		cJSON_AddItemToArray(spans, o);
	}
	cJSON_AddNumberToObject(
	    io, "span_ends_unmatched",
	    (double)(m->span_unmatched + pm->s->counters[PST_C_DROP_SPAN_UNMATCHED]));
	cJSON *counters = cJSON_AddArrayToObject(io, "counters");
	for (size_t i = 0; i < m->counter_names.len; i++) {
		const struct io_counter_name *c = pa_vec_at(&m->counter_names, i);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", c->name);
		cJSON_AddNumberToObject(o, "values", c->count);
		cJSON_AddNumberToObject(o, "min", (double)c->min);
		cJSON_AddNumberToObject(o, "max", (double)c->max);
		cJSON_AddNumberToObject(o, "last", (double)c->last);
		cJSON_AddItemToArray(counters, o);
	}
}

void io_report_json(const struct pa_models *pm, cJSON *root)
{
	if (!io_model_has_data(pm->io))
		return;
	cJSON *io = cJSON_AddObjectToObject(root, "io_metrics");
	cJSON_AddNumberToObject(io, "calls", pm->io->calls);
	cJSON_AddNumberToObject(io, "calls_with_stack", (double)pm->s->counters[PST_C_IO_STACKS]);
	file_system_json(pm, io);
	network_json(pm, io);
	waits_locks_json(pm, io);
	threads_json(pm, io);
	spans_json(pm, io);
}
