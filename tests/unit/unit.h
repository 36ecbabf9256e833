/* A minimal unit-test harness: CHECK records a failure and goes on;
 * UNIT_DONE prints "N passed, N failed" and gives the exit status. */
#ifndef UNIT_H
#define UNIT_H
#include <stdio.h>

static int unit_passed, unit_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			unit_passed++;                                                             \
		} else {                                                                           \
			unit_failed++;                                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define UNIT_DONE()                                                                                \
	(printf("%s: %d passed, %d failed\n", __FILE__, unit_passed, unit_failed),                 \
	 unit_failed ? 1 : 0)
#endif
