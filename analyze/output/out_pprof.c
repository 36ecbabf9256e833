/*
 * --format=pprof: a gzipped profile.proto (github.com/google/pprof), what
 * `go tool pprof`, Grafana Pyroscope and Parca read. One kind of data per
 * file (--data; default cpu, then calls, then mem), with the sample types
 * Go uses so fleet profilers recognize them:
 *   cpu    samples/count, cpu/nanoseconds; a "thread" label (name) and a
 *          "thread_id" label (tid) on each sample
 *   mem    alloc_objects/count, alloc_space/bytes, inuse_objects/count,
 *          inuse_space/bytes (inuse: live at the end); per allocation site
 *   calls  calls/count, wall/nanoseconds (self time); per call-tree node
 * Locations are addresses, one per (module map, pc) with every inlined
 * frame as a line (innermost first, as pprof wants); sample location ids
 * list the leaf first; mappings carry the modules' paths and build-ids;
 * functions their file and first line. string_table[0] is "".
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "call_model.h"
#include "heap_model.h"
#include "models.h"
#include "out_util.h"
#include "pprof_enc.h"
#include "sample_model.h"
#include "stack_tree.h"
#include "symbols.h"

/* Profile fields */
enum {
	P_SAMPLE_TYPE = 1,
	P_SAMPLE = 2,
	P_MAPPING = 3,
	P_LOCATION = 4,
	P_FUNCTION = 5,
	P_STRING_TABLE = 6,
	P_TIME_NANOS = 9,
	P_DURATION_NANOS = 10,
	P_PERIOD_TYPE = 11,
	P_PERIOD = 12,
	P_COMMENT = 13,
	P_DEFAULT_SAMPLE_TYPE = 14,
};

struct pp {
	const struct pa_models *pm;
	struct pb_strings st;
	struct pb prof, locs, funcs, msg, line;
	struct pa_pairmap loc_index;  /* (pc, ret_addr) -> location id */
	struct pa_pairmap func_index; /* (name id, file id) -> function id */
	uint32_t nlocs, nfuncs;
	struct pa_vec ids; /* uint64_t, a sample's location ids */
};

static void value_type(struct pp *p, int field, const char *type, const char *unit)
{
	struct pb m = {0};
	pb_int(&m, 1, pb_string(&p->st, type));
	pb_int(&m, 2, pb_string(&p->st, unit));
	pb_msg(&p->prof, field, &m);
	pb_free(&m);
}

static uint64_t function_id(struct pp *p, const struct pa_frame *f)
{
	int64_t name = pb_string(&p->st, f->function ? f->function : "??");
	int64_t file = pb_string(&p->st, f->file ? f->file : (f->module ? f->module : ""));
	uint32_t id = pa_pairmap_get(&p->func_index, (uint64_t)name, (uint64_t)file);
	if (id)
		return id;
	id = ++p->nfuncs;
	pa_pairmap_put(&p->func_index, (uint64_t)name, (uint64_t)file, id);
	pb_reset(&p->msg);
	pb_uint(&p->msg, 1, id);
	pb_int(&p->msg, 2, name);
	pb_int(&p->msg, 3, name);
	pb_int(&p->msg, 4, file);
	if (f->func_line)
		pb_int(&p->msg, 5, f->func_line);
	pb_msg(&p->funcs, P_FUNCTION, &p->msg);
	return id;
}

/* Mapping id of the module holding pc (module index + 1), 0 if none. */
static uint64_t mapping_of(const struct pa_session *s, uint64_t pc)
{
	for (size_t i = 0; i < s->modules.len; i++) {
		const struct pa_module *m = pa_vec_at(&s->modules, i);
		if (pc >= m->lo && pc < m->hi)
			return i + 1;
	}
	return 0;
}

/* A location: frames innermost first become its lines. */
static uint64_t new_location(struct pp *p, uint64_t pc, const struct pa_frame *f, int n)
{
	uint64_t id = ++p->nlocs;
	struct pb m = {0};
	pb_uint(&m, 1, id);
	uint64_t map = mapping_of(p->pm->s, pc);
	if (map)
		pb_uint(&m, 2, map);
	pb_uint(&m, 3, pc);
	for (int i = 0; i < n; i++) {
		pb_reset(&p->line);
		pb_uint(&p->line, 1, function_id(p, &f[i]));
		if (f[i].line)
			pb_int(&p->line, 2, f[i].line);
		pb_msg(&m, 4, &p->line);
	}
	pb_msg(&p->locs, P_LOCATION, &m);
	pb_free(&m);
	return id;
}

static uint64_t pc_location(struct pp *p, uint64_t pc, bool ret_addr, uint64_t ticks)
{
	uint32_t id = pa_pairmap_get(&p->loc_index, pc, ret_addr);
	if (id)
		return id;
	const struct pa_frame *f;
	int n = pa_symbols_resolve(p->pm->syms, pc, ret_addr, ticks, &f);
	id = (uint32_t)new_location(p, pc, f, n);
	pa_pairmap_put(&p->loc_index, pc, ret_addr, id);
	return id;
}

/* The location ids of session stack node `node`, leaf first. */
static void stack_ids(struct pp *p, uint32_t node, bool leaf_is_pc, uint64_t ticks)
{
	p->ids.len = 0;
	for (uint32_t n = node; n;) {
		const struct pa_stack_node *sn = pa_vec_at(&p->pm->s->stacks, n);
		*(uint64_t *)pa_vec_push(&p->ids) =
		    pc_location(p, sn->pc, !(n == node && leaf_is_pc), ticks);
		n = sn->parent;
	}
}

/* Heap stacks rooted as in every other output (pa_heap_stack_start): the
 * locations outside main or a thread's start function are cut. */
static void root_heap_stack(struct pp *p, uint32_t node, uint64_t ticks)
{
	size_t n = p->ids.len;
	const struct pa_frame **outer = pa_xcalloc(n + 1, sizeof(*outer));
	size_t k = 0;
	for (uint32_t i = node; i && k < n; k++) {
		const struct pa_stack_node *sn = pa_vec_at(&p->pm->s->stacks, i);
		const struct pa_frame *f;
		int nf = pa_symbols_resolve(p->pm->syms, sn->pc, true, ticks, &f);
		outer[n - 1 - k] = &f[nf - 1]; /* outermost first, as the helper wants */
		i = sn->parent;
	}
	size_t from = (size_t)pa_heap_stack_start(outer, (int)n);
	p->ids.len = n - from; /* ids are leaf first: drop the outermost `from` */
	free(outer);
}

static void label_str(struct pb *sample, struct pp *p, const char *key, const char *val)
{
	pb_reset(&p->line);
	pb_int(&p->line, 1, pb_string(&p->st, key));
	pb_int(&p->line, 2, pb_string(&p->st, val));
	pb_msg(sample, 3, &p->line);
}

static void label_num(struct pb *sample, struct pp *p, const char *key, int64_t num)
{
	pb_reset(&p->line);
	pb_int(&p->line, 1, pb_string(&p->st, key));
	pb_int(&p->line, 3, num);
	pb_msg(sample, 3, &p->line);
}

static void sample(struct pp *p, const uint64_t *values, size_t nv, const struct pa_thread *th)
{
	pb_reset(&p->msg);
	pb_packed(&p->msg, 1, p->ids.items, p->ids.len);
	pb_packed(&p->msg, 2, values, nv);
	if (th) {
		label_str(&p->msg, p, "thread", th->name[0] ? th->name : "thread");
		label_num(&p->msg, p, "thread_id", th->tid);
	}
	pb_msg(&p->prof, P_SAMPLE, &p->msg);
}

/* CPU: one pprof sample per (thread, stack), weights summed. */
static void cpu_samples(struct pp *p)
{
	const struct cpu_model *m = p->pm->cpu;
	const struct pa_session *s = p->pm->s;
	double period_ns = m->period_s * 1e9;
	enum pa_data d = p->pm->o->data;
	const char *what = d == PA_DATA_WALL ? "wall" : d == PA_DATA_OFFCPU ? "offcpu" : "cpu";
	value_type(p, P_SAMPLE_TYPE, "samples", "count");
	value_type(p, P_SAMPLE_TYPE, what, "nanoseconds");
	value_type(p, P_PERIOD_TYPE, what, "nanoseconds");
	pb_int(&p->prof, P_PERIOD, llround(period_ns));
	struct pa_pairmap agg;
	pa_pairmap_init(&agg);
	struct pa_vec firsts, weights; /* per distinct (thread, stack): first sample, weight */
	pa_vec_init(&firsts, sizeof(size_t));
	pa_vec_init(&weights, sizeof(uint64_t));
	for (size_t i = 0; i < m->samples_v.len; i++) {
		const struct cpu_sample *cs = pa_vec_at(&m->samples_v, i);
		const struct pa_thread *th =
		    *(struct pa_thread **)pa_vec_at(&s->threads, cs->thread);
		if (p->pm->o->thread >= 0 && th->tid != (uint32_t)p->pm->o->thread)
			continue;
		uint32_t k = pa_pairmap_get(&agg, cs->thread, cs->stack);
		if (!k) {
			*(size_t *)pa_vec_push(&firsts) = i;
			pa_vec_push(&weights);
			k = (uint32_t)firsts.len;
			pa_pairmap_put(&agg, cs->thread, cs->stack, k);
		}
		*(uint64_t *)pa_vec_at(&weights, k - 1) += cs->weight;
	}
	for (size_t k = 0; k < firsts.len; k++) {
		const struct cpu_sample *cs =
		    pa_vec_at(&m->samples_v, *(size_t *)pa_vec_at(&firsts, k));
		uint64_t w = *(uint64_t *)pa_vec_at(&weights, k);
		stack_ids(p, cs->stack, true, cs->ticks);
		uint64_t v[2] = {w, (uint64_t)llround((double)w * period_ns)};
		sample(p, v, 2, *(struct pa_thread **)pa_vec_at(&s->threads, cs->thread));
	}
	pa_pairmap_free(&agg);
	pa_vec_free(&firsts);
	pa_vec_free(&weights);
}

static void mem_samples(struct pp *p)
{
	const struct heap_model *m = p->pm->heap;
	value_type(p, P_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(p, P_SAMPLE_TYPE, "alloc_space", "bytes");
	value_type(p, P_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(p, P_SAMPLE_TYPE, "inuse_space", "bytes");
	value_type(p, P_PERIOD_TYPE, "space", "bytes");
	pb_int(&p->prof, P_PERIOD, m->sample_bytes > 0 ? llround(m->sample_bytes) : 1);
	bool leaked = p->pm->o->heap == PA_HEAP_LEAKED;
	pb_int(&p->prof, P_DEFAULT_SAMPLE_TYPE,
	       pb_string(&p->st, leaked ? "inuse_space" : "alloc_space"));
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *site = pa_vec_at(&m->sites, i);
		if (site->allocs <= 0)
			continue;
		stack_ids(p, site->stack, false, site->ticks);
		root_heap_stack(p, site->stack, site->ticks);
		uint64_t v[4] = {(uint64_t)llround(site->allocs), (uint64_t)llround(site->bytes),
				 (uint64_t)llround(site->live_blocks),
				 (uint64_t)llround(site->live_bytes)};
		sample(p, v, 4, NULL);
	}
}

static void call_node_samples(struct pp *p, struct call_model *m, uint32_t id, struct pa_vec *path)
{
	const struct call_node *n = pa_vec_at(&m->nodes, id);
	if (id) {
		const struct pa_frame *f = call_model_func(m, n->func)->frame;
		const struct pa_func *pf = pa_vec_at(&m->s->funcs, n->func);
		uint32_t loc = pa_pairmap_get(&p->loc_index, pf->addr, 2);
		if (!loc) {
			loc = (uint32_t)new_location(p, pf->addr, f, 1);
			pa_pairmap_put(&p->loc_index, pf->addr, 2, loc);
		}
		*(uint64_t *)pa_vec_push(path) = loc;
		if (n->calls || n->excl) {
			/* leaf first */
			p->ids.len = 0;
			for (size_t i = path->len; i > 0; i--)
				*(uint64_t *)pa_vec_push(&p->ids) =
				    *(uint64_t *)pa_vec_at(path, i - 1);
			uint64_t v[2] = {n->calls,
					 (uint64_t)llround(pa_ticks_to_ns(m->s, n->excl))};
			sample(p, v, 2, NULL);
		}
	}
	for (uint32_t c = n->first_child; c;
	     c = ((const struct call_node *)pa_vec_at(&m->nodes, c))->next_sibling)
		call_node_samples(p, m, c, path);
	if (id)
		path->len--;
}

static void call_samples(struct pp *p)
{
	value_type(p, P_SAMPLE_TYPE, "calls", "count");
	value_type(p, P_SAMPLE_TYPE, "wall", "nanoseconds");
	value_type(p, P_PERIOD_TYPE, "calls", "count");
	pb_int(&p->prof, P_PERIOD, 1);
	struct pa_vec path;
	pa_vec_init(&path, sizeof(uint64_t));
	call_node_samples(p, p->pm->calls, 0, &path);
	pa_vec_free(&path);
}

static void append_raw(struct pb *to, const struct pb *from)
{
	if (!from->len)
		return;
	if (to->len + from->len > to->cap) {
		to->cap = to->len + from->len;
		to->p = pa_xrealloc(to->p, to->cap);
	}
	memcpy(to->p + to->len, from->p, from->len);
	to->len += from->len;
}

static void mappings(struct pp *p)
{
	const struct pa_session *s = p->pm->s;
	char hex[129];
	for (size_t i = 0; i < s->modules.len; i++) {
		const struct pa_module *m = pa_vec_at(&s->modules, i);
		pb_reset(&p->msg);
		pb_uint(&p->msg, 1, i + 1);
		pb_uint(&p->msg, 2, m->lo);
		pb_uint(&p->msg, 3, m->hi);
		pb_uint(&p->msg, 4, m->lo - m->bias); /* file offset of lo (first segment) */
		pb_int(&p->msg, 5, pb_string(&p->st, m->path));
		size_t n = m->build_id_len < 64 ? m->build_id_len : 64;
		for (size_t k = 0; k < n; k++)
			snprintf(hex + 2 * k, 3, "%02x", m->build_id[k]);
		hex[2 * n] = 0;
		pb_int(&p->msg, 6, pb_string(&p->st, hex));
		pb_uint(&p->msg, 7, 1);	 /* has_functions */
		pb_uint(&p->msg, 8, 1);	 /* has_filenames */
		pb_uint(&p->msg, 9, 1);	 /* has_line_numbers */
		pb_uint(&p->msg, 10, 1); /* has_inline_frames */
		pb_msg(&p->prof, P_MAPPING, &p->msg);
	}
}

int pa_write_pprof(const struct pa_models *pm, FILE *out)
{
	enum pa_data kind = pm->o->data == PA_DATA_AUTO ? pa_default_data(pm) : pm->o->data;
	/* --data=offcpu/wall: the time profile stands in for the CPU samples */
	if (kind == PA_DATA_OFFCPU || kind == PA_DATA_WALL)
		kind = PA_DATA_CPU;
	if (kind == PA_DATA_AUTO || !pa_has_data(pm, kind)) {
		fprintf(stderr,
			"profanalyze: --format=pprof: this trace has no %s data (recorded: %s)\n",
			kind == PA_DATA_CPU	? "CPU"
			: kind == PA_DATA_MEM	? "memory"
			: kind == PA_DATA_CALLS ? "calls"
						: "CPU, calls or memory",
			pa_recorded_names(pm));
		return 1;
	}
	struct pp p = {.pm = pm};
	pb_strings_init(&p.st);
	pa_pairmap_init(&p.loc_index);
	pa_pairmap_init(&p.func_index);
	pa_vec_init(&p.ids, sizeof(uint64_t));
	if (kind == PA_DATA_CPU)
		cpu_samples(&p);
	else if (kind == PA_DATA_MEM)
		mem_samples(&p);
	else
		call_samples(&p);
	mappings(&p);
	/* Locations and functions are already encoded as Profile fields:
	 * append them as they are (field order does not matter). */
	append_raw(&p.prof, &p.locs);
	append_raw(&p.prof, &p.funcs);
	pb_int(&p.prof, P_TIME_NANOS, (int64_t)pm->s->start_wall_ns);
	pb_int(&p.prof, P_DURATION_NANOS,
	       llround(pa_ticks_to_ns(pm->s, pa_session_duration_ticks(pm->s))));
	pb_int(&p.prof, P_COMMENT, pb_string(&p.st, "profshim"));
	pb_strings_write(&p.st, &p.prof, P_STRING_TABLE);
	int rc = pb_write_gzip(&p.prof, out);
	pb_strings_free(&p.st);
	pa_pairmap_free(&p.loc_index);
	pa_pairmap_free(&p.func_index);
	pa_vec_free(&p.ids);
	pb_free(&p.prof);
	pb_free(&p.locs);
	pb_free(&p.funcs);
	pb_free(&p.msg);
	pb_free(&p.line);
	return rc ? 1 : 0;
}
