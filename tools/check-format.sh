#!/usr/bin/env bash
# Checks C++ formatting against .clang-format without changing any file.
#
#   tools/check-format.sh FILE...          the given files, whole
#   tools/check-format.sh --changed [BASE] only the lines changed since this branch left BASE
#                                          (default: main), committed or not (tracked files only)
#
# Prints what clang-format would change and exits 1 if anything is off, 0 if all is formatted,
# 2 on a usage error. --changed lets a change be checked before the whole tree has been formatted.
# To fix: clang-format -i FILE..., or git clang-format BASE for the changed lines.
set -euo pipefail
cd "$(dirname "$0")/.."

extensions=cc,h,cpp,hpp
usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
if ! command -v clang-format >/dev/null; then
  echo "check-format: clang-format is not installed (tools/install-deps.sh)" >&2
  exit 2
fi

if [[ $# -eq 0 ]]; then usage; fi

if [[ $1 == --changed ]]; then
  [[ $# -le 2 ]] || usage
  base=${2:-main}
  git rev-parse --verify --quiet "$base^{commit}" >/dev/null ||
    { echo "check-format: no commit named $base" >&2; exit 2; }
  fork=$(git merge-base "$base" HEAD)
  out=$(git clang-format --diff --extensions "$extensions" "$fork" --)
  case $out in
    "" | "no modified files to format" | "clang-format did not modify any files") exit 0 ;;
  esac
  printf '%s\n' "$out"
  echo "check-format: the lines above changed since $base are not formatted" >&2
  exit 1
fi

[[ $1 != -* ]] || usage
status=0
for file in "$@"; do
  case $file in
    *.cc | *.h | *.cpp | *.hpp) ;;
    *) continue ;;
  esac
  [[ -f $file ]] || { echo "check-format: no file $file" >&2; exit 2; }
  if ! clang-format --dry-run --Werror "$file" 2>/dev/null; then
    clang-format "$file" | diff -u --label "$file" --label "$file (formatted)" "$file" - || true
    status=1
  fi
done
if [[ $status -ne 0 ]]; then echo "check-format: the files above are not formatted" >&2; fi
exit $status
