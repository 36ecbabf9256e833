#!/usr/bin/env bash
# Calls recorder (-finstrument-functions) on a real C code base: SQLite.
# The same figures as tools/bench-calls.sh (profshim tree and trace mode and
# uftrace record against the instrumented build with glibc's empty hooks),
# plus tree mode with exact timing, CPU time, and checks that every mode
# counts the same calls.
#
# The SQLite amalgamation (sqlite3.c, sqlite3.h) comes from the npm package
# better-sqlite3, which bundles it under deps/sqlite3/ (the npm registry is
# reachable where other downloads are not). It is fetched once into
# build/bench/real/ and never committed. SQLite's shell is not in that
# package: tools/bench/sqlite_workload.c drives the library with a fixed
# SQL workload on an in-memory database instead. When the package cannot be
# fetched, the benchmark is skipped (exit 0).
#
# BENCH_RUNS (default 5) rounds; BENCH_SQLITE_ROWS (default 100000) rows;
# BENCH_SQLITE_PACKAGE (default better-sqlite3@13.2.0, SQLite 3.54.1).
set -euo pipefail
cd "$(dirname "$0")/.."
package=${BENCH_SQLITE_PACKAGE:-better-sqlite3@13.2.0}
runs=${BENCH_RUNS:-5}
rows=${BENCH_SQLITE_ROWS:-100000}
dir=build/bench/real
src=$dir/${package//[@\/]/-}
mkdir -p "$dir"

# Fetch: npm's own client, or the registry's tarball address with curl.
fetch() {
	local tmp tgz name version
	tmp=$(mktemp -d "$dir/fetch.XXXXXX")
	name=${package%@*}
	version=${package##*@}
	if command -v npm >/dev/null &&
		timeout 120 npm pack --silent --fetch-retries=1 --fetch-retry-maxtimeout=5000 \
			--pack-destination "$tmp" "$package" >/dev/null 2>&1; then
		:
	elif command -v curl >/dev/null &&
		timeout 120 curl -fsSL --connect-timeout 20 -o "$tmp/p.tgz" \
			"https://registry.npmjs.org/$name/-/$name-$version.tgz" 2>/dev/null; then
		:
	else
		rm -rf "$tmp"
		return 1
	fi
	tgz=$(ls "$tmp"/*.tgz)
	mkdir -p "$tmp/x"
	tar -xzf "$tgz" -C "$tmp/x" package/deps/sqlite3/sqlite3.c package/deps/sqlite3/sqlite3.h ||
		{ rm -rf "$tmp"; return 1; }
	rm -rf "$src"
	mv "$tmp/x/package/deps/sqlite3" "$src"
	rm -rf "$tmp"
}

if [ ! -f "$src/sqlite3.c" ]; then
	echo "calls-real: fetching the SQLite amalgamation ($package from the npm registry)"
	if ! fetch; then
		echo "calls-real: SKIPPED: could not fetch $package (npm registry unreachable?)"
		exit 0
	fi
fi
version=$(sed -n 's/^#define SQLITE_VERSION  *"\(.*\)"/\1/p' "$src/sqlite3.h")

# Build: sqlite3.c takes about a minute per variant at -O2, so its objects
# are kept next to the source (one directory per package version) and
# rebuilt only when missing. Both variants in parallel.
t0=$(date +%s)
compile() { # FLAGS... OUTPUT
	local out=${*: -1}
	if [ ! -f "$out" ]; then
		cc -O2 -g "${@:1:$#-1}" -c -o "$out.tmp" "$src/sqlite3.c" && mv "$out.tmp" "$out"
	fi
}
compile "$src/sqlite3_plain.o" &
plain_pid=$!
compile -finstrument-functions "$src/sqlite3_fi.o" &
fi_pid=$!
wait $plain_pid && wait $fi_pid
libs=(-lpthread -ldl -lm)
# hooks that only read the TSC: the floor of timing every call
mkdir -p build/bench
cc -O2 -fPIC -shared -o build/bench/clock_floor_hooks.so tools/bench/clock_floor_hooks.c
cc -O2 -g -I"$src" -o "$dir/sqlite_plain" tools/bench/sqlite_workload.c "$src/sqlite3_plain.o" "${libs[@]}"
cc -O2 -g -finstrument-functions -I"$src" -o "$dir/sqlite_fi" tools/bench/sqlite_workload.c \
	"$src/sqlite3_fi.o" "${libs[@]}"
echo "calls-real: SQLite $version built in $(($(date +%s) - t0)) s"

command -v uftrace >/dev/null || echo "(uftrace not installed: apt-get install uftrace)"
python3 tools/bench/calls_real.py --runs "$runs" \
	--label "SQLite $version, $rows rows (tools/bench/sqlite_workload.c)" \
	--plain "$dir/sqlite_plain" --instrumented "$dir/sqlite_fi" "$rows"
