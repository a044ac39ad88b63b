#!/usr/bin/env bash
# Times chatvault against restic on the same sample chat store, in one run: full backup, backup
# after a 1% change, and restore into a fresh directory; wall time and peak RSS of each, a check
# that every restore is identical to the data, and the ratios restic time / chatvault time.
# The whole series runs again at half the size, to show whether memory grows with data.
#
#   bench/compare_restic.sh                 # ~1 GiB store (and ~256 MiB)
#   CHATVAULT_BENCH_SIZE_MB=256 bench/compare_restic.sh
#
# Both tools encrypt and both write to a local directory; restic uses a password file and its
# cache lives in the scratch folder. The page cache cannot be dropped without root, so the data
# is read once before each tool runs and both start warm.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. bench/lib.sh
size_mb=$(cv_bench_size_mb 1024)

tools/install-deps.sh
build="$root/build/release"
cv_bench_build_release "$build" chatvault make-sample-chat
chatvault="$build/src/cli/chatvault"
make_sample_chat="$build/tools/make-sample-chat"

# CHATVAULT_BENCH_DIR puts the data, both repositories and both restores on another file system:
# a tmpfs (/dev/shm) measures the tools' own work, a disk measures the disk as well.
scratch="${CHATVAULT_BENCH_DIR:-$build}"
work="$(mktemp -d "$scratch/bench-restic.XXXXXX")"
trap 'rm -rf "$work"' EXIT
results="$work/results.tsv"
: >"$results"

# measure LABEL SIZE TOOL -- command...: runs the command, records "size tool label seconds KiB".
measure() {
  local label="$1" size="$2" tool="$3"; shift 4
  local timing="$work/time.out" log="$work/$tool-$label.log"
  # Neither tool inherits the other's unwritten data: chatvault's restore flushes the file system
  # before it reports success, and would otherwise also pay for what the step before left dirty.
  sync
  if ! /usr/bin/time -f "%e %M %U %S" -o "$timing" "$@" >"$log" 2>&1; then
    echo "$tool $label failed; its output:" >&2
    cat "$log" >&2
    exit 1
  fi
  read -r seconds kib user sys <"$timing"
  local cpu
  cpu="$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$tool" "$label" "$seconds" "$kib" "$cpu" >>"$results"
  printf '  %-9s %-22s %8.2f s %8.2f s CPU %8.1f MiB\n' "$tool" "$label" "$seconds" "$cpu" \
    "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" >&2
}

warm_up() { find "$1" -type f -exec cat {} + >/dev/null; }

# Content fingerprint of a chat directory: every media file byte for byte, and the database by
# its rows (SQLite may lay pages out differently after a copy; the rows must be identical).
fingerprint() {
  local dir="$1"
  (cd "$dir" && find . -type f ! -name 'msgstore.db*' -print0 | sort -z | xargs -0 -r sha256sum)
  sqlite3 -readonly "$dir/msgstore.db" 'PRAGMA integrity_check'
  for table in message message_media message_thumbnail chat jid; do
    sqlite3 -readonly "$dir/msgstore.db" "SELECT * FROM $table ORDER BY 1" | sha256sum
  done
}

# A restore that differs is reported and fails the run at the end, after the timings are printed.
mismatches=()
check_restore() {
  local tool="$1" size="$2" restored="$3" expected="$4"
  local got="$work/fingerprint.$tool"
  fingerprint "$restored" >"$got"
  if ! cmp -s "$got" "$expected"; then
    echo "  $tool restore DIFFERS from the data (< restored, > original):" >&2
    diff "$got" "$expected" >"$work/fingerprint.diff" || true
    head -n 20 "$work/fingerprint.diff" >&2
    mismatches+=("$tool at $size MiB")
  else
    echo "  $tool restore is identical to the data" >&2
  fi
}

# On a freshly booted virtual machine the first write to each page of guest memory is slow (the
# host backs it on first touch: here 2.3 s per GiB the first time, 0.5 s after), which would charge
# whichever tool runs first, on a tmpfs and through the page cache on a disk alike. Touch the
# memory the run needs once, through a tmpfs, before anything is timed.
prefault() {
  local shm=/dev/shm
  [[ "$(df --output=fstype "$work" | tail -n 1)" == tmpfs ]] && shm="$work"
  [[ -d "$shm" && -w "$shm" ]] || return 0
  local need=$(($1 * 6)) free_mb
  free_mb="$(df --output=avail -m "$shm" | tail -n 1)"
  ((free_mb > need + 1024)) || return 0
  head -c "${need}M" /dev/zero >"$shm/chatvault-bench-prefault.$$" || true
  rm -f "$shm/chatvault-bench-prefault.$$"
}

run_series() {
  local size="$1"
  local dir="$work/$size"
  local data="$dir/data"
  mkdir -p "$dir"
  prefault "$size"
  # ~250 messages and ~0.9 media files (mean ~1.1 MiB, 50 KiB-5 MiB) per MiB of store.
  local messages=$((size * 250)) media=$((size * 9 / 10))
  echo "== ${size} MiB store: $messages messages, $media media files" >&2
  "$make_sample_chat" --out "$data" --messages "$messages" --media-count "$media" --seed 42 >&2
  du -sh "$data" >&2

  local cv_home="$dir/cv-home" cv_repo="$dir/cv-repo"
  "$chatvault" --home "$cv_home" --quiet init --key --data "$data" --to "$cv_repo" \
    --i-saved-the-key >/dev/null
  export RESTIC_REPOSITORY="$dir/restic-repo" RESTIC_PASSWORD_FILE="$dir/restic-password"
  export RESTIC_CACHE_DIR="$dir/restic-cache"
  head -c 24 /dev/urandom | base64 >"$RESTIC_PASSWORD_FILE"
  restic init --quiet >/dev/null

  warm_up "$data"
  measure "full backup" "$size" chatvault -- "$chatvault" --home "$cv_home" --quiet backup
  warm_up "$data"
  measure "full backup" "$size" restic -- bash -c 'cd "$1" && restic backup --quiet .' _ "$data"

  "$make_sample_chat" --out "$data" --mutate 1 --seed 43 >&2
  warm_up "$data"
  measure "1% incremental" "$size" chatvault -- "$chatvault" --home "$cv_home" --quiet backup
  warm_up "$data"
  measure "1% incremental" "$size" restic -- \
    bash -c 'cd "$1" && restic backup --quiet .' _ "$data"

  local expected="$dir/expected"
  fingerprint "$data" >"$expected"
  du -sh "$cv_repo" "$RESTIC_REPOSITORY" >&2

  measure "restore" "$size" chatvault -- "$chatvault" --home "$dir/cv-new-home" --quiet restore \
    --from "$cv_repo" --to "$dir/cv-restore" --key-file "$cv_home/backup.key"
  check_restore chatvault "$size" "$dir/cv-restore" "$expected"
  rm -rf "$dir/cv-restore"
  measure "restore" "$size" restic -- restic restore latest --quiet --target "$dir/restic-restore"
  check_restore restic "$size" "$dir/restic-restore" "$expected"
  rm -rf "$dir/restic-restore"

  # chatvault's restore flushes what it wrote before it reports success; restic's does not. The
  # same restores followed by sync(1) compare the two at equal durability.
  measure "restore + sync" "$size" chatvault -- bash -c '"$1" --home "$2" --quiet restore \
    --from "$3" --to "$4" --key-file "$5" && sync' _ "$chatvault" "$dir/cv-new-home2" "$cv_repo" \
    "$dir/cv-restore" "$cv_home/backup.key"
  rm -rf "$dir/cv-restore"
  measure "restore + sync" "$size" restic -- bash -c \
    'restic restore latest --quiet --target "$1" && sync' _ "$dir/restic-restore"
  rm -rf "$dir"
}

# The second series is half the size rather than smaller still: chatvault keeps at most 32 MiB of
# plaintext in flight, and a 1% change of a store below ~400 MiB is smaller than that window, so
# its peak would be lower for that reason alone and say nothing about growth with the data.
half=$((size_mb / 2))
run_series "$size_mb"
# CHATVAULT_BENCH_HALF=0 skips the second series (quicker, but no memory-growth figure).
[[ "${CHATVAULT_BENCH_HALF:-1}" == 0 ]] || run_series "$half"

echo
echo "chatvault vs restic $(restic version | awk '{print $2}'), $(nproc) cores, $(date -u +%Y-%m-%d)," \
  "scratch on $(df --output=fstype "$work" | tail -n 1)"
awk -F'\t' -v big="$size_mb" -v small="$half" '
  { t[$1, $2, $3] = $4; m[$1, $2, $3] = $5; c[$1, $2, $3] = $6; if (!seen[$3]++) order[++n] = $3 }
  END {
    printf "| %-8s | %-15s | %11s | %13s | %13s | %8s | %10s | %10s | %16s | %10s |\n", "store",
      "operation", "chatvault s", "chatvault CPU", "chatvault MiB", "restic s", "restic CPU",
      "restic MiB", "restic/chatvault", "CPU ratio"
    printf "|----------|-----------------|-------------|---------------|---------------|----------|------------|------------|------------------|------------|\n"
    split(big " " small, sizes, " ")
    for (s = 1; s <= 2; s++) for (i = 1; i <= n; i++) {
      z = sizes[s]; op = order[i]
      if (!((z, "chatvault", op) in t)) continue
      cv = t[z, "chatvault", op]; rs = t[z, "restic", op]
      cvc = c[z, "chatvault", op]; rsc = c[z, "restic", op]
      printf "| %-8s | %-15s | %11.2f | %13.2f | %13.1f | %8.2f | %10.2f | %10.1f | %15.2fx | %9.2fx |\n",
        z " MiB", op, cv, cvc, m[z, "chatvault", op] / 1024, rs, rsc, m[z, "restic", op] / 1024,
        (cv > 0 ? rs / cv : 0), (cvc > 0 ? rsc / cvc : 0)
    }
    if (!((small, "chatvault", order[1]) in m)) exit
    printf "\nchatvault peak RSS, %s MiB store / %s MiB store (1.0 = constant in size):\n", big, small
    for (i = 1; i <= n; i++) {
      op = order[i]
      printf "  %-15s %.2f\n", op, m[big, "chatvault", op] / m[small, "chatvault", op]
    }
  }' "$results"

if ((${#mismatches[@]} > 0)); then
  echo
  echo "FAILED: restored data differs from the original for: ${mismatches[*]}" >&2
  exit 1
fi
echo
echo "every restore was identical to the data"
