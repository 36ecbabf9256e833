#!/usr/bin/env bats
# Findings of the io recorder: each detector's trigger program yields its
# finding at the right site, on the right file or peer, with exact counts
# and an impact of the order of what the program measured itself; its
# control program yields no io finding at all. Programs:
# tests/progs/find_{smallio,reopen,fsync,peer,dns,chatty,roundtrip,lock,sleep}.c
# (argv[1] = trigger | control, argv[2] = a directory for their files).

load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

IO_KINDS='["small_io","reopened_file","fsync_storm","slow_peer","chatty_network","lock_contention","short_sleep_poll"]'

# io_findings PROG MODE : PROG MODE under the io recorder, its stdout in
# $TMP/out, the JSON report (up to 100 findings) in report.json
io_findings() {
	PROFSHIM_RECORD=io run_shim "$TMP/$1.$2.trace" "$PROGS/$1" "$2" "$TMP" > "$TMP/out"
	analyze_json "$TMP/$1.$2.trace" --findings=100 -q
	# shown when a test fails
	jq -c '.findings[] | [.kind, .evidence.function, .evidence.object, .impact.text]' "$TMP/report.json" >&2
}

kind_count() { jqr "[.findings[] | select(.kind == \"$1\")] | length"; }
# kind_field KIND JQPATH : a field of the first finding of KIND
kind_field() { jqr "[.findings[] | select(.kind == \"$1\")][0] | $2"; }
measured() { awk -v n="$1" '$1 == n { print $2 }' "$TMP/out"; }
io_count() { jqr "[.findings[] | select(.kind as \$k | $IO_KINDS | index(\$k))] | length"; }

within_factor() {
	awk -v a="$1" -v e="$2" -v f="$3" 'BEGIN { exit !(a >= e / f && a <= e * f) }' || {
		echo "expected $2 within a factor $3, got $1" >&2
		return 1
	}
}

@test "findings io: small_io names the 16-byte writes and reads of records.txt, control none" {
	io_findings find_smallio trigger
	assert_eq "$(kind_count small_io)" 2
	jqr '.findings[] | select(.kind == "small_io") | "\(.evidence.function) \(.evidence.counts.calls) \(.evidence.counts.avg_bytes) \(.evidence.counts.syscalls_saved)"' | sort > "$TMP/got"
	# 5000 records of 16 bytes: 80000 bytes fit in two 64 KiB buffers
	printf 'read_records 5000 16 4998\nwrite_records 5000 16 4998\n' | diff - "$TMP/got"
	assert_eq "$(kind_field small_io .evidence.object)" "$TMP/records.txt"
	assert_eq "$(kind_field small_io .evidence.file)" tests/progs/find_smallio.c
	assert_eq "$(kind_field small_io .impact.unit)" wall_seconds
	io_findings find_smallio control
	assert_eq "$(io_count)" 0
}

@test "findings io: reopened_file names settings.conf opened once per request, control none" {
	io_findings find_reopen trigger
	assert_eq "$(kind_count reopened_file)" 1
	assert_eq "$(kind_field reopened_file .evidence.function)" read_settings
	assert_eq "$(kind_field reopened_file .evidence.object)" "$TMP/settings.conf"
	# 300 requests + the fopen that wrote it
	assert_eq "$(kind_field reopened_file .evidence.counts.opens)" 301
	assert_eq "$(kind_field reopened_file .evidence.counts.reads)" 300
	io_findings find_reopen control
	assert_eq "$(io_count)" 0
}

@test "findings io: fsync_storm names append_record with the time the syncs took, control none" {
	io_findings find_fsync trigger
	assert_eq "$(kind_count fsync_storm)" 1
	assert_eq "$(kind_field fsync_storm .evidence.function)" append_record
	assert_eq "$(kind_field fsync_storm .evidence.object)" "$TMP/journal.log"
	assert_eq "$(kind_field fsync_storm .evidence.counts.syncs)" "$(measured syncs)"
	# the syncs' time recorded around each call vs the program's own clock
	within_factor "$(kind_field fsync_storm .evidence.counts.seconds_in_syncs)" "$(measured sync_s)" 1.5
	io_findings find_fsync control
	assert_eq "$(io_count)" 0
}

@test "findings io: slow_peer names the server that answers after 40 ms, control none" {
	io_findings find_peer trigger
	assert_eq "$(kind_count slow_peer)" 1
	assert_eq "$(kind_field slow_peer .evidence.function)" ask_server
	kind_field slow_peer .evidence.object | grep -qx '127\.0\.0\.1:[0-9]*'
	assert_eq "$(kind_field slow_peer .evidence.counts.connects)" 8
	assert_eq "$(kind_field slow_peer .evidence.counts.replies)" 8
	# each reply waited >= 40 ms; the program timed the same waits
	within_factor "$(kind_field slow_peer .evidence.counts.reply_wait_seconds)" "$(measured reply_wait_s)" 1.2
	io_findings find_peer control
	assert_eq "$(io_count)" 0
}

@test "findings io: slow_peer names a host looked up again for every request, control none" {
	io_findings find_dns trigger
	assert_eq "$(kind_count slow_peer)" 1
	assert_eq "$(kind_field slow_peer .evidence.function)" resolve
	assert_eq "$(kind_field slow_peer .evidence.object)" "DNS localhost"
	assert_eq "$(kind_field slow_peer .evidence.counts.lookups)" "$(measured lookups)"
	# the program timed each lookup around the call (the wrapper's own
	# record-keeping is inside its figure, not the recorder's)
	within_factor "$(kind_field slow_peer .evidence.counts.lookup_seconds)" "$(measured lookup_s)" 1.3
	# the files getaddrinfo reads (/etc/hosts) are inside a recorded call
	assert_eq "$(io_count)" 1
	io_findings find_dns control
	assert_eq "$(io_count)" 0
}

@test "findings io: chatty_network names 2000 sends of 24 bytes back to back, control none" {
	io_findings find_chatty trigger
	assert_eq "$(kind_count chatty_network)" 1
	assert_eq "$(kind_field chatty_network .evidence.function)" send_metrics
	kind_field chatty_network .evidence.object | grep -qx '127\.0\.0\.1:[0-9]*'
	assert_eq "$(kind_field chatty_network .evidence.counts.sends)" 2000
	assert_eq "$(kind_field chatty_network .evidence.counts.avg_bytes)" 24
	assert_eq "$(kind_field chatty_network .evidence.counts.back_to_back_sends)" 1999
	# the server side (accepted, receiving) is not blamed
	assert_eq "$(io_count)" 1
	io_findings find_chatty control
	assert_eq "$(io_count)" 0
}

@test "findings io: chatty_network names 1200 round trips a client could pipeline, control none" {
	io_findings find_roundtrip trigger
	assert_eq "$(kind_count chatty_network)" 1
	assert_eq "$(kind_field chatty_network .evidence.function)" fetch_values
	assert_eq "$(kind_field chatty_network .evidence.counts.round_trips)" "$(measured round_trips)"
	assert_eq "$(kind_field chatty_network .evidence.counts.back_to_back_sends)" 0
	kind_field chatty_network .recommendation | grep -q '^Pipeline the requests'
	# the echo server alternates too, but on connections it accepted
	assert_eq "$(io_count)" 1
	io_findings find_roundtrip control
	assert_eq "$(io_count)" 0
}

@test "findings io: lock_contention names the shared mutex with the wait the threads measured, control none" {
	io_findings find_lock trigger
	assert_eq "$(kind_count lock_contention)" 1
	assert_eq "$(kind_field lock_contention .evidence.function)" add_result
	kind_field lock_contention .evidence.object | grep -q '^mutex at 0x'
	# timed around each pthread_mutex_lock by the program (uncontended
	# calls add nanoseconds)
	within_factor "$(kind_field lock_contention .evidence.counts.wait_seconds)" "$(measured lock_wait_s)" 1.2
	[ "$(kind_field lock_contention .evidence.counts.threads)" -ge 2 ]
	io_findings find_lock control
	assert_eq "$(io_count)" 0
}

@test "findings io: short_sleep_poll names the usleep loop and the 1 ms poll loop, control none" {
	io_findings find_sleep trigger
	assert_eq "$(kind_count short_sleep_poll)" 2
	jqr '.findings[] | select(.kind == "short_sleep_poll") | .evidence.function' | sort > "$TMP/got"
	printf 'poll_until_ready\nsleep_until_done\n' | diff - "$TMP/got"
	# the wake-ups the program counted as short (<= 10 ms by its clock, which
	# also holds the wrapper: one at the border may fall either side)
	local s p
	s=$(jqr '.findings[] | select(.evidence.function == "sleep_until_done") | .evidence.counts.wakeups')
	p=$(jqr '.findings[] | select(.evidence.function == "poll_until_ready") | .evidence.counts.wakeups')
	[ "$s" -le "$(measured sleeps)" ] && [ "$p" -le "$(measured poll_timeouts)" ]
	awk -v a="$s" -v b="$(measured short_sleeps)" -v c="$p" -v d="$(measured short_timeouts)" \
		'BEGIN { exit !(a - b <= 2 && b - a <= 2 && c - d <= 2 && d - c <= 2) }'
	io_findings find_sleep control
	assert_eq "$(io_count)" 0
}

@test "findings io: text report shows the file or peer a finding is on" {
	io_findings find_reopen trigger
	"$PROFANALYZE" "$TMP/find_reopen.trigger.trace" -q > "$TMP/text"
	grep -q "reopened_file: .*settings.conf was opened 301 times" "$TMP/text"
	grep -q "^      on:     $TMP/settings.conf\$" "$TMP/text"
}

# --- real programs: every io finding below was checked by hand ---

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# io_real NAME CMD... : CMD under cpu, mem and io, the report in report.json
io_real() {
	local name="$1"
	shift
	PROFSHIM_RECORD=cpu,mem,io PROFSHIM_OUTPUT="$TMP/$name.trace" LD_PRELOAD="$SHIM" "$@" > /dev/null
	analyze_json "$TMP/$name.trace" --findings=100 -q
	jq -c '.findings[] | [.kind, .evidence.function, .evidence.object, .impact.text]' "$TMP/report.json" >&2
}

# io_kinds : "kind function object" of each io finding, sorted
io_kinds() {
	jqr ".findings[] | select(.kind as \$k | $IO_KINDS | index(\$k)) | \"\(.kind) \(.evidence.function) \(.evidence.object)\"" | sort
}

@test "findings io on sqlite3: autocommit inserts are an fsync storm and reopen the journal" {
	command -v sqlite3 || skip "sqlite3 not installed (tools/install-deps.sh)"
	{ echo "create table t(a, b);"; for i in $(seq 120); do echo "insert into t values($i, 'x$i');"; done; } > "$TMP/ins.sql"
	io_real sq sqlite3 "$TMP/s.db" < "$TMP/ins.sql"
	# each insert is a transaction: the rollback journal is created, written,
	# synced (with the database and the directory) and deleted again:
	# 4 syncs per insert; the fix is one transaction (or WAL). The
	# directory opened to sync it is no reopened_file (nothing read or written).
	# The journal's open site (unixOpen) is reached from the first page
	# write of a transaction or its commit (sqlite3BtreeInsert,
	# sqlite3BtreeBeginTrans, sqlite3PagerCommitPhaseOne: the stack shown
	# is the site's longest call's; so for the sync site: the commit's
	# journal or database sync, sqlite3PagerCommitPhaseOne in every run seen)
	io_kinds | sed 's/^\(reopened_file\|fsync_storm\) sqlite3[A-Za-z]* /\1 sqlite3* /' > "$TMP/got"
	printf 'fsync_storm sqlite3* %s (and 2 other files)\nreopened_file sqlite3* %s\n' \
		"$TMP/s.db-journal" "$TMP/s.db-journal" | diff - "$TMP/got"
	[ "$(kind_field fsync_storm .evidence.counts.syncs)" -ge 360 ]
	[ "$(kind_field reopened_file .evidence.counts.opens)" -ge 120 ]
	# one transaction: no io finding
	{ echo "begin;"; cat "$TMP/ins.sql" | sed 's/create table t/create table u/; s/into t/into u/'; echo "commit;"; } > "$TMP/one.sql"
	io_real sq1 sqlite3 "$TMP/s.db" < "$TMP/one.sql"
	assert_eq "$(io_count)" 0
}

@test "findings io on nginx: index.html opened once per request (no open_file_cache), nothing else" {
	command -v nginx >/dev/null && command -v curl >/dev/null || skip "nginx or curl not installed"
	port=$(free_port)
	mkdir -p "$TMP/www"
	echo hello > "$TMP/www/index.html"
	cat >"$TMP/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $TMP/error.log;
pid $TMP/nginx.pid;
events { worker_connections 64; }
http {
	access_log $TMP/access.log;
	client_body_temp_path $TMP/cb; proxy_temp_path $TMP/pt; fastcgi_temp_path $TMP/ft;
	uwsgi_temp_path $TMP/ut; scgi_temp_path $TMP/st;
	server { listen 127.0.0.1:$port; root $TMP/www; }
}
CONF
	PROFSHIM_RECORD=cpu,mem,io PROFSHIM_OUTPUT="$TMP/n.trace" LD_PRELOAD="$SHIM" \
		nginx -c "$TMP/nginx.conf" -p "$TMP" >"$TMP/nginx.log" 2>&1 &
	local pid=$! ok=0
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && { ok=1; break; }
		sleep 0.05
	done
	for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$port/index.html"; done
	kill -QUIT "$pid"
	wait "$pid" || true
	[ "$ok" -eq 1 ]
	analyze_json "$TMP/n.trace" --findings=100 -q
	# 151 requests: 151 opens of index.html (nginx's open_file_cache is off
	# by default); the access log's one write per request stays under 1000
	printf 'reopened_file ngx_open_cached_file %s\n' "$TMP/www/index.html" | diff - <(io_kinds)
	assert_eq "$(kind_field reopened_file .evidence.counts.opens)" 151
}

@test "findings io on redis-server under redis-benchmark: no io finding" {
	command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || skip "redis not installed"
	port=$(free_port)
	PROFSHIM_RECORD=cpu,mem,io PROFSHIM_OUTPUT="$TMP/r.trace" LD_PRELOAD="$SHIM" \
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" \
		>"$TMP/redis.log" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
	# request/response on accepted connections (the server cannot batch its
	# clients' requests), and pipelined requests
	redis-benchmark -q -n 2000 -c 4 -t ping,set,get -p "$port" >/dev/null
	redis-benchmark -q -n 2000 -c 1 -P 16 -t set -p "$port" >/dev/null
	redis-cli -p "$port" shutdown nosave || true
	wait "$pid" || true
	analyze_json "$TMP/r.trace" --findings=100 -q
	jq -c '.findings[] | [.kind, .evidence.function, .evidence.object]' "$TMP/report.json" >&2
	assert_eq "$(io_count)" 0
}

@test "findings io on python3 and a make+gcc build: no io finding" {
	[ -x /usr/bin/python3 ] || skip "python3 not installed"
	io_real py /usr/bin/python3 -c "
import json, os, tempfile
d = [{'k': i, 'v': str(i) * 10} for i in range(50000)]
p = os.path.join('$TMP', 'd.json')
with open(p, 'w') as f: json.dump(d, f)
with open(p) as f: json.load(f)"
	assert_eq "$(io_count)" 0
	command -v gcc && command -v make || skip "gcc or make not installed"
	mkdir "$TMP/mk"
	for i in 1 2 3; do
		printf '#include <stdio.h>\nint f%d(int x) { char b[64]; snprintf(b, sizeof b, "%%d", x); return b[0]; }\n' "$i" > "$TMP/mk/f$i.c"
	done
	printf 'all: f1.o f2.o f3.o\n%%.o: %%.c\n\tgcc -O2 -c $< -o $@\n' > "$TMP/mk/Makefile"
	(cd "$TMP/mk" && PROFSHIM_RECORD=cpu,mem,io PROFSHIM_OUTPUT="$TMP/mk/run.%p.trace" LD_PRELOAD="$SHIM" make -s -j2)
	local n=0
	for t in "$TMP"/mk/run.*.trace; do
		analyze_json "$t" --findings=100 -q
		assert_eq "$(jqr '.findings | length')" 0 "findings in $(jqr .session.command)"
		n=$((n + 1))
	done
	[ "$n" -ge 10 ]
}
