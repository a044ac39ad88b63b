#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs every test (unit, end-to-end, real services on loopback).
# The benchmarks are built too (not run), so a change that breaks one fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
# Formatting first (seconds, before a long build), of the lines changed since
# CHATVAULT_FORMAT_BASE (default main) only: much of the tree predates .clang-format, and a
# whole-tree check would fail on lines nobody touched. Without that commit here (a checkout of
# one commit, or no git), it says so and goes on with the tests.
format_base=${CHATVAULT_FORMAT_BASE:-main}
if git rev-parse --verify --quiet "$format_base^{commit}" >/dev/null 2>&1; then
  tools/check-format.sh --changed "$format_base"
else
  echo "test.sh: no commit '$format_base' to compare with, so formatting is not checked" \
    "(set CHATVAULT_FORMAT_BASE to the commit this change starts from)" >&2
fi
build=build/test
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCHATVAULT_SANITIZE=ON -DCHATVAULT_BENCH=ON >/dev/null
# The lock annotations, checked by clang's thread-safety analysis while GCC builds: about a
# minute of CPU, so it adds about half that to the build on two cores.
tools/check-thread-safety.sh "$build" >"$build/thread-safety.log" 2>&1 &
thread_safety=$!
built=0
cmake --build "$build" -j "$(nproc)" || built=$?
checked=0
wait "$thread_safety" || checked=$?
cat "$build/thread-safety.log"
if [[ $built -ne 0 || $checked -ne 0 ]]; then exit 1; fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@"
