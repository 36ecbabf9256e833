/*
 * --format=flamegraph: a self-contained interactive SVG flame graph of the
 * CPU samples (root at the bottom, callers below callees, width = samples).
 * Embedded script: hover shows the full name, samples and share in the
 * status line (and a tooltip); click zooms into a frame (its callers stay
 * as full-width bars, click one or "Reset zoom" to zoom out); the search
 * box highlights matching frames (substring or regular expression) and
 * says what share of the samples they cover. "file.svg#q=TEXT&zoom=NAME"
 * opens with a search and a zoom. Without script it is still a static
 * flame graph with tooltips.
 *
 * Threads: all threads under "all", one frame per thread above it;
 * --thread=TID draws one thread.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "sample_model.h"

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
	const struct cpu_model *m;
	FILE *out;
	uint64_t whole;
	uint32_t max_depth;
	int height;
	double period_s;
};

static uint32_t deepest(const struct cpu_model *m, uint32_t node, uint64_t whole)
{
	uint32_t d = cpu_node_at(m, node)->depth;
	for (uint32_t c = cpu_node_at(m, node)->first_child; c; c = cpu_node_at(m, c)->next_sibling)
		if ((double)cpu_node_at(m, c)->total >= MIN_FRACTION * (double)whole) {
			uint32_t x = deepest(m, c, whole);
			if (x > d)
				d = x;
		}
	return d;
}

/* A frame: <g> with its geometry as fractions for the script. */
static void frame(struct fg *g, uint32_t node, double left, int level, const char *label)
{
	const struct cpu_node *n = cpu_node_at(g->m, node);
	double frac = (double)n->total / (double)g->whole;
	double x = PAD_SIDE + left * (WIDTH - 2 * PAD_SIDE), w = frac * (WIDTH - 2 * PAD_SIDE);
	int y = g->height - PAD_BOTTOM - (level + 1) * FRAME_H;
	char col[32], where[64] = "";
	bool is_thread = n->func < 0;
	colour(label, is_thread || node == 0, col, sizeof(col));
	if (n->func >= 0) {
		const struct cpu_func *f = cpu_func_at(g->m, n->func);
		const char *file = f->file ? strrchr(f->file, '/') : NULL;
		if (file && f->line)
			snprintf(where, sizeof(where), "%s:%d", file + 1, f->line);
	}
	fprintf(g->out,
		"<g class=\"f\" data-l=\"%.9f\" data-w=\"%.9f\" data-d=\"%d\" data-s=\"%" PRIu64
		"\" data-n=\"",
		left, frac, level, n->total);
	xml_text(g->out, label);
	fputs("\" data-at=\"", g->out);
	xml_text(g->out, where);
	fputs("\"><title>", g->out);
	xml_text(g->out, label);
	fprintf(g->out,
		" (%" PRIu64 " samples, %.2f%%)</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
		"height=\"%d\" fill=\"%s\" rx=\"2\"/><text x=\"%.2f\" y=\"%d\"></text></g>\n",
		n->total, 100.0 * frac, x, y, w, FRAME_H - 1, col, x + 3, y + FRAME_H - 5);
}

static void frames(struct fg *g, uint32_t node, double left, int level)
{
	char buf[256];
	const struct cpu_node *n = cpu_node_at(g->m, node);
	const char *label = node == 0 ? "all" : cpu_node_label(g->m, n, buf, sizeof(buf));
	frame(g, node, left, level, label);
	/* Children side by side, heaviest first (left). */
	size_t k = 0, cap = 0;
	for (uint32_t c = n->first_child; c; c = cpu_node_at(g->m, c)->next_sibling)
		cap++;
	uint32_t *kids = pa_xcalloc(cap + 1, sizeof(uint32_t));
	for (uint32_t c = n->first_child; c; c = cpu_node_at(g->m, c)->next_sibling)
		if ((double)cpu_node_at(g->m, c)->total >= MIN_FRACTION * (double)g->whole)
			kids[k++] = c;
	for (size_t a = 1; a < k; a++)
		for (size_t b = a; b > 0 && cpu_node_at(g->m, kids[b])->total >
						cpu_node_at(g->m, kids[b - 1])->total;
		     b--) {
			uint32_t t = kids[b];
			kids[b] = kids[b - 1];
			kids[b - 1] = t;
		}
	double x = left;
	for (size_t i = 0; i < k; i++) {
		frames(g, kids[i], x, level + 1);
		x += (double)cpu_node_at(g->m, kids[i])->total / (double)g->whole;
	}
	free(kids);
}

static const char script[] =
    "<script type=\"text/ecmascript\"><![CDATA[\n"
    "'use strict';\n"
    "var W=%.1f, PAD=%.1f, FH=%d, frames=[], zoomed=null, statusEl, matchEl;\n"
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
    "\\u2014  '+f.s+' samples, '+pct.toFixed(2)+'%%';}\n"
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
    "  matchEl.textContent=q?('Matched: '+(100*sum/frames[0].s).toFixed(2)+'%% of samples in "
    "'+covered.length+' frames'):'';\n"
    "}\n"
    "window.addEventListener('load',init);\n"
    "]]></script>\n";

int cpu_write_flamegraph(const struct pa_models *pm, FILE *out)
{
	const struct cpu_model *m = pm->cpu;
	long th;
	if (cpu_selected_thread(pm, &th))
		return 1;
	uint32_t top = 0;
	if (th >= 0)
		top = ((struct cpu_thread_stats *)pa_vec_at(&m->threads, (size_t)th))->node;
	struct fg g = {.m = m, .out = out, .period_s = m->period_s};
	g.whole = top || th < 0 ? cpu_node_at(m, top)->total : 0;
	if (!g.whole) {
		fprintf(stderr, "profanalyze: --format=flamegraph: no CPU samples%s\n",
			th >= 0 ? " in this thread" : "");
		return 1;
	}
	g.max_depth = deepest(m, top, g.whole) - cpu_node_at(m, top)->depth;
	g.height = PAD_TOP + PAD_BOTTOM + (int)(g.max_depth + 1) * FRAME_H;
	const char *exe = pm->s->exe ? strrchr(pm->s->exe, '/') : NULL;
	char title[512];
	snprintf(title, sizeof(title),
		 "CPU flame graph: %s \xe2\x80\x94 %" PRIu64 " samples, %.3f s CPU, %u Hz (%s)",
		 exe ? exe + 1 : "program", g.whole, (double)g.whole * m->period_s, m->hz,
		 m->timer == PST_TIMER_PERF ? "perf_event" : "posix timer");
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
	fprintf(out, script, WIDTH, PAD_SIDE, FRAME_H);
	/* Frames: level 0 is `top` ("all", or the thread). */
	fputs("<g id=\"frames\">\n", out);
	frames(&g, top, 0, 0);
	fputs("</g>\n</svg>\n", out);
	return 0;
}
