/*
 * --format=html: one self-contained page (no network: styles, script and
 * data inline) with the report laid out for the eye: a summary, findings
 * (when a findings model provides them), sortable top tables, a flame
 * graph per kind of data recorded (switchable, searchable, zoomable), heap
 * and RSS over time with markers and the peak, and the threads on one
 * timeline. Panels appear only for recorded data; the page says which
 * recorders were off.
 *
 * The page's data is one JSON island (<script type="application/json"
 * id="data">), the script draws everything from it (out_html_page.c).
 */
#ifndef PA_OUT_HTML_H
#define PA_OUT_HTML_H

#include <stddef.h>
#include <stdio.h>

struct pa_models;
struct cJSON;

extern const char pa_html_head[];
extern const char pa_html_script[];

/* Findings for the page (an array of flat objects), or NULL. The hook a
 * findings model fills in; NULL until one exists. */
struct cJSON *pa_html_findings(const struct pa_models *pm);

/* One process's page data (what the script draws for it); flame graphs
 * of at most max_nodes nodes each. */
struct cJSON *pa_html_page_data(const struct pa_models *pm, size_t max_nodes);
/* The page: head, a header (title, sub line; both escaped), the data
 * island (consumed), the script. Returns 0, or 1 when out of memory. */
int pa_html_write_page(FILE *out, const char *title, const char *sub, struct cJSON *data);

/* A run directory's page (out_html_run.c): the process tree and each
 * process's sections, one process shown at a time. Built one process at
 * a time, so only one process's models are in memory. */
struct pa_run;
struct pa_html_run;
struct pa_html_run *pa_html_run_new(const struct pa_run *r);
/* Add process i of the run (its models; NULL when it could not be read);
 * max_nodes as for pa_html_page_data. */
void pa_html_run_add(struct pa_html_run *h, size_t i, const struct pa_models *pm, size_t max_nodes);
/* Say why processes have no sections (too many), shown on the page. */
void pa_html_run_note(struct pa_html_run *h, const char *note);
/* Write the page and free h. */
int pa_html_run_write(struct pa_html_run *h, FILE *out);

#endif
