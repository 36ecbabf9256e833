#!/usr/bin/env bats
# One run, one place: privilege drops, disk use in every ending, run
# directories and the process tree (issue 10).

load helpers

setup() { setup_tmp; chmod 755 "$TMP"; }
teardown() {
	stop_nginx
	teardown_tmp
}

# A trace file holds little more than its data (the header says how much):
# no preallocated window left behind.
assert_trimmed_file() {
	local size committed
	size=$(stat -c %s "$1")
	[ "$size" -gt 0 ] || return 0 # an unused spare
	committed=$(od -An -t u8 -j16 -N8 "$1" | tr -d ' ')
	if [ "$size" -gt $((4096 + committed + 8192)) ]; then
		echo "$1: $size bytes on disk for $committed bytes of data" >&2
		return 1
	fi
}

# Every trace file under DIR is trimmed.
assert_trimmed() {
	local f
	for f in "$1"/*.trace*; do
		assert_trimmed_file "$f" || return 1
	done
}

# allocations whose stack passes through function $1, from the last report
allocs_in() {
	jqr "[.memory_metrics.top_sites[] | select(any(.stack[]; test(\"$1\"))) | .allocations] | add // 0"
}

@test "setuid after filling several windows: every allocation is recorded, no warning" {
	[ "$(id -u)" = 0 ] || skip "needs root to drop privileges"
	PROFSHIM_BUFFER_KB=256 run_shim "$TMP/t" "$PROGS/run_privdrop" "$(id -u nobody)" "$(id -g nobody)"
	# several windows were filled before the drop
	[ "$(stat -c %s "$TMP/t.t1")" -gt $((4 * 256 * 1024)) ]
	run "$PROFANALYZE" "$TMP/t" --format=json -o "$TMP/report.json" --top=1000
	[ "$status" -eq 0 ]
	[[ "$output" != *"could not be written"* ]]
	assert_eq "$(allocs_in after_drop)" 50000 "allocations after the drop"
	assert_eq "$(jqr .dropped.no_space)" 0 "dropped"
}

@test "unshare, chroot and setuid: recording goes on where the files' paths do not exist" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	mkdir "$TMP/jail"
	PROFSHIM_BUFFER_KB=256 run run_shim "$TMP/t" "$PROGS/run_privdrop" "$(id -u nobody)" "$(id -g nobody)" 40000 "$TMP/jail"
	[ "$status" -ne 6 ] || skip "unshare(CLONE_NEWNS) is not permitted here"
	[ "$status" -eq 0 ]
	run "$PROFANALYZE" "$TMP/t" --format=json -o "$TMP/report.json" --top=1000
	[ "$status" -eq 0 ]
	[[ "$output" != *"could not be written"* ]]
	assert_eq "$(allocs_in after_drop)" 50000 "allocations after the drop"
	assert_trimmed_file "$TMP/t.t1"
}

@test "a thread started after setuid is recorded (a spare file made before the drop)" {
	[ "$(id -u)" = 0 ] || skip "needs root to drop privileges"
	PROFSHIM_BUFFER_KB=256 run_shim "$TMP/run/" "$PROGS/run_privdrop" "$(id -u nobody)" "$(id -g nobody)" 1000 - thread
	run "$PROFANALYZE" "$TMP/run" --format=json -o "$TMP/report.json" --comm=run_privdrop --top=1000
	[ "$status" -eq 0 ]
	[[ "$output" != *"could not be written"* ]]
	assert_eq "$(allocs_in after_drop)" 50000 "allocations of the thread started after the drop"
	# spares nobody took are emptied: 2 files with data, the others empty
	assert_eq "$(find "$TMP/run" -name '*.trace.t*' -size +0 | wc -l)" 2 "thread files with data"
	assert_trimmed "$TMP/run"
}

@test "events that cannot be written are counted and warned about" {
	(
		trap '' XFSZ
		ulimit -f 1000
		PROFSHIM_BUFFER_KB=256 run_shim "$TMP/t" "$PROGS/run_privdrop" "$(id -u)" "$(id -g)"
	)
	run "$PROFANALYZE" "$TMP/t" --format=json -o "$TMP/report.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"events could not be written"* ]]
	[ "$(jqr .dropped.no_space)" -gt 1000 ]
	# the wrapper says so too, with the count, for a run directory and a file
	for out in "$TMP/w.d" "$TMP/w.trace"; do
		run bash -c "trap '' XFSZ; ulimit -f 1000; PROFSHIM_BUFFER_KB=256 '$ROOT/tools/profshim' -o '$out' -- '$PROGS/run_privdrop' $(id -u) $(id -g)"
		[ "$status" -eq 0 ]
		[[ "$output" == *"profshim: warning: "[0-9]*" events could not be written"* ]]
	done
}


# Is at least one file under DIR still at its preallocated size?
any_untrimmed() {
	! assert_trimmed "$1" 2>/dev/null
}

@test "disk use is the data written: exit, exec, privilege drop" {
	run_shim "$TMP/exit/" "$PROGS/core_crash" exit 20000
	assert_trimmed "$TMP/exit"
	run_shim "$TMP/exec/" "$PROGS/core_exec"
	[ "$(ls "$TMP"/exec/*.trace | wc -l)" -eq 2 ]
	assert_trimmed "$TMP/exec"
	if [ "$(id -u)" = 0 ]; then
		PROFSHIM_BUFFER_KB=256 run_shim "$TMP/drop/" "$PROGS/run_privdrop" "$(id -u nobody)" "$(id -g nobody)" 20000
		assert_trimmed "$TMP/drop"
	fi
}

@test "disk use is the data written: SIGKILL and abort, once profanalyze has read the run" {
	for how in kill abort; do
		run run_shim "$TMP/$how/" "$PROGS/core_crash" "$how" 20000
		[ "$status" -ne 0 ]
		any_untrimmed "$TMP/$how" # the dying process could not trim
		"$PROFANALYZE" "$TMP/$how" -q >/dev/null
		assert_trimmed "$TMP/$how"
	done
}

@test "a 3-generation tree (fork, exec, fork+exec, a pipeline): each process once, parents and exec order" {
	mkdir "$TMP/own"
	PROFSHIM_CPU_HZ=1000 run_shim "$TMP/run/" "$PROGS/run_tree" "$TMP/own"
	analyze_json "$TMP/run" -q
	files=$(ls "$TMP"/run/*.trace | wc -l)
	assert_eq "$(jqr '.run.processes | length')" "$files" "processes listed"
	assert_eq "$(jqr '[.run.processes[].file] | unique | length')" "$files" "distinct processes"
	p=$(ls "$TMP"/own/cpu.*.main | sed 's/.*cpu\.\([0-9]*\)\.main/\1/')
	a=$(ls "$TMP"/own/cpu.*.stage2 | sed 's/.*cpu\.\([0-9]*\)\.stage2/\1/')
	# generation 1 is the root
	assert_eq "$(jqr ".run.processes[0].pid") $(jqr ".run.processes[0].depth")" "$p 0" "root"
	# A: a fork of the root, then an exec of itself, in that order
	assert_eq "$(jqr "[.run.processes[] | select(.pid == $a) | \"\(.exec_index):\(.parent_pid):\(.depth)\"] | join(\" \")")" \
		"0:$p:1 1:$p:1" "A's images"
	assert_eq "$(jqr "[.run.processes[] | select(.pid == $a)][1].command_line")" "run_tree stage2 $TMP/own"
	# the shell: forked by stage2, exec'd into sh; its pipeline's processes below it
	s=$(jqr '[.run.processes[] | select(.command == "sh" and .exec_index == 1)][0].pid')
	assert_eq "$(jqr "[.run.processes[] | select(.pid == $s) | \"\(.command):\(.parent_pid):\(.depth)\"] | join(\" \")")" \
		"run_tree:$a:2 sh:$a:2" "the shell's images"
	for cmd in tr cat; do
		assert_eq "$(jqr "[.run.processes[] | select(.command == \"$cmd\") | \"\(.parent_pid):\(.depth)\"] | join(\" \")")" \
			"$s:3" "$cmd"
	done
	# processes appear in the order they ran: each below the image that started it
	pos() { jqr ".run.processes | map(.file) | to_entries[] | select(.value == \"$1\") | .key"; }
	[ "$(pos "sh.$s.trace")" -gt "$(pos "run_tree.$a.trace")" ]
	[ "$(pos "tr.$(jqr '[.run.processes[] | select(.command == "tr")][0].pid').trace")" -gt "$(pos "sh.$s.trace")" ]
	# CPU over all processes: the sum of the processes, which the programs measured
	assert_within "$(jqr .run.cpu_ms)" "$(jqr '[.run.processes[].cpu_ms // 0] | add')" 0.1 "run CPU = sum of processes"
	measured=$(cat "$TMP"/own/cpu.* | awk '{ s += $1 } END { print s }')
	assert_within "$(jqr '[.run.processes[] | select(.command == "run_tree") | .cpu_ms] | add')" "$measured" 25 "run_tree CPU"
	assert_within "$(jqr '.run.by_command[] | select(.command == "run_tree") | .cpu_ms')" "$measured" 25 "by command"
}

@test "profanalyze RUN_DIR: text tree, --pid, --comm, folded and flame graph per command; bad selections" {
	mkdir "$TMP/own"
	PROFSHIM_CPU_HZ=1000 run_shim "$TMP/run/" "$PROGS/run_tree" "$TMP/own"
	run "$PROFANALYZE" "$TMP/run" -q
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "profshim run: $TMP/run (10 processes)" ]]
	[[ "$output" == *"> run_tree stage2 $TMP/own"* ]]
	[[ "$output" == *"> tr x y"* ]]
	[[ "$output" == *"CPU by command and function"*"run_tree"*"burn"* ]]
	# one command of one process: the full single-process report
	run "$PROFANALYZE" "$TMP/run" --comm=tr -q
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\nprofshim report: tr x y\n'* ]]
	[[ "$output" != *"profshim run:"* ]]
	# a pid that forked then exec'd (two images): the last image's full
	# report, in every format; stderr names the file it used
	a=$(ls "$TMP"/own/cpu.*.stage2 | sed 's/.*cpu\.\([0-9]*\)\.stage2/\1/')
	run "$PROFANALYZE" "$TMP/run" --pid="$a"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pid $a ran 2 images (run_tree.$a.trace > run_tree.$a.1.trace); this report is of the last one, run_tree.$a.1.trace"* ]]
	[[ "$output" == *$'\nprofshim report: run_tree stage2 '"$TMP/own"$'\n'* ]]
	[[ "$output" != *"profshim run:"* ]]
	"$PROFANALYZE" "$TMP/run" --pid="$a" --format=chrome -o "$TMP/a.json" 2>"$TMP/err.txt"
	grep -q "this report is of the last one, run_tree.$a.1.trace" "$TMP/err.txt"
	analyze_json "$TMP/run" --pid="$a" -q
	assert_eq "$(jqr .session.pid)" "$a" "--pid report"
	assert_eq "$(jqr .session.command)" "run_tree stage2 $TMP/own"
	# the same as passing the last image's file: its CPU (the burn after exec)
	analyze_json "$TMP/run/run_tree.$a.1.trace" -q
	cpu_file=$(jqr .cpu.samples)
	analyze_json "$TMP/run" --pid="$a" -q
	assert_eq "$(jqr .cpu.samples)" "$cpu_file" "samples of the last image"
	[ "$cpu_file" -gt 0 ]
	"$PROFANALYZE" "$TMP/run" --format=folded -q > "$TMP/f.txt"
	grep -q '^run_tree;.*burn [0-9]*$' "$TMP/f.txt"
	! grep -qv '^[a-z_]*;\|^[a-z_]* [0-9]*$' "$TMP/f.txt"
	"$PROFANALYZE" "$TMP/run" --format=flamegraph -q > "$TMP/f.svg"
	grep -q 'data-n="run_tree"' "$TMP/f.svg"
	run "$PROFANALYZE" "$TMP/run" --comm=nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"no process of command 'nosuch'"* ]]
	# a format of one process: the first with CPU samples, named with how to pick another
	run "$PROFANALYZE" "$TMP/run" --format=chrome -o "$TMP/c.cpuprofile"
	[ "$status" -eq 0 ]
	[[ "$output" == *"this is process $(ls "$TMP"/own/cpu.*.main | sed 's/.*cpu\.\([0-9]*\)\.main/\1/') (run_tree"*"--pid=N"* ]]
	[ "$(jq '.samples | length' "$TMP/c.cpuprofile")" -gt 0 ]
	run "$PROFANALYZE" "$(ls "$TMP"/run/tr.*.trace)" --pid=1
	[ "$status" -eq 2 ]
	run "$PROFANALYZE" "$TMP/own"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no profshim process file"* ]]
}

@test "make -j2 building C files with gcc under tools/profshim: every cc1 in the tree, cc1 has most CPU" {
	command -v gcc >/dev/null || skip "gcc is not installed"
	mkdir "$TMP/src"
	# enough code per file that each cc1 outweighs as, collect2 and ld
	for i in 1 2 3 4; do
		for k in $(seq 1 60); do
			printf 'int f%d_%d(int *t, int n) {\n\tint s = 0;\n\tfor (int i = 0; i < n; i++)\n\t\ts += t[i] * %d + (s >> 3);\n\treturn s;\n}\n' "$i" "$k" "$k"
		done > "$TMP/src/f$i.c"
	done
	printf 'int main(void) { return 0; }\n' > "$TMP/src/main.c"
	printf 'prog: f1.o f2.o f3.o f4.o main.o\n\tgcc -o $@ $^\n%%.o: %%.c\n\tgcc -O2 -c $<\n' > "$TMP/src/Makefile"
	PROFSHIM_CPU_HZ=1000 run "$ROOT/tools/profshim" -o "$TMP/run.d" -- make -s -j2 -C "$TMP/src"
	[ "$status" -eq 0 ]
	[ -x "$TMP/src/prog" ]
	# the last line names the one path to pass, and the process that did the work
	[[ "${lines[-1]}" == *"most CPU: cc1 "*"Next: profanalyze $TMP/run.d" ]]
	analyze_json "$TMP/run.d" -q
	assert_eq "$(jqr '[.run.processes[] | select(.command == "cc1")] | length')" 5 "cc1 processes"
	# every cc1 hangs below a gcc, below make
	assert_eq "$(jqr '[.run.processes[] | select(.command == "cc1") | .depth] | unique | join(",")')" 2 "cc1 depth"
	assert_eq "$(jqr '.run.by_command[0].command')" cc1 "command with most CPU"
	assert_eq "$(jqr '.run.processes[0].command')" make
}

# --- nginx: a server whose workers drop privileges (user nobody) ---

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_nginx RUN_DIR BUFFER_KB: master + 1 worker under the shim, serving $TMP/www
start_nginx() {
	local out="$1" kb="$2" conf="$TMP/nginx.conf"
	mkdir -p "$TMP/www" "$TMP/ngx/logs" "$TMP/ngx/tmp"
	head -c 2000 /dev/zero | tr '\0' x > "$TMP/www/index.html"
	chmod -R a+rX "$TMP/www"
	PORT=$(free_port)
	cat > "$conf" <<CONF
user nobody $(id -gn nobody);
worker_processes 1;
daemon on;
pid $TMP/ngx/nginx.pid;
error_log $TMP/ngx/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $TMP/ngx/tmp/body;
	proxy_temp_path $TMP/ngx/tmp/proxy;
	fastcgi_temp_path $TMP/ngx/tmp/fastcgi;
	uwsgi_temp_path $TMP/ngx/tmp/uwsgi;
	scgi_temp_path $TMP/ngx/tmp/scgi;
	server {
		listen 127.0.0.1:$PORT;
		root $TMP/www;
	}
}
CONF
	PROFSHIM_BUFFER_KB="$kb" PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$out/" LD_PRELOAD="$SHIM" \
		nginx -p "$TMP/ngx" -c "$conf" -e "$TMP/ngx/logs/error.log" 3>&- </dev/null >/dev/null 2>&1
	for _ in $(seq 1 300); do
		curl -sf -o /dev/null "http://127.0.0.1:$PORT/index.html" && return 0
		sleep 0.1
	done
	echo "nginx did not answer on port $PORT" >&2
	return 1
}

# stop_nginx: graceful stop (workers exit normally), wait for the master
stop_nginx() {
	local pid
	[ -n "${TMP:-}" ] || return 0
	pid=$(cat "$TMP/ngx/nginx.pid" 2>/dev/null) || return 0
	kill -QUIT "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	pkill -KILL -P "$pid" 2>/dev/null
	return 0
}

# allocations recorded in the worker's trace (events, not the shim's counter)
worker_allocations() {
	local pid
	pid=$("$PROFANALYZE" "$1" --format=json -q | jq -r '.run.processes[] | select(.command_line | startswith("nginx: worker process")) | .pid')
	[ -n "$pid" ] || return 1
	"$PROFANALYZE" "$1" --pid="$pid" --format=json -o "$TMP/report.json" 2>"$TMP/warn.txt"
	jqr .memory_metrics.total_allocations
}

serve() {
	# one bounded curl: a keep-alive connection, $1 distinct requests
	curl -s -o /dev/null --max-time 600 "http://127.0.0.1:$PORT/index.html?r=[1-$1]"
}

@test "nginx with user nobody: the worker's allocations are all recorded, as with windows that never fill" {
	[ "$(id -u)" = 0 ] || skip "needs root (nginx drops to nobody)"
	command -v nginx >/dev/null || skip "nginx is not installed (tools/install-deps.sh)"
	start_nginx "$TMP/small" 256
	serve 16000
	stop_nginx
	start_nginx "$TMP/big" 65536
	serve 16000
	stop_nginx
	small=$(worker_allocations "$TMP/small")
	[[ "$(cat "$TMP/warn.txt")" != *"could not be written"* ]]
	assert_eq "$(jqr .dropped.no_space)" 0 "dropped"
	# the worker is named by its final command line (nginx retitles it
	# after fork, and again when it shuts down)
	[[ "$(jqr .session.command)" == "nginx: worker process"* ]]
	# ... while its command is the program's: every process is "nginx" (the
	# worker forks with the master's title, paths included, in argv[0])
	analyze_json "$TMP/small" -q
	assert_eq "$(jqr '[.run.processes[].command] | unique | join(",")')" nginx "commands"
	assert_eq "$(jqr '[.run.processes[] | select(.command_line | startswith("nginx: worker process"))] | length')" 1 "worker"
	big=$(worker_allocations "$TMP/big")
	[ "$small" -gt 16000 ]
	assert_within "$small" "$big" 1 "worker allocations, windows of 256 KiB vs 64 MiB"
	# the small-window worker filled several windows, and its files were cut to their data
	worker_file=$(ls "$TMP"/small/nginx.*.trace.t1 | xargs ls -S | head -1)
	# (more than two windows: delta-coded records are about half the size
	# they were, issue 15)
	[ "$(stat -c %s "$worker_file")" -gt $((2 * 256 * 1024)) ]
	assert_trimmed "$TMP/small"
}

@test "vfork + exec: the child is in the tree, the parent's trace goes on" {
	run_shim "$TMP/run/" "$PROGS/run_vfork"
	analyze_json "$TMP/run" -q
	parent=$(jqr '.run.processes[0].pid')
	assert_eq "$(jqr '[.run.processes[] | "\(.command):\(.parent_pid):\(.exec_index)"] | join(" ")')" \
		"run_vfork:$(jqr '.run.processes[0].ppid'):0 true:$parent:0" "tree"
	analyze_json "$TMP/run" --comm=run_vfork -q
	assert_eq "$(jqr '[.markers[].name] | join(",")')" "before,after,after,after" "parent's markers"
	assert_eq "$(jqr .session.ended_normally)" true
}

@test "a process retitled like an nginx worker: its command is the program's name, its title the command line" {
	# the titles are written over argv: give them room
	run_shim "$TMP/run/" "$PROGS/run_title" "$(printf 'x%.0s' $(seq 1 100))"
	analyze_json "$TMP/run" -q
	assert_eq "$(jqr '[.run.processes[] | "\(.command)|\(.command_line)"] | join(",")')" \
		"run_title|run_title: master process run_title -c /etc/rt/ngx.conf,run_title|run_title: worker process" "processes"
	assert_eq "$(jqr '[.run.by_command[] | "\(.command):\(.processes)"] | join(",")')" "run_title:2" "by command"
	# --comm finds both; --pid of the worker gives its report
	analyze_json "$TMP/run" --comm=run_title -q
	assert_eq "$(jqr '[.run.processes[] | select(.selected)] | length')" 2 "--comm=run_title"
	worker=$(jqr '.run.processes[1].pid')
	analyze_json "$TMP/run" --pid="$worker" -q
	assert_eq "$(jqr .session.command)" "run_title: worker process"
	assert_eq "$(jqr .memory_metrics.total_allocations)" 1000 "worker allocations"
}

@test "diff and check take a run directory's selected process (--pid, --comm); check says how to choose" {
	for d in a b; do
		run_shim "$TMP/$d/" "$PROGS/run_title" "$(printf 'x%.0s' $(seq 1 100))"
	done
	analyze_json "$TMP/a" -q
	wa=$(jqr '.run.processes[1].pid')
	analyze_json "$TMP/b" -q
	wb=$(jqr '.run.processes[1].pid')
	echo 'max_allocations = 999' > "$TMP/b.budget"
	# two processes and no selection: which file or option to give
	run "$PROFANALYZE" check "$TMP/a" --budget="$TMP/b.budget"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TMP/a is a run of 2 processes (2 selected); check takes one process"*"--comm=NAME or --pid=N"* ]]
	run "$PROFANALYZE" check "$TMP/a" --budget="$TMP/b.budget" --comm=nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"no process of command 'nosuch'"* ]]
	# the worker's 1000 allocations breach 999
	run "$PROFANALYZE" check "$TMP/a" --budget="$TMP/b.budget" --pid="$wa"
	[ "$status" -eq 3 ]
	[[ "$output" == *"value 1000 calls, in $TMP/a/run_title.$wa.trace"* ]]
	echo 'max_allocations = 1000' > "$TMP/b.budget"
	run "$PROFANALYZE" check "$TMP/a" --budget="$TMP/b.budget" --pid="$wa"
	[ "$status" -eq 0 ]
	# a file against a run directory's selected process
	"$PROFANALYZE" diff "$TMP/a/run_title.$wa.trace" "$TMP/b" --pid="$wb" --format=json -q > "$TMP/report.json"
	assert_eq "$(jqr '.new.path')" "$TMP/b/run_title.$wb.trace"
	assert_eq "$(jqr '.summary[] | select(.name == "allocations") | "\(.base) \(.new)"')" "1000 1000" "allocations"
}

@test "tools/profshim names the run directory by one normalized path (no dir/../)" {
	mkdir "$TMP/sub"
	cd "$TMP/sub"
	run "$ROOT/tools/profshim" -o ../w.d -- "$PROGS/run_vfork"
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" == *" in $TMP/w.d ("*"Next: profanalyze $TMP/w.d" ]]
	[ -f "$(ls "$TMP"/w.d/run_vfork.*.trace)" ]
	# a directory named like a trace file stays a directory
	run "$ROOT/tools/profshim" -o ./x/../v.trace/ -- "$PROGS/run_vfork"
	[[ "${lines[-1]}" == *"Next: profanalyze $TMP/sub/v.trace" ]]
	[ -d "$TMP/sub/v.trace" ]
}

@test "the tree counts a killed process's recorded allocations (it wrote no end counters)" {
	run_shim "$TMP/run/" "$PROGS/run_killed"
	analyze_json "$TMP/run" -q
	child=$(jqr '.run.processes[1].pid')
	assert_eq "$(jqr '[.run.processes[] | .allocations] | join(" ")')" "0 500" "tree allocations"
	assert_eq "$(jqr '[.run.by_command[] | .allocations] | add')" 500 "by command"
	analyze_json "$TMP/run" --pid="$child" -q
	assert_eq "$(jqr .memory_metrics.total_allocations)" 500 "the child's own report"
}

@test "an exec'd program that could not be recorded (after a privilege drop) is named in a warning" {
	[ "$(id -u)" = 0 ] || skip "needs root (drops to nobody)"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	run run_shim "$TMP/run/" setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups /bin/true
	[ "$status" -eq 0 ]
	[ "$(ls "$TMP"/run/*.trace | wc -l)" -eq 1 ]
	pid=$(ls "$TMP"/run/setpriv.*.trace | sed 's/.*setpriv\.\([0-9]*\)\.trace/\1/')
	run "$PROFANALYZE" "$TMP/run"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: setpriv.$pid.trace: pid $pid exec'd a program that left no trace in this run"* ]]
	# a run whose images are all there: no such warning
	run_shim "$TMP/ok/" "$PROGS/core_exec"
	run "$PROFANALYZE" "$TMP/ok" --format=json -o "$TMP/report.json"
	[ "$status" -eq 0 ]
	[[ "$output" != *"left no trace"* ]]
}

@test "a run recorded with io: bytes read and written per process and by command" {
	PROFSHIM_RECORD=io run_shim "$TMP/run/" sh -c 'head -c 100000 /dev/zero | cat > /dev/null'
	analyze_json "$TMP/run" -q
	assert_eq "$(jqr '.run.processes[] | select(.command == "head") | .io_bytes_written')" 100000 "head wrote"
	assert_eq "$(jqr '.run.processes[] | select(.command == "cat") | "\(.io_bytes_read) \(.io_bytes_written)"')" \
		"100000 100000" "cat read and wrote"
	assert_eq "$(jqr '.run.by_command[] | select(.command == "cat") | .io_bytes_read')" 100000 "by command"
	run "$PROFANALYZE" "$TMP/run" -q
	[[ "$output" == *"I/O by command"*$'\n'"  cat "*" 100000 "*" 100000"* ]]
	# without the io recorder: no I/O figures (not zeros)
	run_shim "$TMP/noio/" sh -c 'head -c 100000 /dev/zero | cat > /dev/null'
	analyze_json "$TMP/noio" -q
	assert_eq "$(jqr '[.run.processes[] | has("io_bytes_read")] | any')" false "no io fields"
	run "$PROFANALYZE" "$TMP/noio" -q
	[[ "$output" != *"I/O by command"* ]]
}
