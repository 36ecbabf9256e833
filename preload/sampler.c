/* CPU sampler — not yet written (issue 5). */
#include "shim.h"
void ps_cpu_init(void) {}
void ps_cpu_thread_start(struct ps_thread *t) { (void)t; }
void ps_cpu_thread_end(struct ps_thread *t) { (void)t; }
void ps_cpu_before_fork(void) {}
void ps_cpu_after_fork(int child) { (void)child; }
void ps_cpu_before_exec(void) {}
