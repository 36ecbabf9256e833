/*
 * Unit tests of the budget file reader (analyze/analysis/budget.c): sizes
 * with suffixes, names after '.', comments, and each malformed line named
 * in the error.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "budget.h"
#include "unit.h"

static char path[] = "/tmp/profshim-budget-XXXXXX";

/* Write text to the budget file and load it; returns pa_budget_load's
 * result, the error in err. */
static int load(struct pa_budget *b, const char *text, char *err, size_t cap)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -2;
	fputs(text, f);
	fclose(f);
	err[0] = 0;
	return pa_budget_load(b, path, err, cap);
}

static void good_file(void)
{
	struct pa_budget b;
	char err[600];
	CHECK(load(&b,
		   "# a comment\n"
		   "max_peak_heap = 64M   # trailing comment\n"
		   "\n"
		   "max_leaked_bytes=1MiB\n"
		   "max_io_bytes = 1.5 G\n"
		   "max_allocations = 1000\n"
		   "max_p99_ms.handle_request = 3.5\n"
		   "max_self_growth_pct = 10%\n"
		   "max_self_growth_pct.ns::parse(char const*) = 5\n",
		   err, sizeof(err)) == 0);
	CHECK(b.n == 7);
	if (b.n == 7) {
		CHECK(!strcmp(b.limits[0].key, "max_peak_heap") && b.limits[0].line == 2);
		CHECK(b.limits[0].value == 64.0 * 1024 * 1024);
		CHECK(b.limits[1].value == 1024.0 * 1024);
		CHECK(b.limits[2].value == 1.5 * 1024 * 1024 * 1024);
		CHECK(b.limits[3].value == 1000 && !b.limits[3].name);
		CHECK(!strcmp(b.limits[4].name, "handle_request") && b.limits[4].value == 3.5);
		CHECK(b.limits[5].relative && b.limits[5].value == 10 && !b.limits[5].name);
		CHECK(!strcmp(b.limits[6].name, "ns::parse(char const*)"));
	}
	pa_budget_free(&b);
}

static void bad(const char *text, const char *expect)
{
	struct pa_budget b;
	char err[600];
	int rc = load(&b, text, err, sizeof(err));
	CHECK(rc == -1);
	if (!strstr(err, expect)) {
		fprintf(stderr, "expected '%s' in '%s'\n", expect, err);
		CHECK(0);
	}
}

static void bad_files(void)
{
	bad("max_peak_heap = 64X\n", "line 1: expected a size");
	bad("\n\nmax_cpu_seconds = -1\n", "line 3: expected a number");
	bad("max_cpu_seconds = 1 2\n", "line 1: expected a number");
	bad("max_cpu_seconds =\n", "line 1");
	bad("max_cpu_seconds 1\n", "line 1: expected key = value");
	bad("max_cpu_secs = 1\n", "line 1: unknown key");
	bad("max_p99_ms = 1\n", "line 1: this key needs a name");
	bad("max_p99_ms. = 1\n", "line 1: this key needs a name");
	bad("max_cpu_seconds.main = 1\n", "line 1: this key takes no .NAME");
	bad("max_cpu_seconds = nan\n", "line 1: expected a number");
	bad("max_cpu_seconds = inf\n", "line 1: expected a number");
	bad("# only a comment\n", "no limits");
	bad("", "no limits");
	struct pa_budget b;
	char err[600];
	CHECK(pa_budget_load(&b, "/nonexistent/budget", err, sizeof(err)) == -1);
	CHECK(strstr(err, "cannot read") != NULL);
}

int main(void)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	good_file();
	bad_files();
	unlink(path);
	return UNIT_DONE();
}
