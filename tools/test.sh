#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs every test (unit, end-to-end, real services on loopback).
# The benchmarks are built too (not run), so a change that breaks one fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
build=build/test
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCHATVAULT_SANITIZE=ON -DCHATVAULT_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@"
