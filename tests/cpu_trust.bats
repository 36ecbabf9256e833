#!/usr/bin/env bats
# CPU profiles to trust: samples that land inside the shim's hooks keep
# their weight and go to the right stack, threads that block every signal
# are sampled (or named, with their CPU time), system time is counted, and
# every thread's samples add up to its CPU time. Ends with xz -T2.

load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

# assert_points A B POINTS WHAT : |A - B| <= POINTS
assert_points() {
	if ! awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= p) }'; then
		echo "expected ${4:-value}: $1 and $2 within $3 points" >&2
		return 1
	fi
}

# conservation : every thread's weight + dropped + unsampled + paused ==
# the periods its timer counted (last JSON report)
conservation() {
	assert_eq "$(jqr '[.cpu.threads[] | select(.periods != null)] | length > 0')" true "threads with accounting"
	local ok
	ok=$(jqr '[.cpu.threads[] | select(.periods != null) | .weight + .dropped_weight + .unsampled_weight + .paused_weight == .periods] | all')
	if [ "$ok" != true ]; then
		# where the weight went, thread by thread (the difference is what
		# the accounting lost, or counted twice when negative)
		echo "per-thread CPU accounting (weight + dropped + unsampled + paused vs periods):" >&2
		jqr '.cpu.threads[] | select(.periods != null) | "  tid \(.tid // "?") \(.name // ""): samples \(.samples) weight \(.weight) dropped \(.dropped_weight) unsampled \(.unsampled_weight) paused \(.paused_weight) periods \(.periods) diff \(.weight + .dropped_weight + .unsampled_weight + .paused_weight - .periods) profshim \(.profshim_weight // 0) clock_s \(.clock_cpu_seconds // 0)"' >&2
		echo "  process: timer $(jqr '.cpu.timer') weight $(jqr '.cpu.weight') dropped $(jqr '.cpu.dropped_weight') counters: $(jqr '[.dropped | to_entries[] | select(.value != 0) | "\(.key)=\(.value)"] | join(" ")')" >&2
	fi
	assert_eq "$ok" true "weight conservation per thread"
}

# alloc_run TRACE RECORD : cpu_alloc at 4000 Hz (enough samples for a
# 2-point comparison); prints "ALLOC_NS BURN_NS ALLOC_W BURN_W PROFSHIM_W":
# the program's clock of each phase, the weights of alloc_phase (without
# [profshim]) and burn_phase, and of [profshim] under alloc_phase
alloc_run() {
	local out
	out=$(PROFSHIM_RECORD="$2" PROFSHIM_CPU_HZ=4000 run_shim "$1" "$PROGS/cpu_alloc")
	"$PROFANALYZE" -q --format=folded --data=cpu "$1" >"$1.folded"
	awk -v out="$out" '
		{ w = $NF }
		/;alloc_phase;\[profshim\] [0-9]+$/ { ps += w; next }
		/;alloc_phase[; ]/ { al += w }
		/;burn_phase [0-9]+$/ { bu += w }
		END { split(out, f, " "); print f[2], f[4], al, bu, ps + 0 }' "$1.folded"
}

@test "allocator share with every recorder on matches a cpu-only run (2 points)" {
	read -r c_ans c_bns c_al c_bu c_ps < <(alloc_run "$TMP/c.trace" cpu)
	read -r a_ans a_bns a_al a_bu a_ps < <(alloc_run "$TMP/a.trace" cpu,mem,calls)
	[ "$a_al" -gt 100 ] && [ "$c_al" -gt 100 ]
	# the profile's share of the program's own time (allocator / allocator
	# + burn), and the program's own measure of it: the hook time that its
	# clock saw in the allocating phase is the [profshim] weight
	c_share=$(awk -v a="$c_al" -v b="$c_bu" 'BEGIN { print 100 * a / (a + b) }')
	a_share=$(awk -v a="$a_al" -v b="$a_bu" 'BEGIN { print 100 * a / (a + b) }')
	c_prog=$(awk -v a="$c_ans" -v b="$c_bns" 'BEGIN { print 100 * a / (a + b) }')
	a_prog=$(awk -v a="$a_ans" -v b="$a_bns" -v p="$a_ps" 'BEGIN { a -= p * 250000; print 100 * a / (a + b) }')
	# (a sanity check of the measure: periodic sampling on a shared
	# machine is a point or two off the program's own clock)
	assert_points "$c_share" "$c_prog" 4 "cpu-only: allocator share vs the program's clock"
	assert_points "$a_share" "$a_prog" 4 "all recorders: allocator share vs the program's clock"
	# across runs: 2 points beyond what the program itself measured
	# differently (a loaded machine changes the work's speed between runs)
	drift=$(awk -v a="$a_prog" -v c="$c_prog" 'BEGIN { d = a - c; print d < 0 ? -d : d }')
	echo "allocator share: cpu-only $c_share (program $c_prog), all recorders $a_share (program $a_prog)"
	assert_points "$a_share" "$c_share" "$(awk -v d="$drift" 'BEGIN { print 2 + d }')" "allocator share, all recorders vs cpu only"
	# next to nothing dropped (only samples inside the dynamic loader, at
	# start-up), the profiler's own time shown apart
	analyze_json "$TMP/a.trace" -q
	assert_eq "$(jqr '.cpu.dropped_weight * 100 <= .cpu.weight')" true "dropped weight <= 1%"
	[ "$(jqr .cpu.profshim_weight)" -gt 0 ]
	conservation
	# the allocator's frames are there, under the program's stack
	grep -q ';main;alloc_phase;__memset[^;]* [0-9]*$' "$TMP/a.trace.folded"
	if grep -E ';alloc_phase;(calloc|free|malloc)[; ]' "$TMP/a.trace.folded"; then
		echo "a shim hook frame in a sample stack"
		return 1
	fi
}

# check_blocked OUT : the worker of cpu_sigblock against its CPU clock
check_blocked() {
	local out="$1" tid ns w
	read -r _ tid _ ns < <(grep '^tid ' <<<"$out")
	assert_eq "$(grep '^mask_ok' <<<"$out")" "mask_ok 1" "the program's view of its mask"
	w=$(jqr ".cpu.threads[] | select(.tid == $tid) | .weight")
	assert_within "$(awk -v w="$w" 'BEGIN { print w * 1e9 / 1000 }')" "$ns" 10 "samples x period of the blocking thread"
	assert_eq "$(jqr ".cpu.threads[] | select(.tid == $tid) | .top_self_function")" blocked_burn
}

@test "a thread that blocks every signal is sampled (it blocks them itself, or inherits them)" {
	for timer in perf posix; do
		for mode in self inherit; do
			rm -f "$TMP"/b.trace*
			out=$(PROFSHIM_CPU_TIMER=$timer PROFSHIM_RECORD=cpu PROFSHIM_CPU_HZ=1000 \
				run_shim "$TMP/b.trace" "$PROGS/cpu_sigblock" "$mode" 300)
			analyze_json "$TMP/b.trace" -q
			check_blocked "$out" || { echo "($timer, $mode)" >&2; return 1; }
			conservation
		done
	done
}

@test "a thread that blocks signals without libc is named as unsampled, with its CPU time" {
	out=$(PROFSHIM_RECORD=cpu run_shim "$TMP/b.trace" "$PROGS/cpu_sigblock" raw 300)
	read -r _ tid _ ns < <(grep '^tid ' <<<"$out")
	analyze_json "$TMP/b.trace" -q
	assert_eq "$(jqr ".cpu.threads[] | select(.tid == $tid) | .unsampled")" true
	s=$(jqr ".cpu.threads[] | select(.tid == $tid) | .clock_cpu_seconds")
	assert_within "$(awk -v s="$s" 'BEGIN { print s * 1e9 }')" "$ns" 10 "its CPU time"
	conservation
	"$PROFANALYZE" "$TMP/b.trace" >"$TMP/r.txt"
	grep -q "could not sample" "$TMP/r.txt"
	grep -q "thread $tid .*s of CPU" "$TMP/r.txt"
}

@test "CPU time is user + system: a thread half in read(2) of /dev/zero, both timers" {
	for timer in perf posix; do
		rm -f "$TMP"/s.trace*
		out=$(PROFSHIM_CPU_TIMER=$timer PROFSHIM_RECORD=cpu PROFSHIM_CPU_HZ=1000 \
			run_shim "$TMP/s.trace" "$PROGS/cpu_syscall" 600)
		read -r _ tid _ ns _ user _ sys _ rd _ burn <<<"$out"
		# the kernel's share must matter, or user time alone would pass
		[ "$rd" -gt $((ns / 5)) ]
		analyze_json "$TMP/s.trace" -q
		assert_eq "$(jqr .cpu.cpu_time)" user+system
		w=$(jqr ".cpu.threads[] | select(.tid == $tid) | .weight")
		assert_within "$(awk -v w="$w" 'BEGIN { print w * 1e6 }')" "$ns" 10 "samples x period vs user + system ($timer)"
		conservation
		# the system time is not charged to the user code that ran next
		k=$(jqr '[.cpu.functions[] | select(.name == "[kernel]" or .name == "__libc_read" or .name == "read") | .self_samples] | add')
		u=$(jqr '[.cpu.functions[] | select(.name == "user_burn") | .self_samples] | add')
		if [ "$timer" = perf ]; then
			# Against the CPU time the program measured itself around
			# its reads and its user code: the perf timer samples at
			# 1000 Hz. (getrusage's split is the kernel's 250 Hz tick
			# sampling: off by 40% at times on a loaded machine.)
			assert_within "$(awk -v k="$k" 'BEGIN { print k * 1e6 }')" "$rd" 25 "system time's samples vs time in read ($timer)"
			assert_within "$(awk -v u="$u" 'BEGIN { print u * 1e6 }')" "$burn" 15 "user code's samples vs its time ($timer)"
		else
			# The POSIX timer fires at the kernel's tick, as getrusage
			# splits user from system time: the same sampling.
			assert_within "$(awk -v k="$k" 'BEGIN { print k * 1e6 }')" "$sys" 25 "system time's samples ($timer)"
			assert_within "$(awk -v u="$u" 'BEGIN { print u * 1e6 }')" "$user" 25 "user code's samples ($timer)"
		fi
	done
	"$PROFANALYZE" "$TMP/s.trace" | grep -q "CPU time, user + system"
}

@test "weight conservation for every thread: threads, calls, all recorders, 2000 Hz" {
	PROFSHIM_CPU_HZ=2000 run_shim "$TMP/t.trace" "$PROGS/cpu_burn" 3 100 >/dev/null
	analyze_json "$TMP/t.trace" -q
	conservation
	assert_eq "$(jqr '.cpu.threads | length')" 4
	assert_eq "$(jqr '[.cpu.threads[] | .periods != null] | all')" true "every thread accounted"
	PROFSHIM_CPU_HZ=2000 run_shim "$TMP/f.trace" "$PROGS/fi_sampled" 300000 >/dev/null
	analyze_json "$TMP/f.trace" -q
	conservation
	assert_eq "$(jqr '.cpu.dropped_weight * 100 <= .cpu.weight')" true "dropped weight with calls <= 1%"
}

# make_text FILE KB : a deterministic, compressible text file
make_text() {
	awk -v kb="$2" 'BEGIN {
		srand(1)
		for (i = 0; i < 4000; i++) {
			w = ""
			n = 2 + int(rand() * 8)
			for (j = 0; j < n; j++)
				w = w sprintf("%c", 97 + int(rand() * 26))
			words[i] = w
		}
		while (size < kb * 1024) {
			line = ""
			for (j = 0; j < 12; j++)
				line = line words[int(rand() * 4000)] " "
			line = line int(rand() * 1e9)
			print line
			size += length(line) + 1
		}
	}' >"$1"
}

@test "xz -T2 (its workers block every signal): samples x period within 10%, hot frames in liblzma" {
	command -v xz >/dev/null || skip "xz not installed (tools/install-deps.sh)"
	make_text "$TMP/in.txt" 3072
	TIMEFORMAT='%U %S'
	{ time PROFSHIM_RECORD=cpu PROFSHIM_OUTPUT="$TMP/x.trace" LD_PRELOAD="$SHIM" \
		xz -6 -T2 --block-size=1MiB -c "$TMP/in.txt" >"$TMP/out.xz"; } 2>"$TMP/time"
	xz -dc "$TMP/out.xz" | cmp - "$TMP/in.txt"
	analyze_json "$TMP/x.trace" -q
	conservation
	# two workers, each with most of a second of CPU
	workers=$(jqr '[.cpu.threads[] | select(.tid != '"$(jqr .session.pid)"')] | length')
	[ "$workers" -ge 2 ]
	while read -r tid w s top; do
		[ "$w" -gt 30 ] || continue
		assert_within "$(awk -v w="$w" 'BEGIN { print w / 100 }')" "$s" 10 "worker $tid: samples x period vs its CPU clock"
		[[ "$top" == liblzma* || "$top" == lzma* ]] || { echo "worker $tid top self: $top" >&2; return 1; }
	done < <(jqr '.cpu.threads[] | select(.tid != '"$(jqr .session.pid)"') | "\(.tid) \(.weight) \(.clock_cpu_seconds) \(.top_self_function)"')
	# the whole process against the kernel's user + system time
	read -r user sys <"$TMP/time"
	assert_within "$(jqr .cpu.cpu_seconds)" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" 10 "process CPU time"
	[ "$(jqr '[.cpu.functions[] | select(.module != null and (.module | test("liblzma"))) | .self_pct] | add')" \> 80 ]
}

@test "C++ new/delete hot loop, cpu only at 2000 Hz: ends, allocator frames kept, wrappers alone are [profshim]" {
	# libunwind blocks every signal around its lock and restores the mask:
	# the sampling signal must stay blocked inside the sampler's handler
	# (a nested sample deadlocked on that lock)
	out=$(PROFSHIM_RECORD=cpu PROFSHIM_CPU_HZ=2000 timeout 120 env LD_PRELOAD="$SHIM" \
		PROFSHIM_OUTPUT="$TMP/n.trace" "$PROGS/cpu_newdelete" 20000)
	assert_eq "$out" "sum 1000"
	analyze_json "$TMP/n.trace" -q
	conservation
	# glibc's malloc and free under churn, as perf shows them (70-75% of
	# the weight on a quiet machine, 58% seen under load); the bug this
	# guards against left them near 0
	self_libc=$(jqr '[.cpu.functions[] | select((.module // "") | test("libc\\.so")) | .self_samples] | add')
	weight=$(jqr '.cpu.weight')
	profshim=$(jqr '.cpu.profshim_pct')
	echo "libc self $self_libc of weight $weight, [profshim] $profshim%" >&2
	[ "$self_libc" -gt $((weight * 2 / 5)) ]
	# the wrappers cost what perf shows (~15% on a quiet machine; their
	# share swings from 12% to 33% with the load on the other cores), not
	# every sample under them (which made it ~90%)
	[ "$(jqr '.cpu.profshim_pct < 50')" = true ]
}

@test "a program that lives in read(2): its CPU time is [kernel] or read, never the profiler's, with either timer" {
	for timer in perf posix; do
		rm -f "$TMP"/rl.trace*
		PROFSHIM_CPU_TIMER=$timer PROFSHIM_RECORD=cpu PROFSHIM_CPU_HZ=1000 \
			run_shim "$TMP/rl.trace" "$PROGS/cpu_readloop" 2000 >/dev/null
		analyze_json "$TMP/rl.trace" -q
		conservation
		w=$(jqr '.cpu.weight')
		sys=$(jqr '[.cpu.functions[] | select(.name == "[kernel]" or .name == "__libc_read" or .name == "read") | .self_samples] | add')
		own=$(jqr '[.cpu.functions[] | select(.name == "[profshim]") | .self_samples] | add // 0')
		echo "$timer: weight $w, kernel or read $sys, [profshim] $own" >&2
		[ "$w" -gt 20 ]
		# at least 80% in the system call (the rest: the loop, start-up)
		[ $((sys * 100)) -ge $((w * 80)) ]
		[ $((own * 100)) -le $((w * 5)) ]
	done
}

@test "threads still burning CPU when main calls exit(): every thread's weight adds up, with either timer" {
	# The exiting thread takes the live threads' accounting while they run:
	# a sample charged or written meanwhile counted twice or never (1 run in
	# 6 lost or gained a period before the slot handshake).
	for run in 1 2 3 4; do
		for timer in perf posix; do
			rm -f "$TMP"/el.trace*
			PROFSHIM_CPU_TIMER=$timer PROFSHIM_RECORD=cpu,mem,calls PROFSHIM_CPU_HZ=4000 \
				run_shim "$TMP/el.trace" "$PROGS/cpu_exit_live" 3 >"$TMP/out"
			assert_eq "$(cat "$TMP/out")" "workers 3" "the program's output"
			analyze_json "$TMP/el.trace" -q
			assert_eq "$(jqr '[.cpu.threads[] | select(.periods != null)] | length')" 4 "threads with accounting"
			conservation
		done
	done
}
