/* Bounds-checked decoding of trace records (varints, strings). */
#ifndef PA_DECODE_H
#define PA_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "profshim_trace.h"

/* A read cursor over [p, end). Every getter fails (returns -1) instead of
 * reading past the end or accepting an overlong varint. */
struct pa_cursor {
	const uint8_t *start, *p, *end;
};

static inline void pa_cursor_init(struct pa_cursor *c, const uint8_t *p, size_t len)
{
	c->start = c->p = p;
	c->end = p + len;
}

static inline int pa_get_varint(struct pa_cursor *c, uint64_t *out)
{
	/* most fields of a trace are one byte (kinds, deltas, small sizes) */
	if (__builtin_expect(c->p < c->end && !(*c->p & 0x80), 1)) {
		*out = *c->p++;
		return 0;
	}
	/* ten bytes ahead (the longest varint): no end check per byte */
	if (__builtin_expect(c->end - c->p >= 10, 1)) {
		const uint8_t *p = c->p;
		uint64_t v = p[0] & 0x7f;
		for (unsigned i = 1; i < 10; i++) {
			v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
			if (!(p[i] & 0x80)) {
				if (i == 9 && p[i] > 1)
					return -1;
				*out = v;
				c->p = p + i + 1;
				return 0;
			}
		}
		return -1;
	}
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end)
			return -1;
		uint8_t b = *c->p++;
		if (shift == 63 && b > 1)
			return -1;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* A string field: pointer into the buffer and its length (not NUL-ended). */
static inline int pa_get_str(struct pa_cursor *c, const char **s, size_t *len, size_t max)
{
	uint64_t n;
	if (pa_get_varint(c, &n) || n > max || n > (uint64_t)(c->end - c->p))
		return -1;
	*s = (const char *)c->p;
	*len = (size_t)n;
	c->p += n;
	return 0;
}

/* Delta-coded fields (PST_FLAG_DELTA, include/profshim_trace.h): the
 * previous value plus the zigzag distance, which becomes the previous
 * value (an address of 0 does not). */
static inline uint64_t pa_undelta(uint64_t *prev, uint64_t zz)
{
	uint64_t v = *prev + (uint64_t)pst_unzigzag(zz);
	if (v)
		*prev = v;
	return v;
}

static inline size_t pa_cursor_off(const struct pa_cursor *c)
{
	return (size_t)(c->p - c->start);
}

/* A varint of at most three bytes at p (the caller has checked that they
 * are there); 0 when it is longer (the checked decoder takes it). */
static inline unsigned pa_short_varint(const uint8_t *p, uint64_t *out)
{
	uint64_t v = p[0] & 0x7f;
	if (!(p[0] & 0x80)) {
		*out = v;
		return 1;
	}
	v |= (uint64_t)(p[1] & 0x7f) << 7;
	if (!(p[1] & 0x80)) {
		*out = v;
		return 2;
	}
	v |= (uint64_t)(p[2] & 0x7f) << 14;
	if (!(p[2] & 0x80)) {
		*out = v;
		return 3;
	}
	return 0;
}

/* A cursor over one thread's call records (ENTER and EXIT: the bulk of a
 * call trace), for a loop that decodes and uses them in one go (see
 * pa_session_run_calls). */
struct pa_call_cursor {
	const uint8_t *p;
	const uint8_t *fast_end;  /* the unchecked path stops here */
	const uint8_t *stop;	  /* no record is taken that starts here or after */
	const uint8_t *end;	  /* end of the data */
	const uint32_t *func_map; /* thread-local function id -> session function */
	uint64_t nfuncs;	  /* entries of func_map */
	uint64_t now;		  /* the thread's clock: after the record taken */
};

/* The next call record: 1 = ENTER (*func set), 0 = EXIT, -1 = none (a
 * record of another kind, a malformed or unknown one, or the stop): the
 * cursor is left on it for the checked decoder. */
int pa_next_call_checked(struct pa_call_cursor *c, uint32_t *func);

/* The checked path on a copy, so that the caller's cursor can live in
 * registers (its address never escapes). */
static inline int pa_next_call_slow(struct pa_call_cursor *c, uint32_t *func)
{
	struct pa_call_cursor tmp = *c;
	int r = pa_next_call_checked(&tmp, func);
	c->p = tmp.p;
	c->now = tmp.now;
	return r;
}

static inline __attribute__((always_inline)) int pa_next_call(struct pa_call_cursor *c,
							      uint32_t *func)
{
	const uint8_t *p = c->p;
	if (__builtin_expect(p >= c->fast_end, 0))
		return pa_next_call_slow(c, func);
	uint64_t tag, dt;
	unsigned n = pa_short_varint(p, &tag);
	uint64_t value = tag >> PST_KIND_BITS;
	if (__builtin_expect(n && (tag & PST_KIND_MASK) == PST_K_EXIT, 1)) {
		c->p = p + n;
		c->now += value;
		return 0;
	}
	if (__builtin_expect(!n || (tag & PST_KIND_MASK) != PST_K_ENTER, 0))
		return pa_next_call_slow(c, func);
	unsigned n2 = pa_short_varint(p + n, &dt);
	if (__builtin_expect(!n2 || value >= c->nfuncs, 0))
		return pa_next_call_slow(c, func);
	uint32_t f = c->func_map[value];
	if (__builtin_expect(!f && value, 0))
		return pa_next_call_slow(c, func);
	c->p = p + n + n2;
	c->now += dt;
	*func = f;
	return 1;
}

#endif
