#!/bin/sh
# Runs every test suite against the given build directory and ends with one
# line: "N passed, N failed". Exit status 0 only when nothing failed.
#   unit:        tests/unit/test_*.c (Criterion), one binary each
#   integration: tests/integration (real PostgreSQL cluster, real server)
#   fuzz:        tests/fuzz targets for FUZZ_SECONDS each, when FUZZ_BUILD is set
set -u
build=${1:-build-asan}
cd "$(dirname "$0")/.."
passed=0
failed=0
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "== unit tests"
for t in "$build"/test_*; do
    [ -x "$t" ] || continue
    out=$(timeout 600 "$t" --jobs 2 2>&1)
    rc=$?
    line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
    p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*Crashing: \([0-9]*\).*/\1 \2/p')
    p=${p:-0}
    set -- $f
    f=$(( ${1:-0} + ${2:-0} ))
    if [ $rc -ne 0 ] && [ $f -eq 0 ]; then f=1; fi
    [ $f -ne 0 ] && printf '%s\n' "$out"
    printf '%-28s %3d passed, %d failed\n' "$(basename "$t")" "$p" "$f"
    passed=$((passed + p))
    failed=$((failed + f))
done

echo "== integration tests"
timeout 1800 python3 tests/integration/run.py "$build" | tee "$build/integration.log"
line=$(grep '^integration: ' "$build/integration.log" | tail -n 1)
p=$(printf '%s' "$line" | sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
f=$(printf '%s' "$line" | sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
[ -n "$line" ] || f=1
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-1}))

if [ -n "${FUZZ_BUILD:-}" ]; then
    echo "== fuzz targets (${FUZZ_SECONDS:-20}s each)"
    tests/fuzz/run.sh "$FUZZ_BUILD" | tee "$build/fuzz.log"
    line=$(grep '^fuzz: ' "$build/fuzz.log" | tail -n 1)
    p=$(printf '%s' "$line" | sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-1}))
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
