/*
 * Reading a process file: its records one by one, and those about the
 * process itself (process info, command line, run link, clock
 * calibration, module maps, its end, recorder settings). The records about
 * its threads are read by process_file_threads.c.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "process_file.h"
#include "session.h"

/* argc strings into a new s->argv. */
static int read_argv(struct proc_parse *pp, struct pa_cursor *c, uint64_t argc)
{
	struct pa_session *s = pp->s;
	s->argv = pa_xcalloc(argc + 1, sizeof(char *));
	for (uint64_t i = 0; i < argc; i++) {
		const char *a;
		size_t alen;
		if (pa_get_str(c, &a, &alen, PST_MAX_RECORD))
			return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),
					  "malformed argument %llu", (unsigned long long)i);
		s->argv[s->argc++] = pa_xstrndup(a, alen);
	}
	return 0;
}

/* The file name part of the first len bytes of word; NULL when empty. */
static char *base_name(const char *word, size_t len)
{
	const char *b = word;
	for (size_t i = 0; i < len; i++)
		if (word[i] == '/' && i + 1 < len)
			b = word + i + 1;
	size_t n = len - (size_t)(b - word);
	while (n && b[n - 1] == '/')
		n--;
	return n ? pa_xstrndup(b, n) : NULL;
}

/*
 * The program's name (what --comm matches and "By command" groups by). A
 * process may retitle itself by writing over its argv: an nginx worker
 * carries "nginx: master process nginx -c /etc/nginx/x.conf" in argv[0]
 * when it forks, so the file name of the whole argv[0] would be "x.conf".
 * A title with a space is not a path: its first word, without the ':'
 * titles put after the name, is the program; then the exe's file name.
 */
static char *program_name(const char *argv0, const char *exe)
{
	const char *a0 = argv0 && argv0[0] ? argv0 : exe;
	char *name = NULL;
	if (a0 && strchr(a0, ' ') && !(exe && !strcmp(a0, exe))) {
		size_t len = strcspn(a0, " ");
		while (len && a0[len - 1] == ':')
			len--;
		name = base_name(a0, len);
	} else if (a0) {
		name = base_name(a0, strlen(a0));
	}
	if (!name && exe)
		name = base_name(exe, strlen(exe));
	return name ? name : pa_xstrdup("?");
}

static int parse_process_info(struct proc_parse *pp, struct pa_cursor *c)
{
	struct pa_session *s = pp->s;
	uint64_t pid, ppid, clock, start, mono, wall, mask, argc;
	const char *exe;
	size_t elen;
	GET(c, &pid);
	GET(c, &ppid);
	GET(c, &clock);
	GET(c, &pp->tps_x1000);
	GET(c, &start);
	GET(c, &mono);
	GET(c, &wall);
	GET(c, &mask);
	if (clock > PST_CLOCK_TSC || pp->tps_x1000 == 0)
		return pa_fail_at(pp->err, pp->path, pp->base, "bad clock description");
	if (pa_get_str(c, &exe, &elen, PST_MAX_STR))
		return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),
				  "malformed exe path");
	GET(c, &argc);
	if (argc > 100000)
		return pa_fail_at(pp->err, pp->path, pp->base, "implausible argc %llu",
				  (unsigned long long)argc);
	s->pid = (uint32_t)pid;
	s->ppid = (uint32_t)ppid;
	s->clock_kind = (unsigned)clock;
	s->start_ticks = start;
	s->start_mono_ns = mono;
	s->start_wall_ns = wall;
	s->record_mask = (unsigned)mask;
	free(s->exe);
	s->exe = pa_xstrndup(exe, elen);
	for (int i = 0; i < s->argc; i++) /* a second PROCESS_INFO: no leak */
		free(s->argv[i]);
	free(s->argv);
	s->argv = NULL;
	s->argc = 0;
	if (read_argv(pp, c, argc))
		return -1;
	free(s->command);
	s->command = program_name(s->argc ? s->argv[0] : NULL, s->exe);
	return 0;
}

/* RUN_LINK: str parent file, str previous image file, exec index. */
static int parse_run_link(struct proc_parse *pp, struct pa_cursor *c)
{
	struct pa_session *s = pp->s;
	const char *par, *prev;
	size_t plen, prlen;
	uint64_t idx;
	if (pa_get_str(c, &par, &plen, PST_MAX_STR) || pa_get_str(c, &prev, &prlen, PST_MAX_STR))
		return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),
				  "malformed run link");
	GET(c, &idx);
	free(s->parent_file);
	free(s->previous_file);
	s->parent_file = plen ? pa_xstrndup(par, plen) : NULL;
	s->previous_file = prlen ? pa_xstrndup(prev, prlen) : NULL;
	s->exec_index = idx > 1000000 ? 1000000 : (unsigned)idx;
	s->has_run_link = true;
	return 0;
}

/* PROCESS_CMDLINE: the command line at the end replaces the first one. */
static int parse_cmdline(struct proc_parse *pp, struct pa_cursor *c)
{
	struct pa_session *s = pp->s;
	uint64_t argc;
	GET(c, &argc);
	if (argc > 100000)
		return pa_fail_at(pp->err, pp->path, pp->base, "implausible argc %llu",
				  (unsigned long long)argc);
	for (int i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	s->argv = NULL;
	s->argc = 0;
	return read_argv(pp, c, argc);
}

static int parse_clock_sync(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t ticks, mono;
	GET(c, &ticks);
	GET(c, &mono);
	if (!pp->nsync++) {
		pp->sync_first[0] = ticks;
		pp->sync_first[1] = mono;
	}
	pp->sync_last[0] = ticks;
	pp->sync_last[1] = mono;
	return 0;
}

/* The TSC rate measured over the process's life: better than the start-up
 * estimate in PROCESS_INFO. */
static int parse_clock_cal(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t x1000, span;
	GET(c, &x1000);
	GET(c, &span);
	if (x1000 == 0)
		return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),
				  "bad clock calibration (rate 0)");
	pp->tps_x1000 = x1000;
	return 0;
}

/* Modules not listed by the map that starts now were unloaded now. */
static void close_unlisted_modules(struct pa_session *s, uint64_t gen, uint64_t ticks)
{
	for (size_t i = 0; i < s->modules.len; i++) {
		struct pa_module *m = pa_vec_at(&s->modules, i);
		if (m->last_ticks == UINT64_MAX && m->generation != gen)
			m->last_ticks = ticks;
	}
}

static int parse_module(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t gen, bias, lo, hi;
	const char *path, *id;
	size_t plen, idlen;
	GET(c, &gen);
	GET(c, &bias);
	GET(c, &lo);
	GET(c, &hi);
	if (pa_get_str(c, &path, &plen, PST_MAX_STR) || pa_get_str(c, &id, &idlen, 64) || lo >= hi)
		return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),
				  "malformed module");
	struct pa_session *s = pp->s;
	/* Still loaded since an earlier map: the same module, seen again. */
	for (size_t i = 0; i < s->modules.len; i++) {
		struct pa_module *m = pa_vec_at(&s->modules, i);
		if (m->last_ticks == UINT64_MAX && m->bias == bias && m->lo == lo && m->hi == hi &&
		    strlen(m->path) == plen && !memcmp(m->path, path, plen)) {
			m->generation = gen;
			return 0;
		}
	}
	struct pa_module *m = pa_vec_push(&s->modules);
	m->generation = gen;
	m->bias = bias;
	m->lo = lo;
	m->hi = hi;
	m->path = pa_xstrndup(path, plen);
	memcpy(m->build_id, id, idlen);
	m->build_id_len = idlen;
	/* The start-up map covers everything before it too. */
	m->first_ticks = pp->maps_seen <= 1 ? 0 : pp->map_ticks;
	m->last_ticks = UINT64_MAX;
	return 0;
}

static int parse_process_end(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t ticks, mono, wall, reason, status;
	GET(c, &ticks);
	GET(c, &mono);
	GET(c, &wall);
	GET(c, &reason);
	GET(c, &status);
	pp->s->ended = true;
	pp->s->end_ticks = ticks;
	pp->s->end_reason = (unsigned)reason;
	pp->s->end_mono_ns = mono;
	pp->s->end_status = (unsigned)status;
	return 0;
}

static int parse_cpu_timer(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t hz, mech, sig;
	GET(c, &hz);
	GET(c, &mech);
	GET(c, &sig);
	pp->s->cpu_hz = (unsigned)hz;
	pp->s->cpu_timer = (unsigned)mech;
	pp->s->cpu_signal = (unsigned)sig;
	return 0;
}

static int parse_mem_config(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t sample, rss_ms;
	GET(c, &sample);
	GET(c, &rss_ms);
	pp->s->mem_sample_bytes = sample;
	pp->s->mem_rss_ms = (unsigned)rss_ms;
	return 0;
}

static int parse_process_ext(struct proc_parse *pp, uint64_t ext, struct pa_cursor *c)
{
	switch (ext) {
	case PST_X_PROCESS_INFO:
		return parse_process_info(pp, c);
	case PST_X_CLOCK_SYNC:
		return parse_clock_sync(pp, c);
	case PST_X_CLOCK_CAL:
		return parse_clock_cal(pp, c);
	case PST_X_MODULES_BEGIN:
		GET(c, &pp->map_gen);
		GET(c, &pp->map_ticks);
		pp->maps_seen++;
		close_unlisted_modules(pp->s, pp->map_gen, pp->map_ticks);
		return 0;
	case PST_X_MODULE:
		return parse_module(pp, c);
	case PST_X_THREAD_FILE:
		return pa_parse_thread_file(pp, c);
	case PST_X_THREAD_FILE_LAZY:
		if (pa_parse_thread_file(pp, c))
			return -1;
		(*(struct pa_thread **)pa_vec_at(&pp->s->threads, pp->s->threads.len - 1))->lazy =
		    true;
		return 0;
	case PST_X_COUNTERS:
		return pa_parse_counters(pp, c);
	case PST_X_PROCESS_END:
		return parse_process_end(pp, c);
	case PST_X_THREAD_EXIT:
		return pa_parse_thread_exit(pp, c);
	case PST_X_CPU_TIMER:
		return parse_cpu_timer(pp, c);
	case PST_X_MEM_CONFIG:
		return parse_mem_config(pp, c);
	case PST_X_CCT_LIVE:
		return pa_parse_cct_live(pp, c);
	case PST_X_CCT_LIVE_END:
		return pa_parse_cct_live_end(pp, c);
	case PST_X_RUN_LINK:
		return parse_run_link(pp, c);
	case PST_X_IO_OPEN:
		return pa_parse_io_open(pp, c);
	case PST_X_PROCESS_CMDLINE:
		return parse_cmdline(pp, c);
	default:
		return 0; /* newer record kinds are skippable */
	}
}

/* A module map is closed by the next map; apply the last one's absences. */
static void finish_modules(struct proc_parse *pp)
{
	struct pa_session *s = pp->s;
	for (size_t i = 0; i < s->modules.len; i++) {
		struct pa_module *m = pa_vec_at(&s->modules, i);
		if (m->last_ticks == UINT64_MAX && m->generation != pp->map_gen)
			m->last_ticks = pp->map_ticks;
	}
}

static void calibrate(struct proc_parse *pp)
{
	struct pa_session *s = pp->s;
	double per_ns = (double)pp->tps_x1000 / 1e12;
	uint64_t dt = pp->sync_last[0] - pp->sync_first[0];
	uint64_t dm = pp->sync_last[1] - pp->sync_first[1];
	/* Two sync points far enough apart beat the start-up estimate. */
	if (pp->nsync >= 2 && pp->sync_last[0] > pp->sync_first[0] && dm >= 50000000u)
		per_ns = (double)dt / (double)dm;
	if (s->clock_kind == PST_CLOCK_MONOTONIC_NS || per_ns <= 0)
		per_ns = 1.0;
	s->ticks_per_ns = per_ns;
}

int pa_read_process_file(struct pa_session *s, const struct pa_mapped *m, struct pa_error *err)
{
	struct proc_parse pp = {.s = s, .path = s->path, .err = err};
	struct pa_cursor c;
	pa_cursor_init(&c, m->data, m->data_len);
	bool have_info = false;
	while (c.p < c.end) {
		size_t at = PST_DATA_OFFSET + pa_cursor_off(&c);
		uint64_t tag, len;
		if (pa_get_varint(&c, &tag))
			return pa_fail_at(err, s->path, at, "malformed record tag");
		if ((tag & PST_KIND_MASK) != PST_K_EXT)
			return pa_fail_at(err, s->path, at,
					  "record kind %u does not belong in a process file",
					  (unsigned)(tag & PST_KIND_MASK));
		if (pa_get_varint(&c, &len) || len > (uint64_t)(c.end - c.p))
			return pa_fail_at(err, s->path, at,
					  "record length runs past the end of data");
		struct pa_cursor body;
		pa_cursor_init(&body, c.p, (size_t)len);
		pp.base = PST_DATA_OFFSET + pa_cursor_off(&c);
		uint64_t ext = tag >> PST_KIND_BITS;
		if (!have_info && ext != PST_X_PROCESS_INFO)
			return pa_fail_at(err, s->path, at,
					  "the first record is not the process info");
		have_info = true;
		if (parse_process_ext(&pp, ext, &body))
			return -1;
		c.p += len;
	}
	if (!have_info)
		return pa_fail_at(err, s->path, PST_DATA_OFFSET,
				  "no records: the process file is empty");
	finish_modules(&pp);
	calibrate(&pp);
	return 0;
}
