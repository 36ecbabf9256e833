/* Unit tests of output pieces: the protobuf encoder and gzip of pprof, the
 * stack tree (merging by function, pruning keeps totals), heap stack roots. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pprof_enc.h"
#include "stack_tree.h"
#include "unit.h"

static void test_varints(void)
{
	struct pb b = {0};
	pb_uint(&b, 1, 150); /* the protobuf documentation's example: 08 96 01 */
	CHECK(b.len == 3 && b.p[0] == 0x08 && b.p[1] == 0x96 && b.p[2] == 0x01);
	pb_reset(&b);
	pb_int(&b, 2, -1); /* int64 -1: ten bytes of varint */
	CHECK(b.len == 11 && b.p[0] == 0x10 && b.p[10] == 0x01);
	pb_reset(&b);
	pb_bytes(&b, 6, "ab", 2);
	CHECK(b.len == 4 && b.p[0] == 0x32 && b.p[1] == 2 && !memcmp(b.p + 2, "ab", 2));
	pb_reset(&b);
	uint64_t v[3] = {1, 300, 0};
	pb_packed(&b, 1, v, 3); /* 0a 04 01 ac 02 00 */
	CHECK(b.len == 6 && b.p[0] == 0x0a && b.p[1] == 4 && b.p[3] == 0xac && b.p[4] == 0x02);
	pb_free(&b);
}

static void test_strings(void)
{
	struct pb_strings st;
	pb_strings_init(&st);
	CHECK(pb_string(&st, "") == 0);
	CHECK(pb_string(&st, NULL) == 0);
	int64_t a = pb_string(&st, "cpu");
	CHECK(a == 1);
	CHECK(pb_string(&st, "nanoseconds") == 2);
	CHECK(pb_string(&st, "cpu") == a);
	struct pb b = {0};
	pb_strings_write(&st, &b, 6);
	CHECK(b.len > 2 && b.p[0] == 0x32 && b.p[1] == 0); /* string_table[0] = "" */
	pb_free(&b);
	pb_strings_free(&st);
}

static void test_gzip(void)
{
	struct pb b = {0};
	for (int i = 0; i < 10000; i++)
		pb_uint(&b, 1, (uint64_t)i);
	FILE *f = tmpfile();
	CHECK(pb_write_gzip(&b, f) == 0);
	long n = ftell(f);
	rewind(f);
	unsigned char *z = malloc((size_t)n);
	CHECK(fread(z, 1, (size_t)n, f) == (size_t)n);
	CHECK(z[0] == 0x1f && z[1] == 0x8b); /* gzip magic */
	unsigned char *out = malloc(b.len + 16);
	z_stream s = {0};
	inflateInit2(&s, 15 + 16);
	s.next_in = z;
	s.avail_in = (uInt)n;
	s.next_out = out;
	s.avail_out = (uInt)b.len + 16;
	CHECK(inflate(&s, Z_FINISH) == Z_STREAM_END);
	CHECK(s.total_out == b.len && !memcmp(out, b.p, b.len));
	inflateEnd(&s);
	free(out);
	free(z);
	fclose(f);
	pb_free(&b);
}

static void test_stack_tree(void)
{
	struct pa_frame main_a = {.function = "main", .file = "m.c", .line = 10};
	struct pa_frame main_b = {.function = "main", .file = "m.c", .line = 12}; /* other line */
	struct pa_frame f = {.function = "f", .file = "m.c", .line = 3};
	struct pa_frame g = {.function = "g", .file = "m.c", .line = 5};
	struct stack_tree t;
	st_init(&t, PA_DATA_MEM);
	const struct pa_frame *s1[] = {&main_a, &f};
	const struct pa_frame *s2[] = {&main_b, &f};
	const struct pa_frame *s3[] = {&main_a, &g};
	st_add(&t, s1, 2, 100);
	st_add(&t, s2, 2, 50); /* same functions, other line: the same node */
	st_add(&t, s3, 2, 1);
	st_finish(&t);
	CHECK(t.funcs.len == 3);
	CHECK(t.nodes.len == 4); /* root, main, main>f, main>g */
	CHECK(st_node_at(&t, 0)->total == 151);
	size_t k;
	uint32_t *kids = st_children_sorted(&t, 1, &k);
	CHECK(k == 2 && st_node_at(&t, kids[0])->total == 150);
	free(kids);
	/* pruning merges g (1 of 151) and keeps the total */
	CHECK(st_prune(&t, 2) == 1);
	double sum = 0;
	for (size_t i = 0; i < t.nodes.len; i++)
		sum += st_node_at(&t, (uint32_t)i)->self;
	CHECK(sum == 151);
	kids = st_children_sorted(&t, 1, &k);
	CHECK(k == 2 &&
	      !strcmp(st_func(&t, st_node_at(&t, kids[1])->func)->function, "[small stacks]"));
	free(kids);
	st_free(&t);
}

static void test_heap_roots(void)
{
	struct pa_frame s = {.function = "_start"}, lm = {.function = "__libc_start_main_impl"},
			cm = {.function = "__libc_start_call_main"}, m = {.function = "main"},
			x = {.function = "x"};
	const struct pa_frame *unwound[] = {&s, &lm, &cm, &m, &x};
	const struct pa_frame *shadow[] = {&cm, &m, &m, &x};
	CHECK(pa_heap_stack_start(unwound, 5) == 3);
	CHECK(pa_heap_stack_start(shadow, 4) == 2);
	const struct pa_frame *only[] = {&s};
	CHECK(pa_heap_stack_start(only, 1) == 0); /* never drops the last frame */
}

int main(void)
{
	test_varints();
	test_strings();
	test_gzip();
	test_stack_tree();
	test_heap_roots();
	return UNIT_DONE();
}
