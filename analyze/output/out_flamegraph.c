/*
 * --format=flamegraph: a self-contained interactive SVG flame graph of the
 * stacks --data selects (CPU samples, heap bytes or call self time; root at
 * the bottom, callers below callees, width = weight). Every frame carries
 * its label as <text>, fitted to its width, so the SVG reads as a static
 * picture (<img>, code hosts, image viewers).
 * Embedded script: hover shows the full name, weight and share in the
 * status line (and a tooltip); click zooms into a frame (its callers stay
 * as full-width bars, click one or "Reset zoom" to zoom out); the search
 * box highlights matching frames (substring or regular expression) and
 * says what share of the weight they cover. "file.svg#q=TEXT&zoom=NAME"
 * opens with a search and a zoom.
 *
 * Threads: all threads under "all", one frame per thread above it;
 * --thread=TID draws one thread.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "stack_tree.h"

#define WIDTH 1200.0
#define FRAME_H 17
#define PAD_TOP 64
#define PAD_BOTTOM 40
#define PAD_SIDE 10.0
#define MIN_FRACTION 0.0002 /* frames narrower than this are left out */

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, out);
		}
	}
}

/* A warm colour from the name: the same function, the same colour. */
static void colour(const char *name, bool thread, char *buf, size_t cap)
{
	if (thread) {
		snprintf(buf, cap, "rgb(190,190,205)");
		return;
	}
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	unsigned r = 205 + h % 50, g = 80 + (h >> 8) % 130, b = 30 + (h >> 16) % 50;
	snprintf(buf, cap, "rgb(%u,%u,%u)", r, g, b);
}

struct fg {
	const struct stack_tree *t;
	FILE *out;
	double whole;
	uint32_t max_depth;
	int height;
};

static uint32_t deepest(const struct stack_tree *t, uint32_t node, double whole)
{
	uint32_t d = st_node_at(t, node)->depth;
	for (uint32_t c = st_node_at(t, node)->first_child; c; c = st_node_at(t, c)->next_sibling)
		if (st_node_at(t, c)->total >= MIN_FRACTION * whole) {
			uint32_t x = deepest(t, c, whole);
			if (x > d)
				d = x;
		}
	return d;
}

/* The label as it fits in w pixels (7 px a character), as the script
 * would fit it, so the picture reads without the script. */
static void fitted_label(FILE *out, const char *label, double w)
{
	int chars = (int)((w - 6) / 7);
	if (chars < 3)
		return;
	size_t len = strlen(label);
	if ((int)len <= chars) {
		xml_text(out, label);
		return;
	}
	char buf[512];
	size_t keep = (size_t)chars - 2 < sizeof(buf) - 3 ? (size_t)chars - 2 : sizeof(buf) - 3;
	/* do not cut a UTF-8 sequence */
	while (keep > 0 && ((unsigned char)label[keep] & 0xC0) == 0x80)
		keep--;
	memcpy(buf, label, keep);
	strcpy(buf + keep, "..");
	xml_text(out, buf);
}

static void weight_text(char *buf, size_t cap, const struct stack_tree *t, double v)
{
	if (!strcmp(t->unit, "bytes"))
		snprintf(buf, cap, "%.0f bytes", v);
	else if (!strcmp(t->unit, "microseconds"))
		snprintf(buf, cap, "%.0f us", v);
	else
		snprintf(buf, cap, "%.0f samples", v);
}

/* A frame: <g> with its geometry as fractions for the script. */
static void frame(struct fg *g, uint32_t node, double left, int level, const char *label)
{
	const struct st_node *n = st_node_at(g->t, node);
	double frac = n->total / g->whole;
	double x = PAD_SIDE + left * (WIDTH - 2 * PAD_SIDE), w = frac * (WIDTH - 2 * PAD_SIDE);
	int y = g->height - PAD_BOTTOM - (level + 1) * FRAME_H;
	char col[32], where[64] = "", weight[64];
	const struct pa_frame *f = n->func >= 0 ? st_func(g->t, n->func) : NULL;
	bool pseudo = !f || !f->module; /* root, threads, merged stacks */
	colour(label, pseudo && (!f || !f->file), col, sizeof(col));
	if (f && f->file) {
		const char *file = strrchr(f->file, '/');
		int line = f->func_line ? f->func_line : f->line;
		if (line)
			snprintf(where, sizeof(where), "%s:%d", file ? file + 1 : f->file, line);
	}
	weight_text(weight, sizeof(weight), g->t, n->total);
	fprintf(g->out,
		"<g class=\"f\" data-l=\"%.9f\" data-w=\"%.9f\" data-d=\"%d\" data-s=\"%.0f\" "
		"data-n=\"",
		left, frac, level, n->total);
	xml_text(g->out, label);
	fputs("\" data-at=\"", g->out);
	xml_text(g->out, where);
	fputs("\"><title>", g->out);
	xml_text(g->out, label);
	fprintf(g->out,
		" (%s, %.2f%%)</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
		"height=\"%d\" fill=\"%s\" rx=\"2\"/><text x=\"%.2f\" y=\"%d\">",
		weight, 100.0 * frac, x, y, w, FRAME_H - 1, col, x + 3, y + FRAME_H - 5);
	fitted_label(g->out, label, w);
	fputs("</text></g>\n", g->out);
}

static void frames(struct fg *g, uint32_t node, double left, int level)
{
	const struct st_node *n = st_node_at(g->t, node);
	const char *label = node == 0 ? "all" : st_func(g->t, n->func)->function;
	frame(g, node, left, level, label ? label : "??");
	size_t k;
	uint32_t *kids = st_children_sorted(g->t, node, &k);
	double x = left;
	for (size_t i = 0; i < k; i++) {
		double tot = st_node_at(g->t, kids[i])->total;
		if (tot < MIN_FRACTION * g->whole)
			break; /* sorted: the rest are smaller */
		frames(g, kids[i], x, level + 1);
		x += tot / g->whole;
	}
	free(kids);
}

static const char script[] =
    "<script type=\"text/ecmascript\"><![CDATA[\n"
    "'use strict';\n"
    "var W=%.1f, PAD=%.1f, FH=%d, UNIT='%s', frames=[], zoomed=null, statusEl, matchEl;\n"
    "function init(){\n"
    "  statusEl=document.getElementById('status'); matchEl=document.getElementById('matched');\n"
    "  var gs=document.querySelectorAll('g.f');\n"
    "  for(var i=0;i<gs.length;i++){var "
    "g=gs[i];frames.push({g:g,l:+g.dataset.l,w:+g.dataset.w,d:+g.dataset.d,\n"
    "    "
    "s:+g.dataset.s,n:g.dataset.n,at:g.dataset.at,r:g.querySelector('rect'),t:g.querySelector('"
    "text')});\n"
    "    "
    "g.addEventListener('mouseover',hover);g.addEventListener('mouseout',unhover);g."
    "addEventListener('click',click);}\n"
    "  document.getElementById('reset').addEventListener('click',function(){zoom(null);});\n"
    "  var box=document.getElementById('search');\n"
    "  box.addEventListener('input',function(){search(box.value);});\n"
    "  "
    "document.addEventListener('keydown',function(e){if((e.ctrlKey||e.metaKey)&&e.key==='f'){e."
    "preventDefault();box.focus();}\n"
    "    if(e.key==='Escape'){box.value='';search('');zoom(null);}});\n"
    "  zoom(null);\n"
    "  var h=decodeURIComponent(location.hash.slice(1)).split('&');\n"
    "  for(var i=0;i<h.length;i++){var kv=h[i].split('=');\n"
    "    if(kv[0]==='q'&&kv[1]){box.value=kv[1];search(kv[1]);}\n"
    "    if(kv[0]==='zoom')for(var "
    "j=0;j<frames.length;j++)if(frames[j].n===kv[1]){zoom(frames[j]);break;}}\n"
    "}\n"
    "function byG(g){for(var i=0;i<frames.length;i++)if(frames[i].g===g)return frames[i];return "
    "null;}\n"
    "function describe(f){var pct=100*f.s/frames[0].s;return f.n+(f.at?'  ['+f.at+']':'')+'  "
    "\\u2014  '+f.s+' '+UNIT+', '+pct.toFixed(2)+'%%';}\n"
    "function hover(e){var f=byG(e.currentTarget);if(f)statusEl.textContent=describe(f);}\n"
    "function unhover(){statusEl.textContent=zoomed?'Zoomed into '+zoomed.n+' \\u2014 click a "
    "frame below it or Reset zoom to go back':'Hover a frame to see its name; click to zoom; "
    "search above.';}\n"
    "function click(e){var f=byG(e.currentTarget);if(!f)return;zoom(f===zoomed||f.d===0?null:f);}\n"
    "function fit(f,x,w){var chars=Math.floor((w-6)/7);if(chars<3){f.t.textContent='';return;}\n"
    "  "
    "f.t.textContent=f.n.length<=chars?f.n:f.n.slice(0,chars-2)+'..';f.t.setAttribute('x',(x+3)."
    "toFixed(2));}\n"
    "function zoom(z){zoomed=z;var zl=z?z.l:0,zw=z?z.w:1,zd=z?z.d:0;\n"
    "  for(var i=0;i<frames.length;i++){var f=frames[i],x,w,show;\n"
    "    "
    "if(z&&f.d<zd){show=f.l<=zl+1e-12&&f.l+f.w>=zl+zw-1e-12;x=PAD;w=W-2*PAD;f.g.classList.toggle('"
    "parent',show);}\n"
    "    "
    "else{show=f.l>=zl-1e-12&&f.l+f.w<=zl+zw+1e-12;x=PAD+(f.l-zl)/zw*(W-2*PAD);w=f.w/"
    "zw*(W-2*PAD);f.g.classList.remove('parent');}\n"
    "    if(w<0.3)show=false;f.g.style.display=show?'':'none';\n"
    "    "
    "if(show){f.r.setAttribute('x',x.toFixed(2));f.r.setAttribute('width',w.toFixed(2));fit(f,x,w);"
    "}}\n"
    "  unhover();\n"
    "}\n"
    "function search(q){var re=null;if(q){try{re=new RegExp(q,'i');}catch(e){re=null;}}\n"
    "  var covered=[],sum=0;\n"
    "  for(var i=0;i<frames.length;i++){var "
    "f=frames[i],hit=!!q&&f.d>0&&(re?re.test(f.n):f.n.toLowerCase().indexOf(q.toLowerCase())>=0);\n"
    "    f.g.classList.toggle('match',hit);if(hit)covered.push(f);}\n"
    "  covered.sort(function(a,b){return a.d-b.d;});var taken=[];\n"
    "  for(var j=0;j<covered.length;j++){var c=covered[j],inside=false;\n"
    "    for(var "
    "k=0;k<taken.length;k++)if(c.l>=taken[k].l-1e-12&&c.l+c.w<=taken[k].l+taken[k].w+1e-12){inside="
    "true;break;}\n"
    "    if(!inside){taken.push(c);sum+=c.s;}}\n"
    "  matchEl.textContent=q?('Matched: '+(100*sum/frames[0].s).toFixed(2)+'%% of '+UNIT+' in "
    "'+covered.length+' frames'):'';\n"
    "}\n"
    "window.addEventListener('load',init);\n"
    "]]></script>\n";

int pa_write_flamegraph(const struct pa_models *pm, FILE *out)
{
	struct stack_tree t;
	if (pa_stack_tree_build(pm, pm->o->data, &t)) {
		st_free(&t);
		return 1;
	}
	int rc = pa_write_flamegraph_tree(pm, &t, out);
	st_free(&t);
	return rc;
}

int pa_write_flamegraph_tree(const struct pa_models *pm, struct stack_tree *tree, FILE *out)
{
	struct stack_tree t = *tree; /* the caller frees it */
	/* no size cap: frames under MIN_FRACTION of the whole are not drawn */
	struct fg g = {.t = &t, .out = out, .whole = st_node_at(&t, 0)->total};
	if (g.whole <= 0) {
		fprintf(stderr, "profanalyze: --format=flamegraph: no %s data%s\n", t.what,
			pm->o->thread >= 0 ? " in this thread" : "");
		*tree = t;
		return 1;
	}
	g.max_depth = deepest(&t, 0, g.whole);
	g.height = PAD_TOP + PAD_BOTTOM + (int)(g.max_depth + 1) * FRAME_H;
	const char *exe = pm->s->exe ? strrchr(pm->s->exe, '/') : NULL;
	char title[512], weight[64];
	weight_text(weight, sizeof(weight), &t, g.whole);
	if (t.unit_scale > 0)
		snprintf(weight + strlen(weight), sizeof(weight) - strlen(weight), ", %.3f s",
			 g.whole * t.unit_scale);
	snprintf(title, sizeof(title), "%s flame graph: %s \xe2\x80\x94 %s: %s", t.what,
		 exe ? exe + 1 : "program", t.title, weight);
	fprintf(
	    out,
	    "<?xml version=\"1.0\" standalone=\"no\"?>\n"
	    "<svg version=\"1.1\" width=\"%.0f\" height=\"%d\" viewBox=\"0 0 %.0f %d\" "
	    "xmlns=\"http://www.w3.org/2000/svg\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n"
	    "<style>\n"
	    "text{font-family:monospace;font-size:12px;fill:#000;pointer-events:none}\n"
	    "g.f{cursor:pointer} g.f:hover rect{stroke:#000;stroke-width:0.7}\n"
	    "g.f.match rect{fill:rgb(230,0,230)!important} g.f.parent rect{opacity:0.55}\n"
	    ".title{font-size:17px;font-family:sans-serif;text-anchor:middle}\n"
	    ".status{font-size:12px;font-family:sans-serif}\n"
	    "#reset{cursor:pointer} #reset "
	    "text{fill:#0645ad;font-family:sans-serif;pointer-events:auto}\n"
	    "</style>\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"rgb(250,250,244)\"/>\n"
	    "<text class=\"title\" x=\"%.0f\" y=\"22\">",
	    WIDTH, g.height, WIDTH, g.height, WIDTH / 2);
	xml_text(out, title);
	fprintf(out,
		"</text>\n"
		"<g id=\"reset\"><text x=\"%.0f\" y=\"48\">Reset zoom</text></g>\n"
		"<foreignObject x=\"%.0f\" y=\"32\" width=\"330\" height=\"26\">"
		"<xhtml:input id=\"search\" type=\"search\" placeholder=\"Search functions (text "
		"or regex)\" "
		"style=\"width:300px;font-size:12px\"/></foreignObject>\n"
		"<text id=\"matched\" class=\"status\" x=\"%.0f\" y=\"%d\" "
		"text-anchor=\"end\"></text>\n"
		"<text id=\"status\" class=\"status\" x=\"%.0f\" y=\"%d\">Hover a frame to see its "
		"name; "
		"click to zoom; search above.</text>\n",
		PAD_SIDE, WIDTH - 340, WIDTH - PAD_SIDE, g.height - 12, PAD_SIDE, g.height - 12);
	fprintf(out, script, WIDTH, PAD_SIDE, FRAME_H, t.unit);
	/* Frames: level 0 is `top` ("all", or the thread). */
	fputs("<g id=\"frames\">\n", out);
	frames(&g, 0, 0, 0);
	fputs("</g>\n</svg>\n", out);
	*tree = t; /* whatever drawing grew, the caller frees */
	return 0;
}
