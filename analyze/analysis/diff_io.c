/*
 * The diff's I/O section: per file and peer (io recorder), calls, bytes
 * read and written and time in the calls, before -> after.
 *
 * Files match by path. A connection a server accepted is named by its
 * client's address and an ephemeral port that differs from run to run,
 * so it matches by address and the local port it was accepted on; a
 * connection the process made matches by its peer's address and port.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "diff_rows.h"
#include "io_model.h"
#include "models.h"

/* "10.0.0.5:51234 (accepted on port 80)" -> "10.0.0.5 (accepted on port
 * 80)"; every other name as it is. */
static void group_key(const struct io_group *g, char *key, size_t cap)
{
	const char *acc = strstr(g->name, " (accepted on port ");
	const char *colon = acc ? memrchr(g->name, ':', (size_t)(acc - g->name)) : NULL;
	if (colon)
		snprintf(key, cap, "%.*s%s", (int)(colon - g->name), g->name, acc);
	else
		snprintf(key, cap, "%s", g->name);
}

static bool has_io(const struct pa_models *pm)
{
	return pm->io && io_model_has_data(pm->io) && pm->io->groups.len;
}

static bool side_has_io(const struct pa_diff_side *side)
{
	for (size_t k = 0; k < side->n; k++)
		if (has_io(side->runs[k]))
			return true;
	return false;
}

/* A side's totals over the files and peers of its processes. */
struct io_totals {
	double calls, bytes;
};

static struct io_totals side_totals(const struct pa_diff_side *side)
{
	struct io_totals t = {0, 0};
	for (size_t k = 0; k < side->n; k++) {
		if (!has_io(side->runs[k]))
			continue;
		const struct io_model *m = side->runs[k]->io;
		for (size_t i = 0; i < m->groups.len; i++) {
			const struct io_group *g = pa_vec_at(&m->groups, i);
			t.calls += (double)g->st.count;
			t.bytes += (double)(g->bytes_read + g->bytes_written);
		}
	}
	return t;
}

static void io_side(struct pa_diff *d, struct row_index *ix, const struct pa_models *pm,
		    const struct io_totals *side, bool new_side, double norm)
{
	const struct io_model *m = pm->io;
	char key[PST_MAX_STR + 64];
	for (size_t i = 0; i < m->groups.len; i++) {
		const struct io_group *g = pa_vec_at(&m->groups, i);
		if (!g->st.count)
			continue;
		group_key(g, key, sizeof(key));
		struct diff_row *r = diff_row_for(&d->io, ix, key, NULL);
		/* calls first: the same work in more system calls (unbuffered,
		 * reopened, chatty) is the usual I/O regression; bytes and time
		 * are beside it */
		diff_metric_set(r, 0, d->shares ? "calls_pct" : "calls", d->shares ? "%" : "calls");
		diff_metric_set(r, 1, d->shares ? "bytes_pct" : "bytes", d->shares ? "%" : "bytes");
		diff_metric_set(r, 2, "time_s", "s");
		diff_metric_set(r, 3, "bytes_read", "bytes");
		diff_metric_set(r, 4, "bytes_written", "bytes");
		double moved = (double)(g->bytes_read + g->bytes_written);
		double nc = d->shares ? side->calls / 100 : norm;
		double nb = d->shares ? side->bytes / 100 : norm;
		double per = d->shares ? 1 : norm;
		diff_set_side(r, 0, new_side, nc > 0 ? (double)g->st.count / nc : 0);
		diff_set_side(r, 1, new_side, nb > 0 ? moved / nb : 0);
		diff_set_side(r, 2, new_side, g->st.total_ns / 1e9 / per);
		diff_set_side(r, 3, new_side, (double)g->bytes_read / per);
		diff_set_side(r, 4, new_side, (double)g->bytes_written / per);
	}
}

void diff_io(struct pa_diff *d)
{
	d->io.key = "io";
	d->io.title = "I/O by file and peer (calls; bytes read and written, time)";
	pa_vec_init(&d->io.rows, sizeof(struct diff_row));
	bool b = side_has_io(&d->bside), n = side_has_io(&d->nside);
	if (!b || !n) {
		diff_not_compared(&d->io, "I/O (PROFSHIM_RECORD=...,io)", b, n);
		return;
	}
	d->io.compared = true;
	struct row_index ix;
	pa_pairmap_init(&ix.map);
	struct io_totals tb = side_totals(&d->bside), tn = side_totals(&d->nside);
	for (size_t k = 0; k < d->bside.n; k++)
		if (has_io(d->bside.runs[k]))
			io_side(d, &ix, d->bside.runs[k], &tb, false, d->norm_base);
	for (size_t k = 0; k < d->nside.n; k++)
		if (has_io(d->nside.runs[k]))
			io_side(d, &ix, d->nside.runs[k], &tn, true, d->norm_new);
	pa_pairmap_free(&ix.map);
	double run = d->shares ? 100 : tb.calls / d->norm_base;
	for (size_t i = 0; i < d->io.rows.len; i++)
		diff_settle_row(pa_vec_at(&d->io.rows, i), run, 0);
	diff_rank(&d->io);
}
