#!/usr/bin/env bats
# Recording core: per-thread files, processes, crash safety, markers.

load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

marker_count() { # NAME : markers of that name in the last report
	jqr "[.markers[] | select(.name == \"$1\")] | length"
}

@test "threads: one file each, exact events per thread, thread names" {
	run_shim "$TMP/t.trace" "$PROGS/core_threads"
	[ -f "$TMP/t.trace" ]
	[ "$(ls "$TMP"/t.trace.t* | wc -l)" -eq 5 ]
	analyze_json "$TMP/t.trace"
	assert_eq "$(jqr '.session.threads | length')" 5 threads
	assert_eq "$(jqr '[.session.threads[] | select(.name | startswith("worker-"))] | length')" 4 "named workers"
	# markers per worker (other records, e.g. RSS readings, may land on any thread)
	assert_eq "$(jqr '[.markers[] | select(.name == "work")] | group_by(.tid) | map(length) | unique | join(",")')" 1000 "markers per worker"
	assert_eq "$(jqr '[.session.threads[] | select(.name | startswith("worker-")) | .events >= 1000] | all')" true "events per worker"
	assert_eq "$(marker_count work)" 4000 "worker markers"
	assert_eq "$(marker_count main)" 7 "main markers"
	assert_eq "$(jqr '.operation_metrics.markers')" 4007
	assert_eq "$(jqr '.session.ended_normally')" true
	# every thread's end is also in the process file
	assert_eq "$(jqr '[.session.threads[].duration_ms > 0] | all')" true
}

@test "the program's own view of the counters" {
	run run_shim "$TMP/t.trace" "$PROGS/core_threads"
	[ "$status" -eq 0 ]
	# 4000 + 7 markers plus the thread-name records at least
	n=$(echo "$output" | sed -n 's/^events=//p')
	[ "$n" -ge 4007 ]
}

@test "markers are time-ordered across threads" {
	run_shim "$TMP/t.trace" "$PROGS/core_threads"
	analyze_json "$TMP/t.trace"
	assert_eq "$(jqr '[.markers[].time_ms] | . == sort')" true "merged order"
}

@test "fork: the child writes its own files, the parent's stay whole" {
	run run_shim "$TMP/f.trace" "$PROGS/core_fork"
	[ "$status" -eq 0 ]
	child=$(echo "$output" | sed -n 's/^child=//p')
	parent=$(echo "$output" | sed -n 's/^parent=//p')
	[ -f "$TMP/f.trace.$child" ]
	analyze_json "$TMP/f.trace"
	assert_eq "$(jqr '.session.pid')" "$parent"
	assert_eq "$(marker_count parent-before)" 3
	assert_eq "$(marker_count parent-after)" 2
	assert_eq "$(marker_count child)" 0
	assert_eq "$(jqr '.session.related_processes[] | "\(.how) \(.pid) \(.trace)"')" "fork $child $TMP/f.trace.$child"
	analyze_json "$TMP/f.trace.$child"
	assert_eq "$(jqr '.session.pid')" "$child"
	assert_eq "$(jqr '.session.ppid')" "$parent"
	assert_eq "$(marker_count child)" 5
	assert_eq "$(jqr '.markers | length')" 5
}

@test "exec: the new image is profiled into new files, nothing overwritten" {
	run_shim "$TMP/e.trace" "$PROGS/core_exec"
	[ "$(ls "$TMP" | grep -cE '^e\.trace\.[0-9]+$')" -eq 1 ]
	second=$(ls "$TMP" | grep -E '^e\.trace\.[0-9]+$')
	analyze_json "$TMP/e.trace"
	assert_eq "$(marker_count before-exec)" 2
	assert_eq "$(jqr '.markers | length')" 2
	assert_eq "$(jqr '.session.related_processes[0].how')" exec
	analyze_json "$TMP/$second"
	assert_eq "$(marker_count after-exec)" 4
	assert_eq "$(jqr '.session.command')" "$PROGS/core_exec again"
}

@test "exec with an environment of its own keeps the shim" {
	cat > "$TMP/envexec.c" <<'C'
#include <unistd.h>
#include "profshim.h"
int main(int argc, char **argv) {
	if (argc > 1) { PROFSHIM_MARK("inside"); return 0; }
	char *args[] = { argv[0], "x", 0 }, *env[] = { "PATH=/bin", 0 };
	execve("/proc/self/exe", args, env);
	return 1;
}
C
	cc -I"$ROOT/include" -o "$TMP/envexec" "$TMP/envexec.c"
	run_shim "$TMP/v.trace" "$TMP/envexec"
	second=$(ls "$TMP" | grep -E '^v\.trace\.[0-9]+$')
	analyze_json "$TMP/$second"
	assert_eq "$(marker_count inside)" 1
}

@test "SIGKILL mid-run: every marker up to the kill is read" {
	run run_shim "$TMP/k.trace" "$PROGS/core_crash" kill 100000
	[ "$status" -eq 137 ]
	run "$PROFANALYZE" "$TMP/k.trace" --format=json -o "$TMP/report.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"did not end normally"* ]]
	assert_eq "$(marker_count before-death)" 100000
	assert_eq "$(jqr '.session.ended_normally')" false
}

@test "SIGSEGV: the trace reads and the crash is the program's own" {
	run run_shim "$TMP/s.trace" "$PROGS/core_crash" segv 5000
	[ "$status" -eq 139 ]
	analyze_json "$TMP/s.trace" -q
	assert_eq "$(marker_count before-death)" 5000
}

@test "abort and _exit keep everything too" {
	run run_shim "$TMP/a.trace" "$PROGS/core_crash" abort 777
	[ "$status" -eq 134 ]
	analyze_json "$TMP/a.trace" -q
	assert_eq "$(marker_count before-death)" 777
	run run_shim "$TMP/x.trace" "$PROGS/core_crash" _exit 778
	[ "$status" -eq 3 ]
	analyze_json "$TMP/x.trace" -q
	assert_eq "$(marker_count before-death)" 778
}

@test "a program that closes every descriptor keeps its files and ours" {
	mkdir "$TMP/own"
	run run_shim "$TMP/c.trace" "$PROGS/core_closefds" "$TMP/own"
	[ "$status" -eq 0 ]
	assert_eq "$(cat "$TMP/own/result.txt")" "files intact"
	analyze_json "$TMP/c.trace"
	assert_eq "$(jqr '.markers | length')" 120000
	assert_eq "$(jqr '.session.threads | length')" 2
}

@test "dlopen/dlclose: a marker in an unloaded library still resolves" {
	run_shim "$TMP/d.trace" "$PROGS/core_dlopen" "$PROGS/core_plugin.so"
	analyze_json "$TMP/d.trace"
	line=$(grep -n PLUGIN_MARK_LINE "$ROOT/tests/progs/lib/core_plugin.c" | cut -d: -f1)
	loc=$(jqr '.markers[] | select(.name == "in-plugin") | .location')
	[[ "$loc" == *"plugin_mark"* ]]
	[[ "$loc" == *"core_plugin.c:$line"* ]]
	assert_eq "$(jqr '[.modules[] | select(.path | endswith("core_plugin.so")) | .unloaded] | join(",")')" true
	loc2=$(jqr '.markers[] | select(.name == "after-unload") | .location')
	[[ "$loc2" == *"main"* ]]
}

@test "a bad setting prints one line and the program runs on" {
	run env PROFSHIM_CPU_HZ=lots PROFSHIM_OUTPUT="$TMP/b.trace" LD_PRELOAD="$SHIM" "$PROGS/core_exec" again
	[ "$status" -eq 0 ]
	[[ "$output" == *"PROFSHIM_CPU_HZ=lots"* ]]
	[ "$(echo "$output" | grep -c profshim)" -eq 1 ]
}

@test "an output path that cannot be written turns profiling off, not the program" {
	run env PROFSHIM_OUTPUT=/nonexistent/dir/x.trace LD_PRELOAD="$SHIM" "$PROGS/core_fork"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cannot create trace file"* ]]
	[[ "$output" == *"parent="* ]]
}

@test "nothing is ever overwritten: a second run gets a new name" {
	run_shim "$TMP/n.trace" "$PROGS/core_exec" again
	cp "$TMP/n.trace" "$TMP/first"
	run_shim "$TMP/n.trace" "$PROGS/core_exec" again
	cmp "$TMP/n.trace" "$TMP/first"
	[ "$(ls "$TMP" | grep -cE '^n\.trace\.[0-9]+$')" -eq 1 ]
}

@test "the default output name names the program and the pid" {
	cd "$TMP"
	LD_PRELOAD="$SHIM" "$PROGS/core_exec" again
	ls "$TMP" | grep -qE '^profshim\.core_exec\.[0-9]+\.trace$'
}

@test "tools/profshim runs the program, keeps its exit status and says what next" {
	run "$ROOT/tools/profshim" -o "$TMP/w.trace" -- "$PROGS/core_crash" _exit 10
	[ "$status" -eq 3 ]
	[[ "$output" == *"profanalyze $TMP/w.trace"* ]]
	analyze_json "$TMP/w.trace" -q
	assert_eq "$(marker_count before-death)" 10
}

@test "tools/profshim selects recorders" {
	run "$ROOT/tools/profshim" -o "$TMP/r.trace" --mem --cpu=200 -- "$PROGS/core_exec" again
	[ "$status" -eq 0 ]
	run "$ROOT/tools/profshim" --bogus -- true
	[ "$status" -eq 2 ]
	[[ "$output" == *"--bogus"* ]]
}

@test "tools/profshim runs the program of that name, not a shell builtin; no empty run directory left" {
	run "$ROOT/tools/profshim" -o "$TMP/b.trace" -- echo from-echo
	[ "$status" -eq 0 ]
	[[ "$output" == *"from-echo"* ]]
	[ -s "$TMP/b.trace" ] # /bin/echo ran preloaded (bash's builtin writes nothing)
	run "$ROOT/tools/profshim" -o "$TMP/f.d" -- false
	[ "$status" -eq 1 ]
	ls "$TMP/f.d" | grep -q '^false\..*\.trace$'
	cd "$TMP"
	st=0
	"$ROOT/tools/profshim" -- "$TMP/no-such-program" 2>"$TMP/err" || st=$?
	[ "$st" -eq 127 ]
	grep -q 'no trace was written.*removed: empty' "$TMP/err"
	! ls -d "$TMP"/profshim.no-such-program.* 2>/dev/null
}

@test "tools/profshim says when a program is statically linked (nothing can be preloaded)" {
	printf 'int main(void) { return 5; }\n' > "$TMP/st.c"
	cc -static -o "$TMP/st" "$TMP/st.c" || skip "no static libc to link with"
	run "$ROOT/tools/profshim" -o "$TMP/st.trace" -- "$TMP/st"
	[ "$status" -eq 5 ]
	[[ "$output" == *"no trace was written"*"statically linked"* ]]
	run "$ROOT/tools/profshim" -o "$TMP/dyn.trace" -- "$PROGS/core_exec" again
	[ "$status" -eq 0 ]
	[[ "$output" != *"statically linked"* ]]
}

@test "text report shows markers with their function and file:line" {
	run_shim "$TMP/d.trace" "$PROGS/core_dlopen" "$PROGS/core_plugin.so"
	run "$PROFANALYZE" "$TMP/d.trace"
	[ "$status" -eq 0 ]
	[[ "$output" == *"in-plugin"*"plugin_mark"*"core_plugin.c:"* ]]
	[[ "$output" == *"Threads"* ]]
}

@test "make install puts the library, tools, header and pkg-config file in place" {
	make -s -C "$ROOT" install PREFIX=/opt/ps DESTDIR="$TMP/inst" >/dev/null
	for f in lib/libprofshim.so bin/profanalyze bin/profshim include/profshim.h lib/pkgconfig/profshim.pc; do
		[ -f "$TMP/inst/opt/ps/$f" ]
	done
	grep -q '^LIB="/opt/ps/lib/libprofshim.so"' "$TMP/inst/opt/ps/bin/profshim"
	grep -q '^prefix=/opt/ps' "$TMP/inst/opt/ps/lib/pkgconfig/profshim.pc"
}

@test "the shim exports only its hooks and its API" {
	# Every dynamic symbol the shim defines is one exports.map lists (its
	# hooks, the C++ operators and its API): nothing
	# internal leaks into the program's symbol space.
	run bash -c "nm -D --defined-only '$SHIM' | awk '{print \$3}' | sort -u"
	[ "$status" -eq 0 ]
	local allowed sym bad=
	allowed=" $(sed -e 's|/\*.*\*/||g' "$BATS_TEST_DIRNAME/../preload/exports.map" | tr -s ' ;{}\n\t' ' ') "
	for sym in $output; do
		case "$sym" in LIBPROFSHIM*) continue ;; esac
		[[ "$allowed" == *" $sym "* ]] || bad="$bad $sym"
	done
	[ -z "$bad" ] || { echo "exported but not in exports.map:$bad"; false; }
	# and the version script really hides: no ps_* or pw_* internals
	run bash -c "nm -D --defined-only '$SHIM' | awk '{print \$3}' | grep -E '^(ps_|pw_|pst_)'"
	[ -z "$output" ]
}
