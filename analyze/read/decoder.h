/*
 * The thread-file decoder's state, shared by merge.c (the event loop and
 * the merge) and decode_ext.c (EXT, I/O and call-tree records): private
 * to analyze/read/.
 */
#ifndef PA_DECODER_H
#define PA_DECODER_H

#include <stdint.h>

#include "decode.h"
#include "session.h"

struct progress;

struct decoder {
	struct pa_session *s;
	struct pa_thread *t;
	struct pa_cursor c;
	struct pa_error *err;
	size_t rec_off;	      /* file offset of the record being decoded */
	pa_calls_fn calls_fn; /* call sink, NULL = none */
	void *ctx;
	struct progress *prog;
	const uint8_t *release_at; /* cursor position of the next release_behind */
	size_t released;	   /* bytes of the mapping given back so far */
};

/* Fills the error with the file, the record's offset (and, in a
 * compressed run, the block and the byte in it) and the message; -1. */
int pa_decoder_bad(struct decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define GET(v)                                                                                     \
	do {                                                                                       \
		if (pa_get_varint(&d->c, v))                                                       \
			return pa_decoder_bad(d, "malformed or cut-short record");                 \
	} while (0)

static inline int lookup_local(struct decoder *d, struct pa_vec *map, uint64_t id, uint32_t *out,
			       const char *what)
{
	/* every event of a call trace comes through here: index directly */
	uint32_t v = id < map->len ? ((const uint32_t *)map->items)[id] : 0;
	if (__builtin_expect(!v && id != 0, 0))
		return pa_decoder_bad(d, "%s id %llu used before it is defined", what,
				      (unsigned long long)id);
	*out = v;
	return 0;
}

/* decode_ext.c: the records below, each with the cursor at its fields.
 * Those that produce an event return 1 with *ev filled, 0 for none, -1
 * on bad input (the error filled). */
int pa_decode_io(struct decoder *d, uint64_t dt, struct pa_event *ev);
int pa_decode_fd(struct decoder *d, uint64_t dt, struct pa_event *ev);
int pa_decode_span(struct decoder *d, uint64_t dt, struct pa_event *ev);
int pa_decode_ext(struct decoder *d, uint64_t ext, struct pa_event *ev);

#endif
