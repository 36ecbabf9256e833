/* Calls recorder — not yet written (issue 4). */
#include "shim.h"
void ps_calls_thread_end(struct ps_thread *t) { (void)t; }
