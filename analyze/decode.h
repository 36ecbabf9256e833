/* Bounds-checked decoding of trace records (varints, strings). */
#ifndef PA_DECODE_H
#define PA_DECODE_H

#include <stddef.h>
#include <stdint.h>

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

static inline size_t pa_cursor_off(const struct pa_cursor *c)
{
	return (size_t)(c->p - c->start);
}

#endif
