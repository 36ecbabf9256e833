/* tests/progs/mem_bench.c built with -finstrument-functions (fi_ prefix):
 * tools/bench-mem.sh compares allocation stacks from the calls recorder's
 * shadow stack with unwinding on the same workload. */
#include "mem_bench.c"
