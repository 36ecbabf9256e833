#!/usr/bin/env bash
# Fuzz profanalyze's reader with libFuzzer (clang, ASan/UBSan) for
# FUZZ_SECONDS (default 60), seeded from the bad-input corpus
# (tests/corpus/make-corpus.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fuzz
mkdir -p "$out/corpus"
src=$(ls analyze/*.c analyze/*/*.c | grep -v analyze/main.c)
inc=$(for d in analyze analyze/*/; do printf -- '-I%s ' "${d%/}"; done)
# shellcheck disable=SC2086
clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude $inc \
	tools/fuzz_trace.c $src -o "$out/fuzz_trace" -ldw -lelf -lcjson -lz -lzstd -lm -lstdc++
# Seeds: each bad-input corpus session (made here from the built shim)
# packed as [u32 process length][process][thread].
make -s all test-progs
bash tests/corpus/make-corpus.sh "$out/sessions" >/dev/null
for p in "$out"/sessions/*.trace; do
	t="$p.t1"
	[ -f "$t" ] || t=/dev/null
	python3 - "$p" "$t" "$out/corpus/$(basename "$p")" <<'PY'
import struct, sys
p = open(sys.argv[1], 'rb').read(); t = open(sys.argv[2], 'rb').read()
open(sys.argv[3], 'wb').write(struct.pack('<I', len(p)) + p + t)
PY
done
"$out/fuzz_trace" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=65536 -rss_limit_mb=2048 "$out/corpus"
