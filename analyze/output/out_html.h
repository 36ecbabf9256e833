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

#include <stdio.h>

struct pa_models;
struct cJSON;

extern const char pa_html_head[];
extern const char pa_html_script[];

/* Findings for the page (an array of flat objects), or NULL. The hook a
 * findings model fills in; NULL until one exists. */
struct cJSON *pa_html_findings(const struct pa_models *pm);

#endif
