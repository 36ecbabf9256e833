/* Reports of a whole run (report_run.c): see run.h and run_cpu.h. */
#ifndef PA_REPORT_RUN_H
#define PA_REPORT_RUN_H

#include <stdio.h>

#include "run.h"
#include "run_cpu.h"

void pa_run_write_text(const struct pa_run *r, const struct pa_run_cpu *rc, int top, FILE *out);
void pa_run_write_json(const struct pa_run *r, const struct pa_run_cpu *rc, FILE *out);
void pa_run_write_folded(const struct pa_run_cpu *rc, FILE *out);
/* The same stacks as a tree for the flame graph (st_free it). */
struct stack_tree;
void pa_run_stack_tree(const struct pa_run_cpu *rc, struct stack_tree *t);
/* One line for tools/profshim: process count, the one with most CPU, and
 * a warning line when events were dropped. */
void pa_run_write_line(const struct pa_run *r, FILE *out);

#endif
