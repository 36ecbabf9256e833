/*
 * Call-heavy benchmark workload, built with -finstrument-functions: the
 * inner loop of a small interpreter. It parses arithmetic expressions with
 * a recursive-descent parser (one small function per grammar rule and per
 * character class), keeps variables in a hash table, and sorts results
 * with a comparator: many small functions, like real C code bases.
 *
 * usage: calls_workload [ROUNDS]   (default 20000)
 * Prints a checksum so that nothing is optimized away.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	const char *p;
};

struct var {
	char name[8];
	long value;
	int used;
};

#define NVARS 64
static struct var vars[NVARS];

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void skip_space(struct lexer *lx)
{
	while (is_space(*lx->p))
		lx->p++;
}

static char peek(struct lexer *lx)
{
	skip_space(lx);
	return *lx->p;
}

static unsigned hash_name(const char *s, size_t n)
{
	unsigned h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static struct var *lookup(const char *s, size_t n)
{
	unsigned h = hash_name(s, n) % NVARS;
	for (unsigned i = 0; i < NVARS; i++) {
		struct var *v = &vars[(h + i) % NVARS];
		if (!v->used) {
			v->used = 1;
			memcpy(v->name, s, n < 7 ? n : 7);
			v->value = (long)(h % 97);
			return v;
		}
		if (!strncmp(v->name, s, n < 7 ? n : 7))
			return v;
	}
	return &vars[0];
}

static long parse_number(struct lexer *lx)
{
	long v = 0;
	while (is_digit(*lx->p))
		v = v * 10 + (*lx->p++ - '0');
	return v;
}

static long parse_variable(struct lexer *lx)
{
	const char *start = lx->p;
	while (is_alpha(*lx->p))
		lx->p++;
	return lookup(start, (size_t)(lx->p - start))->value;
}

static long parse_expr(struct lexer *lx);

static long parse_factor(struct lexer *lx)
{
	char c = peek(lx);
	if (c == '(') {
		lx->p++;
		long v = parse_expr(lx);
		if (peek(lx) == ')')
			lx->p++;
		return v;
	}
	if (c == '-') {
		lx->p++;
		return -parse_factor(lx);
	}
	if (is_digit(c))
		return parse_number(lx);
	if (is_alpha(c))
		return parse_variable(lx);
	return 0;
}

static long apply(char op, long a, long b)
{
	switch (op) {
	case '+':
		return a + b;
	case '-':
		return a - b;
	case '*':
		return a * b;
	case '/':
		return b ? a / b : 0;
	default:
		return 0;
	}
}

static long parse_term(struct lexer *lx)
{
	long v = parse_factor(lx);
	for (char c = peek(lx); c == '*' || c == '/'; c = peek(lx)) {
		lx->p++;
		v = apply(c, v, parse_factor(lx));
	}
	return v;
}

static long parse_expr(struct lexer *lx)
{
	long v = parse_term(lx);
	for (char c = peek(lx); c == '+' || c == '-'; c = peek(lx)) {
		lx->p++;
		v = apply(c, v, parse_term(lx));
	}
	return v;
}

static long evaluate(const char *src)
{
	struct lexer lx = {src};
	return parse_expr(&lx);
}

static int compare_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

static const char *const programs[] = {
    "1 + 2 * (3 + alpha) - beta / 7",
    "(x + y) * (x - y) + 42 * gamma",
    "-(delta + 3) * (epsilon - 12) / (2 + zeta)",
    "a*b + c*d - e*f + (g + h) * (i - j)",
    "((((1 + 2) * 3) - 4) * 5) + theta * (iota - kappa)",
    "lambda + mu * nu - xi / (omicron + 1) + pi * rho",
};
#define NPROGRAMS (sizeof(programs) / sizeof(programs[0]))

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 20000;
	long results[NPROGRAMS * 8];
	uint64_t checksum = 0;
	for (long r = 0; r < rounds; r++) {
		size_t n = 0;
		for (int rep = 0; rep < 8; rep++)
			for (size_t i = 0; i < NPROGRAMS; i++)
				results[n++] = evaluate(programs[i]) + rep;
		qsort(results, n, sizeof(long), compare_long);
		checksum = checksum * 31 + (uint64_t)results[n / 2];
	}
	printf("checksum %llu\n", (unsigned long long)checksum);
	return 0;
}
