#!/bin/sh
# Runs every libFuzzer target of a fuzz build for FUZZ_SECONDS each, seeded
# from tests/fuzz/corpus/<target>/ (copied, so the repository is not written).
# Prints one line per target and "fuzz: N passed, N failed".
set -u
build=${1:-build-fuzz}
secs=${FUZZ_SECONDS:-20}
cd "$(dirname "$0")/../.."
passed=0
failed=0
for bin in "$build"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    work=$(mktemp -d /tmp/kiemtra-fuzz-XXXXXX)
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
    if "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/" "$work" >"$work/log" 2>&1; then
        runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/log")
        echo "$name: ${runs:-?} runs in ${secs}s, no crash"
        passed=$((passed + 1))
        rm -rf "$work"
    else
        echo "$name: FAILED (crash input and log kept in $work)"
        tail -n 30 "$work/log"
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
