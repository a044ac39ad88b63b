# Shared by the comparison scripts (compare_restic.sh, compare_days.sh,
# cloud/compare_restic_cloud.sh); sourced after `set -euo pipefail` from the repository root.

# The sample store's size in MiB: CHATVAULT_BENCH_SIZE_MB, or $1 when it is unset. Exits with 2
# unless it is a whole number of at least 8, so that a typo stops the run before the long build.
cv_bench_size_mb() {
  local size_mb="${CHATVAULT_BENCH_SIZE_MB:-$1}"
  [[ "$size_mb" =~ ^[0-9]+$ && "$size_mb" -ge 8 ]] || {
    echo "CHATVAULT_BENCH_SIZE_MB must be a whole number of MiB, at least 8" >&2; exit 2; }
  echo "$size_mb"
}

# Builds the targets named after $1 in Release in the build directory $1, without the tests: the
# comparisons time optimised code, and the test build would only add minutes.
cv_bench_build_release() {
  local build="$1"; shift
  echo "building Release in ${build#"$PWD"/} ..." >&2
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHATVAULT_TESTS=OFF >/dev/null
  cmake --build "$build" --target "$@" -j "$(nproc)" >/dev/null
}
