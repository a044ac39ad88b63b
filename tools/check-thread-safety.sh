#!/usr/bin/env bash
# Checks the lock annotations (CV_GUARDED_BY, CV_REQUIRES, ... in
# include/chatvault/common/thread_annotations.h) with clang's thread-safety analysis, which GCC,
# the project's compiler, does not have.
#
#   tools/check-thread-safety.sh [BUILD_DIR]   (default: build/test, configured by tools/test.sh)
#
# Runs `clang++ -fsyntax-only -Wthread-safety` with each translation unit's own flags from
# BUILD_DIR/compile_commands.json, over the sources that include thread_annotations.h directly or
# through the project's headers. Needs a configured build (cmake writes the file; nothing has to
# be built, except that generated sources, such as the etcd protobuf code, must exist for the
# files that include them). Prints every finding and exits 1 if there is one, 0 if none, 2 on a
# usage error.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build/test}
commands=$build/compile_commands.json
if [[ $# -gt 1 || $build == -* ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
for tool in clang++ jq; do
  command -v "$tool" >/dev/null ||
    { echo "check-thread-safety: $tool is not installed (tools/install-deps.sh)" >&2; exit 2; }
done
[[ -f $commands ]] ||
  { echo "check-thread-safety: no $commands (configure the build first, see README)" >&2; exit 2; }

# The headers that reach thread_annotations.h, found by file name until no new one appears: a
# name shared by two headers only adds translation units to check, never drops one.
dirs=(include src tools tests bench fuzz)
names='thread_annotations\.h'
while :; do
  more=$(grep -rlE --include='*.h' "^#include \"([^\"]*/)?($names)\"" "${dirs[@]}" |
    xargs -r -n1 basename | sed 's/\./\\./g' | sort -u | paste -sd'|')
  grown="thread_annotations\\.h${more:+|$more}"
  [[ $grown == "$names" ]] && break
  names=$grown
done
mapfile -t sources < <(grep -rlE --include='*.cc' "^#include \"([^\"]*/)?($names)\"" "${dirs[@]}" |
  sed "s|^|$(pwd -P)/|" | sort)
if [[ ${#sources[@]} -eq 0 ]]; then
  echo "check-thread-safety: no source includes thread_annotations.h" >&2
  exit 2
fi

# One line per translation unit: its directory, then its command made a clang syntax check. Only
# thread-safety diagnostics are turned on: the other warnings are GCC's, and clang's differ.
jq -r --args '.[] | select(.file | IN($ARGS.positional[])) | .directory + "\t" + .command' \
  "${sources[@]}" <"$commands" |
  sed -E 's/^([^\t]*)\t[^ ]+/\1\tclang++/; s/ -o [^ ]+ / /; s/ -c / /;
          s/$/ -fsyntax-only -Wno-everything -Wthread-safety -Werror=thread-safety/' \
    >"$build/thread-safety-commands.txt"
checked=$(wc -l <"$build/thread-safety-commands.txt")

check_one() {
  local directory=${1%%$'\t'*} command=${1#*$'\t'}
  (cd "$directory" && eval "$command")
}
export -f check_one
if ! tr '\n' '\0' <"$build/thread-safety-commands.txt" |
  xargs -0 -r -n1 -P "$(nproc)" bash -c 'check_one "$1"' _; then
  echo "check-thread-safety: clang's thread-safety analysis failed (findings above)" >&2
  exit 1
fi
echo "check-thread-safety: $checked translation units checked, no findings"
