/*
 * Driver for the calls benchmark on a real C code base: SQLite (the
 * amalgamation, fetched by tools/bench-calls-real.sh, never committed).
 * Built twice with it, plain and with -finstrument-functions.
 *
 * It opens an in-memory database and runs a fixed SQL workload of the kind
 * an application runs: bulk inserts through a prepared statement, an index,
 * joins, aggregates, sorting, an update and a delete. The data comes from a
 * fixed pseudo-random sequence, so every run makes exactly the same calls.
 *
 * usage: sqlite_workload [ROWS]   (default 100000 orders)
 * Prints a checksum of the query results so that a run can be checked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sqlite3.h"

static uint64_t seed = 88172645463325252ull;

/* xorshift64: the same sequence on every run and every machine */
static uint64_t next_random(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite_workload: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sqlite_workload: %s: %s\n", sql, err);
		exit(1);
	}
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(db, sql);
	return st;
}

static void insert_customers(sqlite3 *db, int n)
{
	sqlite3_stmt *st = prepare(db, "INSERT INTO customer(id, name, region) VALUES (?, ?, ?)");
	char name[32];
	for (int i = 1; i <= n; i++) {
		snprintf(name, sizeof name, "customer-%06llu",
			 (unsigned long long)(next_random() % 1000000));
		sqlite3_bind_int(st, 1, i);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 3, (int)(next_random() % 20));
		if (sqlite3_step(st) != SQLITE_DONE)
			die(db, "insert customer");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

static void insert_orders(sqlite3 *db, int n, int customers)
{
	sqlite3_stmt *st =
	    prepare(db, "INSERT INTO orders(customer, amount, day, note) VALUES (?, ?, ?, ?)");
	char note[48];
	for (int i = 0; i < n; i++) {
		uint64_t r = next_random();
		snprintf(note, sizeof note, "order %llx for item %llu",
			 (unsigned long long)(r >> 20), (unsigned long long)(r % 5000));
		sqlite3_bind_int(st, 1, (int)(r % (uint64_t)customers) + 1);
		sqlite3_bind_double(st, 2, (double)(next_random() % 100000) / 100.0);
		sqlite3_bind_int(st, 3, (int)(next_random() % 365));
		sqlite3_bind_text(st, 4, note, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			die(db, "insert order");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

/* Runs a query and folds every column of every row into the checksum. */
static uint64_t query(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = prepare(db, sql);
	uint64_t sum = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const unsigned char *t = sqlite3_column_text(st, c);
			for (; t && *t; t++)
				sum = sum * 31 + *t;
		}
	}
	if (rc != SQLITE_DONE)
		die(db, sql);
	sqlite3_finalize(st);
	return sum;
}

/* Point lookups through the index, one prepared statement reused. */
static uint64_t lookups(sqlite3 *db, int n, int customers)
{
	sqlite3_stmt *st =
	    prepare(db, "SELECT count(*), total(amount) FROM orders WHERE customer = ?");
	uint64_t sum = 0;
	for (int i = 0; i < n; i++) {
		sqlite3_bind_int(st, 1, (int)(next_random() % (uint64_t)customers) + 1);
		if (sqlite3_step(st) != SQLITE_ROW)
			die(db, "lookup");
		sum += (uint64_t)sqlite3_column_int(st, 0) + (uint64_t)sqlite3_column_double(st, 1);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return sum;
}

int main(int argc, char **argv)
{
	int rows = argc > 1 ? atoi(argv[1]) : 100000;
	int customers = rows / 10 > 0 ? rows / 10 : 1;
	sqlite3 *db;
	uint64_t sum = 0;

	if (rows <= 0) {
		fprintf(stderr, "usage: sqlite_workload [ROWS > 0]\n");
		return 2;
	}
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		die(db, "open");
	exec(db, "CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, region INTEGER);"
		 "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, amount REAL,"
		 " day INTEGER, note TEXT)");
	exec(db, "BEGIN");
	insert_customers(db, customers);
	insert_orders(db, rows, customers);
	exec(db, "COMMIT");
	exec(db, "CREATE INDEX orders_customer ON orders(customer)");

	sum += query(db, "SELECT c.region, count(*), round(sum(o.amount), 2), max(o.amount)"
			 " FROM orders o JOIN customer c ON c.id = o.customer"
			 " GROUP BY c.region ORDER BY 3 DESC");
	sum += query(db, "SELECT day, count(DISTINCT customer), round(avg(amount), 2) FROM orders"
			 " GROUP BY day HAVING count(*) > 1 ORDER BY day");
	sum += query(db, "SELECT c.name, o.note, o.amount FROM orders o JOIN customer c"
			 " ON c.id = o.customer ORDER BY o.note, c.name LIMIT 200 OFFSET 1000");
	sum += query(db, "SELECT name, (SELECT count(*) FROM orders WHERE customer = c.id) AS n"
			 " FROM customer c ORDER BY n DESC, name LIMIT 50");
	sum += lookups(db, rows / 10, customers);
	exec(db, "UPDATE orders SET amount = amount * 1.1 WHERE day % 7 = 0");
	exec(db, "DELETE FROM orders WHERE amount < 50");
	sum += query(db, "SELECT count(*), round(total(amount), 2), group_concat(DISTINCT"
			 " substr(note, 1, 5)) FROM orders WHERE note LIKE '%item 4%'");
	sqlite3_close(db);
	printf("checksum %llu\n", (unsigned long long)sum);
	return 0;
}
