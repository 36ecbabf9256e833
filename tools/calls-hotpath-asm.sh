#!/usr/bin/env bash
# Compare the machine code of the calls recorder's hot path in two builds
# of libprofshim.so, e.g. before and after a refactoring that should not
# change it:
#
#   git stash; make -s BUILD=/tmp/before /tmp/before/libprofshim.so; git stash pop
#   make -s && tools/calls-hotpath-asm.sh /tmp/before/libprofshim.so build/libprofshim.so
#
# Prints SAME or DIFF (with the count of differing lines) per function: the
# two hooks, the functions they tail-call, the general path and its
# helpers, each with its .cold part when it has one. Addresses, raw bytes
# and rip-relative displacements are left out, so code that only moved
# compares equal; symbol names in call targets are kept. Exit status 1
# when any function differs. KEEP=DIR keeps the two listings there.
# RENAMED="old=new ..." names functions renamed since BEFORE: BEFORE's
# listings are read under the old names and show the new ones.
set -euo pipefail
if [ $# -ne 2 ]; then
	echo "usage: $0 BEFORE.so AFTER.so" >&2
	exit 2
fi
before=$1 after=$2
funcs=(__cyg_profile_func_enter __cyg_profile_func_exit tree_enter_timed tree_enter_indexed
	tree_exit_timed enter_general exit_general ps_calls_pending_drain exit_unwound pop_dead)
dir=${KEEP:-$(mktemp -d)}
mkdir -p "$dir"

# listing LIB FUNC: FUNC's instructions without addresses, or nothing
listing() {
	objdump -d --no-show-raw-insn --no-addresses --disassemble="$2" "$1" |
		sed -n '/^<'"$2"'>:/,/^$/p' |
		sed -E 's/-?0x[0-9a-f]+\(%rip\)/(%rip)/; s/[[:space:]]+#.*//; s/\+0x[0-9a-f]+>/>/'
}

# the old name of function $1 in BEFORE, and a sed script renaming calls
old_name() {
	local pair
	for pair in ${RENAMED:-}; do
		[ "${pair#*=}" = "$1" ] && { echo "${pair%%=*}"; return; }
	done
	echo "$1"
}
renames=""
for pair in ${RENAMED:-}; do
	renames+="s/<${pair%%=*}([.>])/<${pair#*=}\\1/g;"
done

status=0
for f in "${funcs[@]}"; do
	for part in "$f" "$f.cold"; do
		listing "$before" "$(old_name "$f")${part#"$f"}" | sed -E "s/^<[^>]*>:/<$part>:/;$renames" >"$dir/before.$part"
		listing "$after" "$part" >"$dir/after.$part"
		if [ ! -s "$dir/before.$part" ] && [ ! -s "$dir/after.$part" ]; then
			continue
		fi
		if cmp -s "$dir/before.$part" "$dir/after.$part"; then
			echo "SAME $part ($(wc -l <"$dir/after.$part") lines)"
		else
			echo "DIFF $part: $(diff "$dir/before.$part" "$dir/after.$part" | grep -c '^[<>]') lines differ"
			status=1
		fi
	done
done
[ -n "${KEEP:-}" ] || rm -rf "$dir"
exit $status
