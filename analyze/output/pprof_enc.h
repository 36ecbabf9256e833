/*
 * A minimal protocol-buffers encoder for pprof's profile.proto: varints
 * and length-delimited fields into growable buffers, a string table, and
 * the gzip stream pprof files are (zlib). Nested messages are encoded into
 * their own buffer and added to the parent as bytes.
 */
#ifndef PA_PPROF_ENC_H
#define PA_PPROF_ENC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "session.h"

struct pb {
	uint8_t *p;
	size_t len, cap;
};

void pb_reset(struct pb *b); /* len = 0, keeps the memory */
void pb_free(struct pb *b);
/* Field `field` as a varint (wire type 0); zero values are still written
 * (callers skip defaults where proto3 would). */
void pb_uint(struct pb *b, int field, uint64_t v);
void pb_int(struct pb *b, int field, int64_t v);
/* Length-delimited field (wire type 2): bytes, strings, messages. */
void pb_bytes(struct pb *b, int field, const void *data, size_t n);
static inline void pb_msg(struct pb *b, int field, const struct pb *m)
{
	pb_bytes(b, field, m->p, m->len);
}
/* Packed repeated varints. */
void pb_packed(struct pb *b, int field, const uint64_t *v, size_t n);

/* Strings to indices; index 0 is "". */
struct pb_strings {
	struct pa_vec strs; /* char * */
	struct pa_pairmap index;
};
void pb_strings_init(struct pb_strings *st);
int64_t pb_string(struct pb_strings *st, const char *s);
/* Write every string as field `field` of b. */
void pb_strings_write(const struct pb_strings *st, struct pb *b, int field);
void pb_strings_free(struct pb_strings *st);

/* Write b gzip-compressed to f. Returns 0, or -1 after a message. */
int pb_write_gzip(const struct pb *b, FILE *f);

#endif
