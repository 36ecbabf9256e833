/* Unit tests: varint and string encoding/decoding, bounds, maps, vectors. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "profshim_trace.h"
#include "session.h"
#include "unit.h"

static void varint_round_trips(void)
{
	const uint64_t values[] = {
	    0, 1, 127, 128, 255, 16383, 16384, 1ull << 32, UINT64_MAX - 1, UINT64_MAX};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint8_t buf[PST_VARINT_MAX];
		uint8_t *end = pst_put_varint(buf, values[i]);
		CHECK(end - buf <= PST_VARINT_MAX);
		struct pa_cursor c;
		uint64_t v = 0;
		pa_cursor_init(&c, buf, (size_t)(end - buf));
		CHECK(pa_get_varint(&c, &v) == 0);
		CHECK(v == values[i]);
		CHECK(c.p == c.end);
		/* Cut short by one byte: an error, never a read past the end. */
		pa_cursor_init(&c, buf, (size_t)(end - buf) - 1);
		CHECK(pa_get_varint(&c, &v) == -1);
	}
}

static void varint_sizes(void)
{
	uint8_t buf[PST_VARINT_MAX];
	CHECK(pst_put_varint(buf, 127) - buf == 1);
	CHECK(pst_put_varint(buf, 128) - buf == 2);
	CHECK(pst_put_tag(buf, 7, PST_K_ENTER) - buf == 1);
	CHECK(buf[0] == ((7 << 4) | PST_K_ENTER));
}

static void overlong_varint_rejected(void)
{
	uint8_t buf[12];
	memset(buf, 0xff, sizeof(buf));
	struct pa_cursor c;
	uint64_t v;
	pa_cursor_init(&c, buf, sizeof(buf));
	CHECK(pa_get_varint(&c, &v) == -1);
	/* 10th byte may only carry bit 63. */
	memset(buf, 0x80, 9);
	buf[9] = 0x02;
	pa_cursor_init(&c, buf, 10);
	CHECK(pa_get_varint(&c, &v) == -1);
	buf[9] = 0x01;
	pa_cursor_init(&c, buf, 10);
	CHECK(pa_get_varint(&c, &v) == 0 && v == 1ull << 63);
}

static void strings_bounded(void)
{
	uint8_t buf[64];
	uint8_t *end = pst_put_str(buf, "hello", 5);
	struct pa_cursor c;
	const char *s;
	size_t n;
	pa_cursor_init(&c, buf, (size_t)(end - buf));
	CHECK(pa_get_str(&c, &s, &n, 100) == 0 && n == 5 && !memcmp(s, "hello", 5));
	pa_cursor_init(&c, buf, (size_t)(end - buf) - 1);
	CHECK(pa_get_str(&c, &s, &n, 100) == -1);
	pa_cursor_init(&c, buf, (size_t)(end - buf));
	CHECK(pa_get_str(&c, &s, &n, 4) == -1); /* over the limit */
}

static void pairmap_works(void)
{
	struct pa_pairmap m;
	pa_pairmap_init(&m);
	CHECK(pa_pairmap_get(&m, 1, 2) == 0);
	for (uint32_t i = 1; i <= 100000; i++)
		pa_pairmap_put(&m, i, i * 7, i);
	int ok = 1;
	for (uint32_t i = 1; i <= 100000; i++)
		ok &= pa_pairmap_get(&m, i, i * 7) == i;
	CHECK(ok);
	CHECK(pa_pairmap_get(&m, 5, 36) == 0);
	CHECK(m.len == 100000);
	pa_pairmap_put(&m, 5, 35, 99);
	CHECK(pa_pairmap_get(&m, 5, 35) == 99);
	CHECK(m.len == 100000);
	pa_pairmap_free(&m);
}

static void vec_grows(void)
{
	struct pa_vec v;
	pa_vec_init(&v, sizeof(uint64_t));
	for (uint64_t i = 0; i < 1000; i++)
		*(uint64_t *)pa_vec_push(&v) = i;
	CHECK(v.len == 1000);
	CHECK(*(uint64_t *)pa_vec_at(&v, 999) == 999);
	pa_vec_free(&v);
}

int main(void)
{
	varint_round_trips();
	varint_sizes();
	overlong_varint_rejected();
	strings_bounded();
	pairmap_works();
	vec_grows();
	return UNIT_DONE();
}
