#!/usr/bin/env bats
# The writer reserves the space of every window before the program can
# store into it (writer.c grow_file: zeros written, delayed allocation), so
# a disk that fills up at a window slide turns recording off and never
# raises SIGBUS in the program. startup.bats covers the first window; these
# cover the full-size windows of a busy thread, on ext4 (delayed
# allocation) and tmpfs.

load helpers

setup() { setup_tmp; }
teardown() {
	mountpoint -q "$TMP/mnt" 2>/dev/null && umount "$TMP/mnt"
	teardown_tmp
}

# mount_small FSTYPE : a small file system at $TMP/mnt, or skip
mount_small() {
	mkdir -p "$TMP/mnt"
	if [ "$1" = ext4 ]; then
		truncate -s 16M "$TMP/fs.img"
		mkfs.ext4 -q -F "$TMP/fs.img" 2>/dev/null || skip "no mkfs.ext4"
		mount -o loop "$TMP/fs.img" "$TMP/mnt" 2>/dev/null || skip "cannot mount a loop ext4 here"
	else
		mount -t tmpfs -o size=8m tmpfs "$TMP/mnt" 2>/dev/null || skip "cannot mount a small tmpfs here"
	fi
}

# fill_but KIB : fill the file system, then free KIB of it
fill_but() {
	dd if=/dev/zero of="$TMP/mnt/fill" bs=64k 2>/dev/null || true
	sync -f "$TMP/mnt/fill"
	truncate -s "-${1}k" "$TMP/mnt/fill"
	sync -f "$TMP/mnt/fill"
}

# The program runs on to its own result: a SIGBUS would be status 135.
# mem_bench 1000000 writes 6.5 MB of raw records (PROFSHIM_COMPRESS=0):
# its first windows fit in 2.5 MB, a later slide does not.
check_full_disk() {
	expected=$("$PROGS/mem_bench" 1000000)
	fill_but 2560
	run env PROFSHIM_COMPRESS=0 PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/mnt/t" \
		LD_PRELOAD="$SHIM" "$PROGS/mem_bench" 1000000
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$expected"* ]]
	# it did slide into full-size windows before the disk was full
	[ "$(stat -c %s "$TMP/mnt/t.t1")" -gt $((1024 * 1024)) ]
	# and what it wrote reads: allocations up to where the space ran out
	run "$PROFANALYZE" "$TMP/mnt/t" --format=json -o "$TMP/report.json"
	echo "profanalyze: $status: $output"
	[ "$status" -eq 0 ]
	n=$(jq .memory_metrics.total_allocations "$TMP/report.json")
	lost=$(jq .dropped.no_space "$TMP/report.json")
	echo "allocations read: $n, events not written: $lost"
	[ "$n" -gt 100000 ] && [ "$n" -lt 1000000 ]
	# nothing dropped silently: what could not be written is counted
	[ "$lost" -gt 0 ]
}

@test "ext4: a disk that fills at a window slide turns recording off, never the program" {
	mount_small ext4
	check_full_disk
}

@test "tmpfs: a disk that fills at a window slide turns recording off, never the program" {
	mount_small tmpfs
	check_full_disk
}
