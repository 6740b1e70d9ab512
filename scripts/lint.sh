#!/bin/sh
# make lint: clang-tidy over the compile database, then cppcheck. Fails on any finding.
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
files=$(ls engine/*.c itembank/*.c gateway/*.c)
status=0
echo "== clang-tidy"
# shellcheck disable=SC2086
clang-tidy -p "$build" --quiet --warnings-as-errors='*' $files 2>/dev/null || status=1
echo "== cppcheck"
# shellcheck disable=SC2086
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
    --inline-suppr --suppress=missingIncludeSystem --std=c11 \
    --include=/usr/include/x86_64-linux-gnu/sys/queue.h --include=/usr/include/jansson.h \
    -D_GNU_SOURCE -Iengine -Iitembank -Igateway $files || status=1
[ $status -eq 0 ] && echo "lint: clean"
exit $status
