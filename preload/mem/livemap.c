/*
 * The live-block map (livemap.h): open addressing with linear probing over
 * 16-byte slots {key = block address, value = allocation id}, in one
 * private anonymous mapping made once at start.
 *
 * Keys: 0 = empty, 1 = tombstone (a block was taken out), else an address.
 * A slot never goes back to empty (only ps_livemap_clear, in a forked
 * child, empties the table): so when an insert put key A at slot j, every
 * slot between A's home and j stays non-empty, and a search for A that
 * stops at the first empty slot cannot stop before j. Searches and
 * inserts look at most PROBES slots: a neighbourhood with no room makes
 * the block fall back to its address, never a long walk.
 *
 * Concurrency. Between malloc returning an address and its free, one
 * thread owns the block; only the owner inserts or takes that key (a
 * block handed to another thread is handed through the program's own
 * synchronisation, which orders our stores before its use). Threads
 * inserting different keys may race for the same free slot: the key is
 * claimed with a CAS, the value stored after it (the value is only ever
 * read by the key's owner, later). take() runs before the real free, so
 * the address cannot be handed out again, and inserted by someone else,
 * while our entry for it still stands.
 *
 * Locality. The home slot is the address / 32 (a glibc chunk is at least
 * 32 bytes), plus an offset per 2^(5 + bits)-byte region of the address
 * space (so that heaps that are a multiple of the table's span apart,
 * like glibc's 64 MiB thread arenas, do not land on the same slots):
 * neighbouring blocks use neighbouring slots, and a heap of N bytes of
 * small blocks touches about N / 2 bytes of table (resident memory), not
 * a random page per block.
 */
#define _GNU_SOURCE
#include "livemap.h"

#include <stdlib.h>
#include <sys/mman.h>

#include "shim.h"

#define DEFAULT_BITS 22 /* 4 Mi slots, 64 MiB of address space (NORESERVE) */
#define MIN_BITS 4
#define MAX_BITS 30
#define MAX_PROBES 32
#define CLAIM_TRIES 4
#define KEY_EMPTY PS_LIVEMAP_EMPTY
#define KEY_TOMB PS_LIVEMAP_TOMB

struct ps_livemap_table ps_livemap;

/* PROFSHIM_LIVEMAP_SLOTS (a test knob: a tiny table forces the fallback
 * to addresses, 0 = no table: every block by address); rounded up to a
 * power of two. */
static unsigned slot_bits(void)
{
	const char *v = getenv("PROFSHIM_LIVEMAP_SLOTS");
	if (!v || !*v)
		return DEFAULT_BITS;
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*end && n == 0)
		return 0;
	if (*end || n < (1ull << MIN_BITS) || n > (1ull << MAX_BITS)) {
		ps_log("PROFSHIM_LIVEMAP_SLOTS must be 0 or a number of slots from 16 to 2^30; "
		       "using the default",
		       NULL);
		return DEFAULT_BITS;
	}
	unsigned b = MIN_BITS;
	while ((1ull << b) < n)
		b++;
	return b;
}

bool ps_livemap_init(void)
{
	if (ps_livemap.slots)
		return true;
	unsigned b = slot_bits();
	if (!b)
		return false;
	size_t len = sizeof(struct ps_livemap_slot) << b;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		ps_log("cannot map the live-block table; frees are written with addresses", NULL);
		return false;
	}
	ps_livemap.bits = b;
	ps_livemap.mask = ((size_t)1 << b) - 1;
	ps_livemap.probes = (1u << b) < MAX_PROBES ? (1u << b) : MAX_PROBES;
	ps_livemap.slots = p;
	return true;
}

bool ps_livemap_on(void)
{
	return ps_livemap.slots != NULL;
}

bool ps_livemap_insert(uintptr_t addr, uint64_t id)
{
	if (!ps_livemap.slots || addr <= KEY_TOMB)
		return false;
	struct ps_livemap_slot *slots = ps_livemap.slots;
	size_t mask = ps_livemap.mask;
	unsigned probes = ps_livemap.probes;
	for (int tries = 0; tries < CLAIM_TRIES; tries++) {
		struct ps_livemap_slot *room = NULL;
		size_t i = ps_livemap_home(addr);
		/* The first free slot from home is the block's. The walk used to
		 * go on to the first empty slot, to find a stale entry for addr
		 * further on, over the tombstones of a busy neighbourhood (77
		 * instructions per insert on the Lua binary-trees benchmark,
		 * 51 now). The hooks' plain paths take their blocks out of the
		 * map (ps_livemap_forget), so an entry goes stale only through
		 * a free the shim never sees; one found before the free slot is
		 * overwritten, one after it is shadowed by the new entry (a
		 * search stops at the first entry for its key). */
		for (unsigned k = 0; k < probes; k++, i = (i + 1) & mask) {
			uint64_t key = __atomic_load_n(&slots[i].key, __ATOMIC_ACQUIRE);
			if (key == addr) { /* stale: its free was not seen */
				__atomic_store_n(&slots[i].value, id, __ATOMIC_RELEASE);
				return true;
			}
			if (key <= KEY_TOMB) {
				room = &slots[i];
				break;
			}
		}
		if (!room)
			return false;
		uint64_t seen = __atomic_load_n(&room->key, __ATOMIC_RELAXED);
		if (seen <= KEY_TOMB &&
		    __atomic_compare_exchange_n(&room->key, &seen, (uint64_t)addr, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_store_n(&room->value, id, __ATOMIC_RELEASE);
			return true;
		}
		/* another thread claimed that slot first: look again */
	}
	return false;
}

void ps_livemap_clear(void)
{
	if (ps_livemap.slots)
		madvise(ps_livemap.slots, sizeof(struct ps_livemap_slot) << ps_livemap.bits,
			MADV_DONTNEED);
}
