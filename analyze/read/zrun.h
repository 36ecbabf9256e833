/*
 * Reading compressed runs of a thread file (record kind 12, see
 * COMPRESSED RUNS in include/profshim_trace.h): streaming, one block in
 * memory per thread at a time. The decoder's cursor moves from the file
 * into a block's decompressed records and back.
 */
#ifndef PA_ZRUN_H
#define PA_ZRUN_H

#include <stdbool.h>

#include "decode.h"
#include "session.h"

/* A kind-12 record; the cursor is after its tag, rec_off is the record's
 * file offset. 0 = go on (the cursor may now be in a block, or at the end
 * of a thread whose block was damaged: warned), -1 = malformed (*err). */
int pa_zrun_record(struct pa_session *s, struct pa_thread *t, struct pa_cursor *c, uint64_t what,
		   size_t rec_off, struct pa_error *err);
/* The cursor ran out: when it was in a block, back to the file after the
 * block; true when there is more to read. */
bool pa_zrun_leave(struct pa_thread *t, struct pa_cursor *c);
/* File offset of the block the cursor is in, 0 when in the file. */
size_t pa_zrun_block_off(const struct pa_thread *t);
/* Blocks decompressed so far. */
uint64_t pa_zrun_blocks(const struct pa_thread *t);
void pa_zrun_free(struct pa_thread *t);

#endif
