/* Unit tests: the heap model's live-block table. Its hash keeps
 * neighbouring addresses in neighbouring slots and falls back to a
 * scattering hash when an address pattern piles up; either way every
 * figure must come out exact. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "heap_model.h"
#include "session.h"
#include "unit.h"

struct fixture {
	struct pa_session s;
	struct pa_thread t;
	struct heap_model *m;
	uint64_t now;
};

static void setup(struct fixture *f, uint64_t sample_bytes)
{
	memset(f, 0, sizeof(*f));
	f->s.ticks_per_ns = 1;
	f->s.end_ticks = 1u << 30;
	f->s.mem_sample_bytes = sample_bytes;
	f->m = heap_model_new(&f->s, NULL);
}

static void alloc(struct fixture *f, uint64_t addr, uint64_t size, uint32_t stack)
{
	struct pa_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = PA_EV_ALLOC;
	ev.ticks = ++f->now;
	ev.thread = &f->t;
	ev.u.alloc.fn = PST_FN_MALLOC;
	ev.u.alloc.size = size;
	ev.u.alloc.addr = addr;
	ev.u.alloc.stack = stack;
	heap_model_event(f->m, &ev);
}

static void release(struct fixture *f, uint64_t addr)
{
	struct pa_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = PA_EV_FREE;
	ev.ticks = ++f->now;
	ev.thread = &f->t;
	ev.u.free.addr = addr;
	heap_model_event(f->m, &ev);
}

/* Three rounds over n blocks at addr(i): every keep-th block lives from
 * the first round to the end of the last, the others are allocated and
 * freed in each round. */
static void churn(struct fixture *f, uint64_t (*addr)(uint64_t), uint64_t n, uint64_t keep)
{
	for (int round = 0; round < 3; round++) {
		for (uint64_t i = 0; i < n; i++)
			if (round == 0 || i % keep)
				alloc(f, addr(i), 16 + i % 100, 1 + (uint32_t)(i % 7));
		for (uint64_t i = 0; i < n; i++)
			if (i % keep || round == 2)
				release(f, addr(i));
	}
}

/* Neighbouring 48-byte chunks, as a malloc hands them out. */
static uint64_t dense(uint64_t i)
{
	return 0x5555a0000010ull + i * 48;
}

/* Addresses that differ only in the bits the folding hash drops for a
 * small table: they all start their search in one slot. */
static uint64_t piled(uint64_t i)
{
	return 0x7f0000000010ull + ((i + 1) << 36);
}

static void figures_exact(struct fixture *f, uint64_t n, uint64_t keep)
{
	struct pa_error err;
	CHECK(heap_model_finish(f->m, &err) == 0);
	uint64_t kept = (n + keep - 1) / keep;
	/* round 0 allocates all n, rounds 1 and 2 those not kept */
	CHECK(f->m->allocs == (double)(n + 2 * (n - kept)));
	CHECK(f->m->frees == (double)(3 * (n - kept) + kept));
	CHECK(f->m->live_blocks == 0);
	CHECK(f->m->live_bytes == 0);
	CHECK(f->m->unknown_frees == 0);
	/* the peak: everything of round 0 live at once */
	uint64_t all = 0;
	for (uint64_t i = 0; i < n; i++)
		all += 16 + i % 100;
	CHECK(f->m->peak_bytes == (double)all);
}

static void neighbouring_addresses_stay_folded(void)
{
	struct fixture f;
	setup(&f, 0);
	churn(&f, dense, 100000, 10);
	heap_model_flush(f.m);
	CHECK(!f.m->live.scatter);
	figures_exact(&f, 100000, 10);
	heap_model_free(f.m);
}

static void piled_addresses_switch_to_scattering(void)
{
	struct fixture f;
	setup(&f, 0);
	/* 600 blocks stay under the first growth (1024 slots): all in one
	 * probe run under the folding hash */
	for (int rep = 0; rep < 200; rep++)
		churn(&f, piled, 600, 1000000);
	CHECK(f.m->live.scatter);
	struct pa_error err;
	CHECK(heap_model_finish(f.m, &err) == 0);
	CHECK(f.m->allocs == 200.0 * (600 + 2 * 599));
	CHECK(f.m->live_blocks == 0);
	CHECK(f.m->live_bytes == 0);
	CHECK(f.m->unknown_frees == 0);
	heap_model_free(f.m);
}

/* Sampling: a block's weight is recomputed from its size at the free;
 * what was added is what is taken away (no negative or left-over leak). */
static void sampled_weights_cancel(void)
{
	struct fixture f;
	setup(&f, 4096);
	for (uint64_t i = 0; i < 5000; i++)
		alloc(&f, dense(i), 1 + (i * 7919) % 20000, 1);
	for (uint64_t i = 0; i < 5000; i++)
		if (i % 2)
			release(&f, dense(i));
	heap_model_flush(f.m);
	double half = f.m->live_bytes;
	for (uint64_t i = 0; i < 5000; i++)
		if (!(i % 2))
			release(&f, dense(i));
	heap_model_flush(f.m);
	CHECK(half > 0);
	CHECK(f.m->live_bytes > -0.5 && f.m->live_bytes < 0.5);
	CHECK(f.m->live_blocks > -0.5 && f.m->live_blocks < 0.5);
	heap_model_free(f.m);
}

/* Synthetic keys (thread seq, allocation number), as the reader hands
 * them when frees name their block by number: three rounds of n blocks,
 * every keep-th block of the first round living to the end; the frees of a
 * round come in reverse (a collector's sweep). Same figures as addresses. */
static void synthetic_keys_give_exact_figures(void)
{
	struct fixture f;
	setup(&f, 0);
	const uint64_t n = 100000, keep = 10;
	uint64_t next = 1, first[3] = {0, 0, 0};
	for (int round = 0; round < 3; round++) {
		first[round] = next;
		for (uint64_t i = 0; i < n; i++)
			if (round == 0 || i % keep)
				alloc(&f, LIVE_SYNTHETIC | 2ull << LIVE_SEQ_SHIFT | next++,
				      16 + i % 100, 1 + (uint32_t)(i % 7));
		for (uint64_t k = next; k-- > first[round];)
			if (round > 0 || (k - first[0]) % keep)
				release(&f, LIVE_SYNTHETIC | 2ull << LIVE_SEQ_SHIFT | k);
	}
	heap_model_flush(f.m);
	/* only the sparse long-lived blocks may have been swept to the hash */
	CHECK(f.m->live.len <= n / keep);
	CHECK(f.m->live.pages <= 64 + 4 * (f.m->live.page_blocks / LIVE_PAGE + 1));
	for (uint64_t i = 0; i < n; i += keep)
		release(&f, LIVE_SYNTHETIC | 2ull << LIVE_SEQ_SHIFT | (first[0] + i));
	figures_exact(&f, n, keep);
	CHECK(f.m->live.pages <= 1);
	heap_model_free(f.m);
}

int main(void)
{
	neighbouring_addresses_stay_folded();
	piled_addresses_switch_to_scattering();
	sampled_weights_cancel();
	synthetic_keys_give_exact_figures();
	return UNIT_DONE();
}
