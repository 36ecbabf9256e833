/*
 * Findings on files and pipes (io recorder): many tiny read/write calls on
 * one file that a buffer would merge, the same file opened and closed over
 * and over, and storms of fsync. Also the helpers every io detector shares
 * (findings_io.h).
 *
 * Impacts are wall time the calls took that the fix would not need, so
 * they rank against CPU and memory findings as a share of the run's wall
 * time; the counts say how many system calls the fix saves.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "findings_io.h"
#include "symbols.h"

/* small_io: a direction (reads or writes) of one file with this many
 * calls that moved data, averaging under SMALL_MAX_AVG bytes each. A
 * buffer of SMALL_BUFFER bytes would make one call of many. */
#define SMALL_MIN_CALLS 1000
#define SMALL_MAX_AVG 512.0
#define SMALL_BUFFER 65536.0
/* reopened_file: one path opened this many times (successfully). */
#define REOPEN_MIN_OPENS 100
/* fsync_storm: this many syncs at this rate (per second between the
 * first and the last); a sync per second (a log's "every second" policy)
 * is a design, not a storm. */
#define SYNC_MIN_CALLS 100
#define SYNC_MIN_RATE 10.0
#define SYNC_BATCH 10.0 /* syncs merged into one by batching: the estimate */

/* --- shared helpers --- */

double fio_wall_s(const struct pa_models *pm)
{
	return pa_ticks_to_ns(pm->s, pa_session_duration_ticks(pm->s)) / 1e9;
}

double fio_share(double seconds, double wall_s)
{
	return wall_s > 0 ? seconds / wall_s : 0;
}

static bool is_libc(const char *module)
{
	return module && (strstr(module, "/libc.so") || strstr(module, "/libc-") ||
			  strstr(module, "/libpthread"));
}

static void push_frame(struct finding *f, const struct pa_frame *fr)
{
	char buf[1024];
	if (fr->file && fr->line)
		snprintf(buf, sizeof(buf), "%s (%s:%d)", fr->function, fr->file, fr->line);
	else
		snprintf(buf, sizeof(buf), "%s", fr->function);
	finding_stack_push(f, buf);
}

struct fio_where fio_where_of(const struct io_block *b)
{
	return (struct fio_where){b->site, b->stack, b->end};
}

void fio_site_where(const struct pa_models *pm, struct fio_where w, struct finding *f)
{
	const struct io_model *m = pm->io;
	if (w.site >= m->sites.len)
		return;
	const struct io_site *st = pa_vec_at(&m->sites, w.site);
	if (!w.stack) {
		w.stack = st->stack;
		w.ticks = st->stack_ticks;
	}
	struct pa_vec frames;
	pa_vec_init(&frames, sizeof(const struct pa_frame *));
	int n;
	if (w.stack) {
		n = pa_stack_frames(pm, w.stack, false, w.ticks, &frames);
	} else {
		/* no stack recorded: the call site alone (return address) */
		const struct pa_frame *fr;
		n = pa_symbols_resolve(pm->syms, st->pc, true, 0, &fr);
		for (int i = n - 1; i >= 0; i--)
			*(const struct pa_frame **)pa_vec_push(&frames) = &fr[i];
	}
	const struct pa_frame *own = NULL, *fallback = NULL;
	for (int i = n - 1; i >= 0; i--) {
		const struct pa_frame *fr =
		    *(const struct pa_frame **)pa_vec_at(&frames, (size_t)i);
		bool plumbing = finding_frame_is_plumbing(fr->function, fr->module);
		if (!fallback && !plumbing)
			fallback = fr;
		/* an unnamed frame ("module+0xoff") says less than a named caller */
		if (!own && !plumbing && !is_libc(fr->module) && !strstr(fr->function, "+0x"))
			own = fr;
		push_frame(f, fr);
	}
	if (!own)
		own = fallback;
	if (own)
		finding_where(f, own->function, own->file, own->line);
	pa_vec_free(&frames);
}

uint32_t fio_block_group(const struct io_model *m, const struct io_block *b)
{
	const struct io_group *g = b->desc ? io_desc_group(m, b->desc) : NULL;
	return g ? (uint32_t)(g - (const struct io_group *)m->groups.items) : UINT32_MAX;
}

void fio_tally_init(struct fio_tally *t)
{
	pa_vec_init(&t->rows, sizeof(struct fio_tally_row));
	pa_pairmap_init(&t->index);
}

void fio_tally_add(struct fio_tally *t, uint64_t key, uint32_t id, const struct io_block *b)
{
	uint32_t i = pa_pairmap_get(&t->index, key, id);
	if (!i) {
		struct fio_tally_row *r = pa_vec_push(&t->rows);
		*r = (struct fio_tally_row){key, id, 0, {id, 0, 0}};
		i = (uint32_t)t->rows.len;
		pa_pairmap_put(&t->index, key, id, i);
	}
	struct fio_tally_row *r = pa_vec_at(&t->rows, i - 1);
	r->count++;
	if (b && b->stack && !r->first.stack)
		r->first = fio_where_of(b);
}

struct fio_where fio_tally_top(const struct fio_tally *t, uint64_t key)
{
	struct fio_where best = {UINT32_MAX, 0, 0};
	uint64_t most = 0;
	for (size_t i = 0; i < t->rows.len; i++) {
		const struct fio_tally_row *r = pa_vec_at(&t->rows, i);
		if (r->key == key && r->count > most) {
			most = r->count;
			best = r->first;
		}
	}
	return best;
}

void fio_tally_free(struct fio_tally *t)
{
	pa_vec_free(&t->rows);
	pa_pairmap_free(&t->index);
}

/* --- small unbuffered I/O --- */

static bool is_data_call(unsigned op)
{
	switch (op) {
	case PST_IO_READ:
	case PST_IO_WRITE:
	case PST_IO_PREAD:
	case PST_IO_PWRITE:
	case PST_IO_READV:
	case PST_IO_WRITEV:
	case PST_IO_PREADV:
	case PST_IO_PWRITEV:
		return true;
	default:
		return false;
	}
}

static bool is_write_op(unsigned op)
{
	return op == PST_IO_WRITE || op == PST_IO_PWRITE || op == PST_IO_WRITEV ||
	       op == PST_IO_PWRITEV;
}

/* Files and pipes only: sockets are chatty_network's, and event
 * descriptors (eventfd, timerfd: 8 bytes per call by design) are
 * signals, not data. */
static bool small_io_group(const struct io_group *g)
{
	return g->cls == IO_CLASS_FILE && g->kind != PST_FD_OTHER && !strstr(g->name, "anon_inode");
}

struct dir_acc {
	uint64_t calls, bytes, asked;
	double ns;
};

/* A pipe the process both writes and reads a few bytes at a time is a
 * token or wake-up channel (make's jobserver, a self-pipe), not data a
 * buffer could merge. */
#define TOKEN_MAX_AVG 8.0
static bool token_pipe(const struct io_group *g, const struct dir_acc *reads,
		       const struct dir_acc *writes)
{
	bool pipe = g->kind == PST_FD_PIPE || strstr(g->name, "pipe");
	return pipe && reads->calls && writes->calls &&
	       (double)(reads->bytes + writes->bytes) <=
		   TOKEN_MAX_AVG * (double)(reads->calls + writes->calls);
}

static void small_io_finding(const struct pa_models *pm, const struct io_group *g, bool write,
			     const struct dir_acc *a, struct fio_where site, struct findings *out)
{
	double wall = fio_wall_s(pm);
	double needed = ceil((double)a->bytes / SMALL_BUFFER);
	if (needed < 1)
		needed = 1;
	double saved_calls = (double)a->calls - needed;
	double saved = a->ns / 1e9 * saved_calls / (double)a->calls;
	char t[32], b[32];
	struct finding *f = finding_add(out, "small_io", fio_share(saved, wall));
	finding_impact(f, saved, "wall_seconds", 100 * fio_share(saved, wall),
		       "about %s of wall time and %.0f system calls (of %" PRIu64
		       ") with a 64 KiB buffer",
		       finding_seconds(saved, t, sizeof(t)), saved_calls, a->calls);
	fio_site_where(pm, site, f);
	finding_object(f, g->name);
	finding_summary(f, "%" PRIu64 " %s calls of %.0f bytes on average (%s in all) on %s",
			a->calls, write ? "write" : "read", (double)a->bytes / (double)a->calls,
			finding_bytes((double)a->bytes, b, sizeof(b)), g->name);
	finding_count(f, "calls", (double)a->calls);
	finding_count(f, "bytes", (double)a->bytes);
	finding_count(f, "avg_bytes", (double)a->bytes / (double)a->calls);
	finding_count(f, "syscalls_saved", saved_calls);
	finding_count(f, "seconds_in_calls", a->ns / 1e9);
	finding_recommend(f, write ? "Collect the small writes in a buffer and write it in one "
				     "call (stdio with setvbuf, or your own buffer flushed when "
				     "full), or gather them with writev."
				   : "Read in large blocks (64 KiB) into a buffer and parse from "
				     "there (stdio's fread/getline do this), instead of a system "
				     "call per record.");
}

void findings_small_io(const struct pa_models *pm, struct findings *out)
{
	const struct io_model *m = pm->io;
	if (!m || !m->calls || !m->groups.len)
		return;
	struct dir_acc *acc = pa_xcalloc(m->groups.len * 2, sizeof(*acc));
	struct fio_tally sites;
	fio_tally_init(&sites);
	for (size_t i = 0; i < m->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&m->blocks, i);
		if (!is_data_call(b->op) || b->result <= 0)
			continue;
		uint32_t g = fio_block_group(m, b);
		if (g == UINT32_MAX || !small_io_group(pa_vec_at(&m->groups, g)))
			continue;
		uint64_t key = (uint64_t)g * 2 + is_write_op(b->op);
		acc[key].calls++;
		acc[key].bytes += b->bytes;
		acc[key].asked += b->asked;
		acc[key].ns += b->ns;
		fio_tally_add(&sites, key, b->site, b);
	}
	for (size_t key = 0; key < m->groups.len * 2; key++) {
		const struct dir_acc *a = &acc[key];
		const struct io_group *g = pa_vec_at(&m->groups, key / 2);
		/* a reader that asks for a large buffer and gets little is
		 * paced by its writer, not unbuffered */
		if (a->calls < SMALL_MIN_CALLS ||
		    (double)a->bytes / (double)a->calls >= SMALL_MAX_AVG ||
		    (double)a->asked / (double)a->calls >= SMALL_MAX_AVG ||
		    token_pipe(g, &acc[key & ~(size_t)1], &acc[key | 1]))
			continue;
		small_io_finding(pm, g, key & 1, a, fio_tally_top(&sites, key), out);
	}
	fio_tally_free(&sites);
	free(acc);
}

/* --- the same file opened again and again --- */

struct open_acc {
	uint64_t opens;
	double ns; /* opens and closes */
};

static bool is_open(unsigned op)
{
	return op == PST_IO_OPEN || op == PST_IO_FOPEN;
}

static bool is_close(unsigned op)
{
	return op == PST_IO_CLOSE || op == PST_IO_FCLOSE;
}

void findings_reopened_files(const struct pa_models *pm, struct findings *out)
{
	const struct io_model *m = pm->io;
	if (!m || !m->calls || !m->groups.len)
		return;
	struct open_acc *acc = pa_xcalloc(m->groups.len, sizeof(*acc));
	struct fio_tally sites;
	fio_tally_init(&sites);
	for (size_t i = 0; i < m->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&m->blocks, i);
		if (!is_open(b->op) && !is_close(b->op))
			continue;
		uint32_t g = fio_block_group(m, b);
		if (g == UINT32_MAX)
			continue;
		acc[g].ns += b->ns;
		if (is_open(b->op) && b->result >= 0) {
			acc[g].opens++;
			fio_tally_add(&sites, g, b->site, b);
		}
	}
	double wall = fio_wall_s(pm);
	for (size_t g = 0; g < m->groups.len; g++) {
		const struct io_group *grp = pa_vec_at(&m->groups, g);
		/* a file nothing is read from or written to (a directory opened
		 * to sync it, a lock file) is a side effect of something else */
		if (acc[g].opens < REOPEN_MIN_OPENS || grp->kind != PST_FD_FILE ||
		    !(grp->reads + grp->writes))
			continue;
		double n = (double)acc[g].opens;
		double saved = acc[g].ns / 1e9 * (n - 1) / n;
		char t[32];
		struct finding *f = finding_add(out, "reopened_file", fio_share(saved, wall));
		finding_impact(f, saved, "wall_seconds", 100 * fio_share(saved, wall),
			       "at least %s of wall time and %.0f open/close pairs",
			       finding_seconds(saved, t, sizeof(t)), n - 1);
		fio_site_where(pm, fio_tally_top(&sites, g), f);
		finding_object(f, grp->name);
		finding_summary(
		    f, "%s was opened %.0f times (%" PRIu64 " reads, %" PRIu64 " writes in all)",
		    grp->name, n, grp->reads, grp->writes);
		finding_count(f, "opens", n);
		finding_count(f, "syscalls_saved", 2 * (n - 1));
		finding_count(f, "seconds_in_open_close", acc[g].ns / 1e9);
		finding_count(f, "reads", (double)grp->reads);
		finding_count(f, "writes", (double)grp->writes);
		finding_recommend(f, "Open the file once and keep the descriptor (pread/pwrite or "
				     "lseek to reuse it), or cache what you read from it while it "
				     "has not changed.");
	}
	fio_tally_free(&sites);
	free(acc);
}

/* --- fsync storms --- */

static bool is_sync(unsigned op)
{
	return op == PST_IO_FSYNC || op == PST_IO_FDATASYNC || op == PST_IO_SYNC_RANGE;
}

void findings_fsync_storms(const struct pa_models *pm, struct findings *out)
{
	const struct io_model *m = pm->io;
	if (!m || !m->calls)
		return;
	uint64_t n = 0, first = 0, last = 0;
	double ns = 0;
	struct fio_tally files, sites;
	fio_tally_init(&files);
	fio_tally_init(&sites);
	for (size_t i = 0; i < m->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&m->blocks, i);
		if (!is_sync(b->op))
			continue;
		if (!n++)
			first = b->ticks;
		last = b->ticks;
		ns += b->ns;
		fio_tally_add(&sites, 0, b->site, b);
		uint32_t g = fio_block_group(m, b);
		if (g != UINT32_MAX)
			fio_tally_add(&files, 0, g, NULL);
	}
	double span_s = pa_ticks_to_ns(m->s, last - first) / 1e9;
	double rate = span_s > 0 ? (double)(n - 1) / span_s : 0;
	if (n >= SYNC_MIN_CALLS && rate >= SYNC_MIN_RATE) {
		double wall = fio_wall_s(pm);
		double saved = ns / 1e9 * (1 - 1 / SYNC_BATCH);
		char t[32], u[32];
		struct finding *f = finding_add(out, "fsync_storm", fio_share(saved, wall));
		finding_impact(f, saved, "wall_seconds", 100 * fio_share(saved, wall),
			       "about %s of wall time waiting for the disk, syncing once per %.0f "
			       "writes (the syncs took %s)",
			       finding_seconds(saved, t, sizeof(t)), SYNC_BATCH,
			       finding_seconds(ns / 1e9, u, sizeof(u)));
		fio_site_where(pm, fio_tally_top(&sites, 0), f);
		uint32_t g = fio_tally_top(&files, 0).site;
		size_t nfiles = files.rows.len;
		if (g != UINT32_MAX) {
			const struct io_group *grp = pa_vec_at(&m->groups, g);
			char obj[PST_MAX_STR + 64];
			if (nfiles > 1)
				snprintf(obj, sizeof(obj), "%s (and %zu other files)", grp->name,
					 nfiles - 1);
			else
				snprintf(obj, sizeof(obj), "%s", grp->name);
			finding_object(f, obj);
		}
		finding_summary(f, "%" PRIu64 " fsync/fdatasync calls, %.0f per second", n, rate);
		finding_count(f, "syncs", (double)n);
		finding_count(f, "per_second", rate);
		finding_count(f, "seconds_in_syncs", ns / 1e9);
		finding_count(f, "files", (double)nfiles);
		finding_count(f, "syscalls_saved", (double)n * (1 - 1 / SYNC_BATCH));
		finding_recommend(f, "Sync once per batch of writes (a transaction, a group "
				     "commit, or on a timer) instead of after each one; fdatasync "
				     "skips the metadata when only the contents matter.");
	}
	fio_tally_free(&files);
	fio_tally_free(&sites);
}
