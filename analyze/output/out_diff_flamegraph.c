/*
 * profanalyze diff --format=flamegraph: a differential flame graph. The
 * shape is NEW's CPU profile (width = NEW's CPU time, root at the bottom,
 * threads merged); a frame is red where it grew against BASE and blue
 * where it shrank, the deeper the colour the larger the change (light
 * grey: within DIFF_NEUTRAL or three standard deviations of the two
 * sample counts). Frames are matched by the path of function names
 * from the root, so a rebuilt binary compares. Each frame carries its
 * change as a tooltip (<title>) and its name as SVG text: the graph
 * reads without JavaScript.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "findings.h"
#include "models.h"
#include "sample_model.h"

#define WIDTH 1200.0
#define FRAME_H 17
#define PAD_TOP 50
#define PAD_SIDE 10.0
#define MIN_FRACTION 0.001
#define DIFF_NEUTRAL 0.05 /* relative changes under this stay white */

struct fnode {
	const char *name;
	uint32_t parent, first_child, next_sibling;
	double base, new;	  /* normalized CPU seconds (totals) */
	double base_var, new_var; /* variances of base and new (seconds^2) */
	int depth;
};

struct ftree {
	struct pa_vec nodes; /* struct fnode; [0] = root */
	int max_depth;
};

static struct fnode *fat(struct ftree *t, uint32_t i)
{
	return pa_vec_at(&t->nodes, i);
}

static uint32_t child_named(struct ftree *t, uint32_t parent, const char *name)
{
	for (uint32_t c = fat(t, parent)->first_child; c; c = fat(t, c)->next_sibling)
		if (!strcmp(fat(t, c)->name, name))
			return c;
	struct fnode *n = pa_vec_push(&t->nodes);
	uint32_t id = (uint32_t)t->nodes.len - 1;
	struct fnode *p = fat(t, parent);
	n = fat(t, id);
	n->name = name;
	n->parent = parent;
	n->depth = p->depth + 1;
	n->next_sibling = p->first_child;
	p->first_child = id;
	if (n->depth > t->max_depth)
		t->max_depth = n->depth;
	return id;
}

/* Add one side's CPU tree (threads merged under the root). */
static void add_side(struct ftree *t, const struct cpu_model *m, double norm, bool new_side)
{
	uint32_t *map = pa_xcalloc(m->nodes.len, sizeof(*map));
	for (size_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, (uint32_t)i);
		if (n->func < 0) {
			map[i] = 0;
		} else {
			map[i] = child_named(t, map[n->parent], cpu_func_at(m, n->func)->name);
		}
		double v = (double)n->total * m->period_s / norm;
		/* a count w has variance w: in seconds, w (period / norm)^2 */
		double var = (double)n->total * (m->period_s / norm) * (m->period_s / norm);
		if (n->func >= 0) {
			struct fnode *f = fat(t, map[i]);
			if (new_side) {
				f->new += v;
				f->new_var += var;
			} else {
				f->base += v;
				f->base_var += var;
			}
		}
	}
	double all = (double)m->weight * m->period_s / norm;
	if (new_side)
		fat(t, 0)->new += all;
	else
		fat(t, 0)->base += all;
	free(map);
}

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '"')
			fputs("&quot;", out);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, out);
	}
}

static void colour(const struct fnode *n, char *buf, size_t cap)
{
	double big = n->base > n->new ? n->base : n->new;
	double d = big > 0 ? (n->new - n->base) / big : 0;
	double noise = 3 * sqrt(n->base_var + n->new_var);
	if (fabs(d) < DIFF_NEUTRAL || fabs(n->new - n->base) <= noise) {
		snprintf(buf, cap, "rgb(240,240,240)");
		return;
	}
	int shade = (int)(60 + 170 * fabs(d));
	if (shade > 230)
		shade = 230;
	if (d > 0)
		snprintf(buf, cap, "rgb(255,%d,%d)", 255 - shade, 255 - shade);
	else
		snprintf(buf, cap, "rgb(%d,%d,255)", 255 - shade, 255 - shade);
}

static void draw(FILE *out, struct ftree *t, uint32_t i, double x, double scale, double height)
{
	const struct fnode *n = fat(t, i);
	double w = n->new *scale;
	if (w < MIN_FRACTION * (WIDTH - 2 * PAD_SIDE))
		return;
	double y = height - (n->depth + 1) * FRAME_H;
	char fill[40], a[32], b[32], ch[32];
	colour(n, fill, sizeof(fill));
	if (n->base > 0)
		snprintf(ch, sizeof(ch), "%+.1f%%", 100 * (n->new - n->base) / n->base);
	else
		snprintf(ch, sizeof(ch), "new");
	fputs("<g><title>", out);
	xml_text(out, n->name);
	fprintf(out, ": %s -> %s (%s)</title>", finding_seconds(n->base, a, sizeof(a)),
		finding_seconds(n->new, b, sizeof(b)), ch);
	fprintf(out,
		"<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"%s\" "
		"stroke=\"white\" stroke-width=\"0.5\"/>",
		x, y, w, FRAME_H - 1, fill);
	int chars = (int)(w / 7);
	if (chars >= 3) {
		char label[256];
		snprintf(label, sizeof(label), "%s", n->name);
		if ((int)strlen(label) > chars) {
			label[chars > 2 ? chars - 2 : 0] = 0;
			strcat(label, "..");
		}
		fprintf(out, "<text x=\"%.2f\" y=\"%.0f\">", x + 3, y + FRAME_H - 5);
		xml_text(out, label);
		fputs("</text>", out);
	}
	fputs("</g>\n", out);
	for (uint32_t c = n->first_child; c; c = fat(t, c)->next_sibling) {
		draw(out, t, c, x, scale, height);
		x += fat(t, c)->new *scale;
	}
}

/* The root, pushed first (its pointer is only good until the next push). */
static struct fnode *fat_root(struct ftree *t)
{
	pa_vec_push(&t->nodes);
	return fat(t, 0);
}

int diff_write_flamegraph(const struct pa_diff *d, FILE *out)
{
	const struct cpu_model *b = d->base->cpu, *n = d->new->cpu;
	if (!d->cpu.compared) {
		fprintf(stderr, "profanalyze diff: --format=flamegraph: cannot compare CPU: %s\n",
			d->cpu.why ? d->cpu.why : "no samples");
		return -1;
	}
	struct ftree t = {0};
	pa_vec_init(&t.nodes, sizeof(struct fnode));
	fat_root(&t)->name = "all";
	add_side(&t, n, d->norm_new, true);
	add_side(&t, b, d->norm_base, false);
	/* node 0 by index: adding the sides moved the vector */
	double scale = fat(&t, 0)->new > 0 ? (WIDTH - 2 * PAD_SIDE) / fat(&t, 0)->new : 0;
	double height = PAD_TOP + (t.max_depth + 1) * FRAME_H + 10;
	fprintf(
	    out,
	    "<?xml version=\"1.0\" standalone=\"no\"?>\n"
	    "<svg version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n"
	    "<style>text { font-family: monospace; font-size: 11px; fill: black; "
	    "pointer-events: none; }</style>\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	    "<text x=\"%.0f\" y=\"20\" style=\"font-size:15px\">Differential flame graph: NEW's "
	    "CPU, red grew, blue shrank against BASE</text>\n"
	    "<text x=\"%.0f\" y=\"36\">BASE ",
	    WIDTH, height, PAD_SIDE, PAD_SIDE);
	xml_text(out, d->base_path);
	fputs(" -&gt; NEW ", out);
	xml_text(out, d->new_path);
	fputs("</text>\n", out);
	/* y grows downwards: shift so depth 0 sits at the bottom. */
	draw(out, &t, 0, PAD_SIDE, scale, height - 10);
	fputs("</svg>\n", out);
	pa_vec_free(&t.nodes);
	return 0;
}
