/* The CPU samples of each thread, in time order, without a scan of every
 * sample per thread (writers that go thread by thread: .cpuprofile,
 * speedscope, the timeline). */
#ifndef PA_OUT_CPU_ORDER_H
#define PA_OUT_CPU_ORDER_H

#include <stddef.h>
#include <stdint.h>

struct cpu_model;

struct cpu_by_thread {
	size_t *first; /* [threads + 1]: samples of thread t are idx[first[t] .. first[t+1]) */
	uint32_t *idx; /* indices into cpu_model.samples_v */
};

void cpu_by_thread_build(const struct cpu_model *m, struct cpu_by_thread *out);
void cpu_by_thread_free(struct cpu_by_thread *b);

#endif
