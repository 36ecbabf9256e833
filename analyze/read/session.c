/*
 * Opening a session: map the process file and every thread file it lists,
 * validate their headers, and read the process file's records (process
 * info, clock calibration, module maps, thread list, counters).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dirent.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "run.h"
#include "session.h"
#include "zrun.h"

/* A mapped trace file with a validated header. */
struct mapped {
	const uint8_t *map;
	size_t size;
	const struct pst_file_header *hdr;
	const uint8_t *data; /* records */
	size_t data_len;     /* committed bytes */
};

static int map_file(const char *path, const char *magic, struct mapped *m, struct pa_session *s,
		    struct pa_error *err)
{
	memset(m, 0, sizeof(*m));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pa_fail_at(err, path, 0, "cannot open: %s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pa_fail_at(err, path, 0, "not a regular file");
	}
	if (st.st_size == 0) {
		close(fd);
		return pa_fail_at(err, path, 0, "empty file, not a profshim trace");
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return pa_fail_at(err, path, 0, "cannot map: %s", strerror(errno));
	m->map = p;
	m->size = (size_t)st.st_size;
	if (m->size < sizeof(struct pst_file_header))
		return pa_fail_at(err, path, m->size, "truncated: the %zu-byte header is cut short",
				  sizeof(struct pst_file_header));
	m->hdr = p;
	if (memcmp(m->hdr->magic, magic, PST_MAGIC_LEN) != 0) {
		int other = !memcmp(m->hdr->magic, PST_MAGIC_THREAD, PST_MAGIC_LEN) ||
			    !memcmp(m->hdr->magic, PST_MAGIC_PROCESS, PST_MAGIC_LEN);
		return pa_fail_at(err, path, 0, "%s",
				  other ? (!strcmp(magic, PST_MAGIC_PROCESS)
					       ? "this is a thread file; give the process file"
					       : "expected a thread file")
					: "not a profshim trace (bad magic)");
	}
	if (m->hdr->version < PST_VERSION_OLDEST || m->hdr->version > PST_VERSION)
		return pa_fail_at(
		    err, path, 8,
		    "trace format version %u, this profanalyze reads versions %u to %u%s",
		    m->hdr->version, PST_VERSION_OLDEST, PST_VERSION,
		    m->hdr->version > PST_VERSION
			? " (written by a newer profshim: read it with that profshim's profanalyze)"
			: "");
	if (m->hdr->header_size != PST_DATA_OFFSET)
		return pa_fail_at(err, path, 12, "bad header size %u", m->hdr->header_size);
	uint64_t committed = m->hdr->committed;
	if (m->size < PST_DATA_OFFSET || committed > m->size - PST_DATA_OFFSET)
		return pa_fail_at(
		    err, path, m->size,
		    "truncated: header says %llu bytes of records, the file holds %zu",
		    (unsigned long long)committed,
		    m->size > PST_DATA_OFFSET ? m->size - PST_DATA_OFFSET : 0);
	m->data = m->map + PST_DATA_OFFSET;
	m->data_len = (size_t)committed;
	/* Bytes written past the last whole record: a record torn by a crash. */
	size_t tail = m->size - PST_DATA_OFFSET - m->data_len;
	size_t torn = 0;
	for (size_t i = 0; i < tail && i < PST_MAX_RECORD; i++)
		if (m->data[m->data_len + i])
			torn = i + 1;
	if (torn)
		pa_warn(s,
			"%s: offset %zu: torn record at the end (%zu bytes) ignored; "
			"the %zu bytes before it are intact",
			path, PST_DATA_OFFSET + m->data_len, torn, m->data_len);
	/* Space a killed writer preallocated: nothing reads past data + torn. */
	if (tail > torn + 4096)
		pa_trim_file(path, m->hdr->pid, PST_DATA_OFFSET + m->data_len + torn);
	return 0;
}

static void unmap(struct mapped *m)
{
	if (m->map)
		munmap((void *)m->map, m->size);
	m->map = NULL;
}

/* --- process file records --- */

struct proc_parse {
	struct pa_session *s;
	const char *path;
	size_t base; /* file offset of the payload */
	struct pa_error *err;
	uint64_t map_gen; /* module map being read */
	unsigned maps_seen;
	uint64_t map_ticks;
	uint64_t sync_first[2], sync_last[2]; /* (ticks, mono ns) */
	unsigned nsync;
	uint64_t tps_x1000;
};

#define GET(c, v)                                                                                  \
	do {                                                                                       \
		if (pa_get_varint(c, v))                                                           \
			return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),          \
					  "malformed field");                                      \
	} while (0)

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

static int parse_thread_file(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t seq, tid, start;
	GET(c, &seq);
	GET(c, &tid);
	GET(c, &start);
	struct pa_session *s = pp->s;
	if (seq == 0 || seq > UINT32_MAX)
		return pa_fail_at(pp->err, pp->path, pp->base, "bad thread number %llu",
				  (unsigned long long)seq);
	for (size_t i = 0; i < s->threads.len; i++)
		if ((*(struct pa_thread **)pa_vec_at(&s->threads, i))->seq == seq)
			return pa_fail_at(pp->err, pp->path, pp->base, "thread %llu listed twice",
					  (unsigned long long)seq);
	struct pa_thread *t = pa_xcalloc(1, sizeof(*t));
	t->seq = (uint32_t)seq;
	t->tid = (uint32_t)tid;
	t->start_ticks = start;
	t->end_ticks = start;
	t->index = s->threads.len;
	char buf[32];
	snprintf(buf, sizeof(buf), ".t%u", t->seq);
	size_t plen = strlen(s->path);
	t->path = pa_xmalloc(plen + strlen(buf) + 1);
	memcpy(t->path, s->path, plen);
	strcpy(t->path + plen, buf);
	pa_vec_init(&t->cct, sizeof(struct pa_cct_node));
	pa_vec_init(&t->cct_live, sizeof(struct pa_cct_node));
	pa_vec_init(&t->stack_map, sizeof(uint32_t));
	pa_vec_init(&t->func_map, sizeof(uint32_t));
	*(struct pa_thread **)pa_vec_push(&s->threads) = t;
	return 0;
}

static struct pa_thread *thread_by_seq(struct pa_session *s, uint64_t seq)
{
	for (size_t i = 0; i < s->threads.len; i++) {
		struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&s->threads, i);
		if (t->seq == seq)
			return t;
	}
	return NULL;
}

/* Counters of threads still running at the end: (seq, pairs...). */
static int parse_counters(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t seq;
	GET(c, &seq);
	struct pa_thread *t = thread_by_seq(pp->s, seq);
	if (t)
		t->counters_here = true;
	while (c->p < c->end) {
		uint64_t id, v;
		GET(c, &id);
		GET(c, &v);
		if (id >= PST_C_COUNTER_MAX)
			continue; /* a counter newer than this reader */
		if (t)
			t->counters[id] = v;
	}
	return 0;
}

static uint32_t session_func(struct pa_session *s, uint64_t addr)
{
	uint32_t f = pa_pairmap_get(&s->func_index, addr, 0);
	if (!f) {
		((struct pa_func *)pa_vec_push(&s->funcs))->addr = addr;
		f = (uint32_t)(s->funcs.len - 1);
		pa_pairmap_put(&s->func_index, addr, 0, f);
	}
	return f;
}

/* A call tree node of a thread still running at the end (CCT_LIVE). */
static int parse_cct_live(struct proc_parse *pp, struct pa_cursor *c)
{
	struct pa_cct_node n;
	memset(&n, 0, sizeof(n));
	uint64_t seq, addr, nb;
	GET(c, &seq);
	GET(c, &n.id);
	GET(c, &n.parent);
	GET(c, &addr);
	GET(c, &n.calls);
	GET(c, &n.incl_ticks);
	GET(c, &n.excl_ticks);
	GET(c, &n.min_ticks);
	GET(c, &n.max_ticks);
	GET(c, &nb);
	if (nb > 64)
		return pa_fail_at(pp->err, pp->path, pp->base,
				  "call tree node with %llu histogram buckets",
				  (unsigned long long)nb);
	n.nbuckets = (uint32_t)nb;
	for (unsigned i = 0; i < nb; i++)
		GET(c, &n.buckets[i]);
	n.timed = n.stood_for = n.calls; /* absent from older writers: all timed */
	if (c->p < c->end)
		GET(c, &n.timed);
	if (c->p < c->end)
		GET(c, &n.stood_for);
	if (c->p < c->end) /* added later: absent, 0 */
		GET(c, &n.timed_sub);
	struct pa_thread *t = thread_by_seq(pp->s, seq);
	if (!t)
		return pa_fail_at(pp->err, pp->path, pp->base,
				  "call tree of thread %llu, which never started",
				  (unsigned long long)seq);
	n.func = session_func(pp->s, addr);
	*(struct pa_cct_node *)pa_vec_push(&t->cct_live) = n;
	return 0;
}

static int parse_cct_live_end(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t seq;
	GET(c, &seq);
	struct pa_thread *t = thread_by_seq(pp->s, seq);
	if (!t)
		return pa_fail_at(pp->err, pp->path, pp->base,
				  "call tree of thread %llu, which never started",
				  (unsigned long long)seq);
	pa_cct_commit(&t->cct_live, &t->cct_live_done);
	t->cct_live_marked = true;
	return 0;
}

void pa_cct_commit(struct pa_vec *v, size_t *done)
{
	size_t n = v->len - *done;
	if (*done)
		memmove(v->items, (char *)v->items + *done * v->item, n * v->item);
	v->len = n;
	*done = n;
}

void pa_cct_settle(struct pa_session *s, struct pa_thread *t)
{
	if (t->cct_marked && t->cct.len > t->cct_done) {
		pa_warn(
		    s,
		    "thread %u: its last call tree snapshot is cut short; the previous one is used",
		    t->seq);
		t->cct.len = t->cct_done;
	}
	t->cct_live.len = t->cct_live_marked ? t->cct_live_done : 0;
	if (!t->cct_marked && t->cct_live.len) {
		if (t->cct.len)
			pa_warn(s,
				"thread %u: its call tree is cut short; the one the process "
				"wrote at its end is used",
				t->seq);
		struct pa_vec tmp = t->cct;
		t->cct = t->cct_live;
		t->cct_live = tmp;
	}
	t->cct_live.len = 0;
}

/* A thread's end and last name: the fallback when its own file lost them. */
static int parse_thread_exit(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t seq, end;
	const char *name;
	size_t nlen;
	GET(c, &seq);
	GET(c, &end);
	if (pa_get_str(c, &name, &nlen, PST_MAX_STR))
		return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),
				  "malformed thread name");
	struct pa_thread *t = thread_by_seq(pp->s, seq);
	if (!t)
		return pa_fail_at(pp->err, pp->path, pp->base,
				  "end of thread %llu, which never started",
				  (unsigned long long)seq);
	t->end_ticks = end;
	t->ended = true;
	if (nlen >= sizeof(t->name))
		nlen = sizeof(t->name) - 1;
	memcpy(t->name, name, nlen);
	t->name[nlen] = 0;
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

/* A wait still in progress at the end (io recorder). */
static int parse_io_open(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t seq, op, obj, start, end, site;
	GET(c, &seq);
	GET(c, &op);
	GET(c, &obj);
	GET(c, &start);
	GET(c, &end);
	GET(c, &site);
	uint64_t desc = 0;
	if (c->p < c->end) /* older writers stop before it */
		GET(c, &desc);
	struct pa_thread *t = thread_by_seq(pp->s, seq);
	if (!t || op == 0 || op >= PST_IO_OP_MAX || start > end)
		return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),
				  "bad unfinished I/O record (thread %llu, operation %llu)",
				  (unsigned long long)seq, (unsigned long long)op);
	struct pa_io_open *o = pa_vec_push(&pp->s->io_open);
	o->thread = (uint32_t)t->index;
	o->op = (unsigned)op;
	o->obj = obj;
	o->start = start;
	o->end = end;
	o->site = site;
	o->desc = (uint32_t)desc;
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
		return parse_thread_file(pp, c);
	case PST_X_THREAD_FILE_LAZY:
		if (parse_thread_file(pp, c))
			return -1;
		(*(struct pa_thread **)pa_vec_at(&pp->s->threads, pp->s->threads.len - 1))->lazy =
		    true;
		return 0;
	case PST_X_COUNTERS:
		return parse_counters(pp, c);
	case PST_X_PROCESS_END:
		return parse_process_end(pp, c);
	case PST_X_THREAD_EXIT:
		return parse_thread_exit(pp, c);
	case PST_X_CPU_TIMER:
		return parse_cpu_timer(pp, c);
	case PST_X_MEM_CONFIG:
		return parse_mem_config(pp, c);
	case PST_X_CCT_LIVE:
		return parse_cct_live(pp, c);
	case PST_X_CCT_LIVE_END:
		return parse_cct_live_end(pp, c);
	case PST_X_RUN_LINK:
		return parse_run_link(pp, c);
	case PST_X_IO_OPEN:
		return parse_io_open(pp, c);
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

static int parse_process_records(struct pa_session *s, const struct mapped *m, struct pa_error *err)
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

/* --- thread files --- */

static int open_thread(struct pa_session *s, struct pa_thread *t, struct pa_error *err)
{
	struct mapped m;
	/* A file made on the thread's first record: none was made when its
	 * end put its counters here, or when the process was killed first.
	 * A process that ended with the thread's counters in its file lost
	 * the file. */
	if (t->lazy && (t->counters_here || !s->ended) && access(t->path, F_OK) != 0 &&
	    errno == ENOENT) {
		t->closed = t->ended;
		t->delta = true;
		t->now = t->start_ticks;
		return 0;
	}
	if (access(t->path, F_OK) != 0)
		return pa_fail_at(err, t->path, 0,
				  "missing thread file (thread %u, tid %u, listed in %s)", t->seq,
				  t->tid, s->path);
	if (map_file(t->path, PST_MAGIC_THREAD, &m, s, err)) {
		unmap(&m);
		return -1;
	}
	if (m.hdr->pid != s->pid || m.hdr->thread_seq != t->seq)
		return pa_fail_at(err, t->path, 16,
				  "belongs to another process or thread "
				  "(pid %u thread %u, expected pid %u thread %u)",
				  m.hdr->pid, m.hdr->thread_seq, s->pid, t->seq);
	t->map = m.map;
	t->map_len = m.size;
	t->data = m.data;
	t->data_len = m.data_len;
	t->closed = m.hdr->flags & PST_FLAG_CLOSED;
	t->delta = m.hdr->flags & PST_FLAG_DELTA;
	t->last_addr = t->last_stack = 0;
	t->ids = m.hdr->flags & PST_FLAG_ALLOC_IDS;
	t->mem_shift = t->ids ? m.hdr->mem_time_shift : 0;
	t->alloc_n = t->last_ref_n = 0;
	if (t->ids && (!t->delta || t->mem_shift > PST_MAX_MEM_TIME_SHIFT))
		return pa_fail_at(err, t->path, offsetof(struct pst_file_header, mem_time_shift),
				  "bad allocation-id header (mem_time_shift %u, flags %#x)",
				  m.hdr->mem_time_shift, m.hdr->flags);
	t->now = m.hdr->start_ticks;
	return 0;
}

int pa_session_open(struct pa_session *s, const char *path, struct pa_error *err)
{
	memset(s, 0, sizeof(*s));
	err->msg[0] = 0;
	s->path = pa_xstrdup(path);
	pa_vec_init(&s->modules, sizeof(struct pa_module));
	pa_vec_init(&s->threads, sizeof(struct pa_thread *));
	pa_vec_init(&s->stacks, sizeof(struct pa_stack_node));
	pa_vec_init(&s->funcs, sizeof(struct pa_func));
	pa_vec_init(&s->markers, sizeof(struct pa_marker));
	pa_vec_init(&s->io_open, sizeof(struct pa_io_open));
	pa_vec_init(&s->warnings, sizeof(char *));
	pa_vec_push(&s->stacks); /* node 0: the root */
	pa_vec_push(&s->funcs);	 /* func 0: unknown */
	struct mapped m;
	int rc = map_file(path, PST_MAGIC_PROCESS, &m, s, err);
	if (!rc)
		rc = parse_process_records(s, &m, err);
	unmap(&m);
	for (size_t i = 0; !rc && i < s->threads.len; i++)
		rc = open_thread(s, *(struct pa_thread **)pa_vec_at(&s->threads, i), err);
	if (!s->ended)
		pa_warn(s,
			"%s: the process did not end normally (killed, crashed or _exit); "
			"everything recorded up to then is read",
			path);
	return rc;
}

void pa_session_close(struct pa_session *s)
{
	for (size_t i = 0; i < s->threads.len; i++) {
		struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&s->threads, i);
		pa_zrun_free(t); /* first: its read-ahead thread reads the mapping */
		if (t->map)
			munmap((void *)t->map, t->map_len);
		pa_vec_free(&t->cct);
		pa_vec_free(&t->cct_live);
		pa_vec_free(&t->stack_map);
		pa_vec_free(&t->func_map);
		free(t->path);
		free(t);
	}
	for (size_t i = 0; i < s->modules.len; i++)
		free(((struct pa_module *)pa_vec_at(&s->modules, i))->path);
	for (size_t i = 0; i < s->markers.len; i++)
		free(((struct pa_marker *)pa_vec_at(&s->markers, i))->name);
	for (size_t i = 0; i < s->warnings.len; i++)
		free(*(char **)pa_vec_at(&s->warnings, i));
	for (int i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	free(s->exe);
	free(s->path);
	free(s->command);
	free(s->parent_file);
	free(s->previous_file);
	pa_vec_free(&s->modules);
	pa_vec_free(&s->threads);
	pa_vec_free(&s->stacks);
	pa_vec_free(&s->funcs);
	pa_vec_free(&s->markers);
	pa_vec_free(&s->io_open);
	pa_vec_free(&s->warnings);
	pa_pairmap_free(&s->stack_index);
	pa_pairmap_free(&s->func_index);
}

/* --- time and modules --- */

double pa_ticks_to_ns(const struct pa_session *s, uint64_t ticks)
{
	return (double)ticks / s->ticks_per_ns;
}

double pa_ns_since_start(const struct pa_session *s, uint64_t ticks)
{
	if (ticks < s->start_ticks)
		return 0;
	return pa_ticks_to_ns(s, ticks - s->start_ticks);
}

uint64_t pa_session_duration_ticks(const struct pa_session *s)
{
	return s->end_ticks > s->start_ticks ? s->end_ticks - s->start_ticks : 0;
}

const struct pa_module *pa_module_for(const struct pa_session *s, uint64_t pc, uint64_t ticks)
{
	const struct pa_module *any = NULL;
	for (size_t i = 0; i < s->modules.len; i++) {
		const struct pa_module *m = pa_vec_at(&s->modules, i);
		if (pc < m->lo || pc >= m->hi)
			continue;
		if (ticks >= m->first_ticks && ticks < m->last_ticks)
			return m;
		any = m;
	}
	return any;
}

/* --- related processes --- */

/* pid and ppid from the process file at path, without reading more. */
static int peek_process(const char *path, uint32_t *pid, uint32_t *ppid)
{
	struct pa_session tmp;
	struct pa_error err;
	memset(&tmp, 0, sizeof(tmp));
	pa_vec_init(&tmp.warnings, sizeof(char *));
	struct mapped m;
	int rc = map_file(path, PST_MAGIC_PROCESS, &m, &tmp, &err);
	if (!rc) {
		struct pa_cursor c;
		uint64_t tag, len, v1 = 0, v2 = 0;
		pa_cursor_init(&c, m.data, m.data_len);
		rc = pa_get_varint(&c, &tag) ||
		     tag != ((PST_X_PROCESS_INFO << PST_KIND_BITS) | PST_K_EXT) ||
		     pa_get_varint(&c, &len) || pa_get_varint(&c, &v1) || pa_get_varint(&c, &v2);
		*pid = (uint32_t)v1;
		*ppid = (uint32_t)v2;
	}
	unmap(&m);
	for (size_t i = 0; i < tmp.warnings.len; i++)
		free(*(char **)pa_vec_at(&tmp.warnings, i));
	pa_vec_free(&tmp.warnings);
	return rc ? -1 : 0;
}

static bool all_digits(const char *p)
{
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* In a run directory: the processes this image started and the image that
 * replaced it, from the run's tree. false when s is not in a run. */
static bool related_in_run(const struct pa_session *s, struct pa_vec *out)
{
	size_t plen = strlen(s->path);
	if (!s->has_run_link || plen < 7 || strcmp(s->path + plen - 6, ".trace"))
		return false;
	char *dcopy = pa_xstrdup(s->path);
	const char *base = strrchr(s->path, '/');
	base = base ? base + 1 : s->path;
	struct pa_run r;
	struct pa_error err;
	bool ok = !pa_run_open(&r, dirname(dcopy), &err);
	long self = -1;
	for (size_t i = 0; ok && i < r.procs.len; i++)
		if (!strcmp(pa_run_at(&r, i)->file, base))
			self = (long)i;
	for (size_t k = 0; self >= 0 && k < r.order.len; k++) {
		size_t i = *(size_t *)pa_vec_at(&r.order, k);
		const struct pa_run_proc *p = pa_run_at(&r, i);
		if (p->parent != self && p->prev != self)
			continue;
		struct pa_related *rel = pa_vec_push(out);
		rel->pid = p->pid;
		rel->exec = p->prev == self;
		rel->path = pa_xstrdup(p->path);
	}
	pa_run_close(&r);
	free(dcopy);
	return self >= 0;
}

void pa_session_related(const struct pa_session *s, struct pa_vec *out)
{
	pa_vec_init(out, sizeof(struct pa_related));
	if (related_in_run(s, out))
		return;
	char *dcopy = pa_xstrdup(s->path), *bcopy = pa_xstrdup(s->path);
	const char *dir = dirname(dcopy), *base = basename(bcopy);
	size_t blen = strlen(base);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, base, blen) || e->d_name[blen] != '.' ||
		    !all_digits(e->d_name + blen + 1))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		uint32_t pid = 0, ppid = 0;
		if (peek_process(path, &pid, &ppid))
			continue;
		if (ppid != s->pid && pid != s->pid)
			continue;
		struct pa_related *r = pa_vec_push(out);
		r->pid = pid;
		r->exec = pid == s->pid;
		r->path = pa_xstrdup(path);
	}
	if (d)
		closedir(d);
	free(dcopy);
	free(bcopy);
}
