/* Memory recorder — not yet written (issue 3). */
#include "shim.h"
void ps_mem_init(void) {}
void ps_rss_tick(struct ps_thread *t) { (void)t; }
