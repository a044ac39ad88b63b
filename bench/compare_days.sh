#!/usr/bin/env bash
# Thirty days of use, backed up every day by chatvault and by restic in the same run (issue 12):
# a store of the benchmark's default size, then each day a few hundred messages with some edits
# and deletes and a few media files (make-sample-chat --day), each followed by a backup with each
# tool. Reported per day and in total: SQLite pages changed (page diff of consecutive snapshots)
# and their zstd-compressed size, bytes each tool added to its repository, objects written,
# backup time; at a few days and at the end restore time and peak RSS of each tool and the
# repository sizes; then a fresh full backup of the last day's data to hold the restore and the
# repository against; and backup peak RSS at two database sizes.
#
# Each tool runs twice a day: on the whole chat directory, and on the database alone (a directory
# holding only that day's copy of msgstore.db), because the database is what this is about and
# in the whole store the media hide it.
#
#   bench/compare_days.sh                                   # 1 GiB store, 30 days
#   CHATVAULT_BENCH_SIZE_MB=256 CHATVAULT_BENCH_DAYS=10 bench/compare_days.sh
#   CHATVAULT_BENCH_DIR=/dev/shm bench/compare_days.sh      # on a tmpfs
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. bench/lib.sh
size_mb="${CHATVAULT_BENCH_SIZE_MB:-1024}"
days="${CHATVAULT_BENCH_DAYS:-30}"
restore_days="${CHATVAULT_BENCH_RESTORE_DAYS:-10 20}"
rss_messages="${CHATVAULT_BENCH_RSS_MESSAGES:-250000 1000000}"
[[ "$size_mb" =~ ^[0-9]+$ && "$size_mb" -ge 8 && "$days" =~ ^[0-9]+$ && "$days" -ge 1 ]] || {
  echo "CHATVAULT_BENCH_SIZE_MB (>= 8) and CHATVAULT_BENCH_DAYS (>= 1) must be whole numbers" >&2
  exit 2
}

tools/install-deps.sh
build="$root/build/release"
cv_bench_build_release "$build" chatvault make-sample-chat page-diff
chatvault="$build/src/cli/chatvault"
make_sample_chat="$build/tools/make-sample-chat"
page_diff="$build/bench/pages/page-diff"

scratch="${CHATVAULT_BENCH_DIR:-$build}"
work="$(mktemp -d "$scratch/bench-days.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export RESTIC_PASSWORD_FILE="$work/restic-password" RESTIC_CACHE_DIR="$work/restic-cache"
head -c 24 /dev/urandom | base64 >"$RESTIC_PASSWORD_FILE"

# timed NAME -- command...: runs it with its output in $work/NAME.out, sets $secs, $cpu (user +
# system seconds) and $kib (peak RSS); stops the run with the output shown when the command fails.
timed() {
  local name="$1"
  shift 2
  sync
  if ! /usr/bin/time -f "%e %M %U %S" -o "$work/time.out" "$@" >"$work/$name.out" 2>"$work/$name.err"; then
    echo "$name failed:" >&2
    cat "$work/$name.err" >&2
    exit 1
  fi
  local user sys
  read -r secs kib user sys <"$work/time.out"
  cpu="$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')"
}

# Every file of a repository with its size, sorted by name; `added OLD NEW` prints the number
# and total size of the files in NEW that OLD did not have: what a backup wrote.
listing() { [[ -d "$1" ]] || return 0; (cd "$1" && find . -type f -printf '%P\t%s\n' | LC_ALL=C sort); }
added() { LC_ALL=C join -t $'\t' -v 2 "$1" "$2" | awk -F'\t' '{ n++; s += $2 } END { print n + 0, s + 0 }'; }

# backup_step TOOL DATA REPO HOME: one backup with its numbers in $secs, $kib, $objects, $bytes.
backup_step() {
  local tool="$1" data="$2" repo="$3" home="$4"
  listing "$repo" >"$work/before"
  if [[ "$tool" == chatvault ]]; then
    timed "$tool" -- "$chatvault" --home "$home" --json backup
  else
    timed "$tool" -- env RESTIC_REPOSITORY="$repo" bash -c 'cd "$1" && restic backup --quiet .' _ "$data"
  fi
  listing "$repo" >"$work/after"
  read -r objects bytes < <(added "$work/before" "$work/after")
}

# Media by SHA-256 (restored from either tool).
media_sums() { (cd "$1" && find . -type f ! -name 'msgstore.db*' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); }

mismatches=()
# restore_step TOOL REPO HOME TARGET EXPECTED_DB EXPECTED_MEDIA: restores into TARGET (timed)
# and checks it: the database byte for byte, the media by their sums.
restore_step() {
  local tool="$1" repo="$2" home="$3" target="$4" db="$5" media="$6"
  rm -rf "$target"
  if [[ "$tool" == chatvault* ]]; then
    timed restore -- "$chatvault" --home "$work/restore-home" --quiet restore --from "$repo" \
      --to "$target" --key-file "$home/backup.key"
  else
    timed restore -- env RESTIC_REPOSITORY="$repo" restic restore latest --quiet --target "$target"
  fi
  if ! cmp -s "$target/msgstore.db" "$db" ||
    { [[ -n "$media" ]] && ! cmp -s <(media_sums "$target") "$media"; }; then
    mismatches+=("$tool")
    echo "  $tool restore DIFFERS from the data" >&2
  fi
  rm -rf "$target" "$work/restore-home"
}

# Restores compared with each other run in rounds, one of each per round, so that load from
# elsewhere on the machine falls on all of them alike; each reports the median of its rounds' wall
# and CPU seconds. restore_rounds N NAME ARGS... [-- NAME ARGS...]: sets median_s[NAME],
# median_cpu[NAME].
declare -A median_s median_cpu
restore_rounds() {
  local rounds="$1" specs=() i name
  shift
  while (($# > 0)); do
    local spec=()
    while (($# > 0)) && [[ "$1" != -- ]]; do spec+=("$1"); shift; done
    (($# > 0)) && shift
    specs+=("$(printf '%q ' "${spec[@]}")")
  done
  declare -A walls cpus
  for ((i = 0; i < rounds; i++)); do
    for spec in "${specs[@]}"; do
      eval "set -- $spec"
      name="$1"
      shift
      restore_step "$@"
      walls[$name]+="$secs "
      cpus[$name]+="$cpu "
    done
  done
  for name in "${!walls[@]}"; do
    median_s[$name]="$(tr ' ' '\n' <<<"${walls[$name]}" | grep . | sort -g | sed -n "$(((rounds + 1) / 2))p")"
    median_cpu[$name]="$(tr ' ' '\n' <<<"${cpus[$name]}" | grep . | sort -g | sed -n "$(((rounds + 1) / 2))p")"
  done
}

setup_chatvault() {  # HOME DATA REPO
  "$chatvault" --home "$1" --quiet init --key --data "$2" --to "$3" --i-saved-the-key >/dev/null
}

# --- the store and day 0 --------------------------------------------------------------------
data="$work/data" dbonly="$work/db-only" snaps="$work/snaps"
mkdir -p "$dbonly" "$snaps"
messages=$((size_mb * 250)) media=$((size_mb * 9 / 10))
echo "== ${size_mb} MiB store: $messages messages, $media media files, $days days" >&2
"$make_sample_chat" --out "$data" --messages "$messages" --media-count "$media" --seed 42 >&2
sqlite3 "$data/msgstore.db" ".backup '$snaps/prev.db'"
cp "$snaps/prev.db" "$dbonly/msgstore.db"
setup_chatvault "$work/cv" "$data" "$work/cv-repo"
setup_chatvault "$work/cv-db" "$dbonly" "$work/cv-db-repo"
for repo in rs-repo rs-db-repo; do RESTIC_REPOSITORY="$work/$repo" restic init --quiet >/dev/null; done

backup_step chatvault "$data" "$work/cv-repo" "$work/cv"
echo "  day 0: chatvault full backup $secs s, $((bytes >> 20)) MiB" >&2
backup_step chatvault "$dbonly" "$work/cv-db-repo" "$work/cv-db"
backup_step restic "$data" "$work/rs-repo" ""
echo "  day 0: restic full backup $secs s, $((bytes >> 20)) MiB" >&2
backup_step restic "$dbonly" "$work/rs-db-repo" ""

# --- the days ---------------------------------------------------------------------------------
days_tsv="$work/days.tsv" restores_tsv="$work/restores.tsv"
: >"$days_tsv"
: >"$restores_tsv"
checkpoint() {  # DAY: restores of each repository and their sizes
  local day="$1"
  media_sums "$data" >"$work/media.sums"
  restore_step chatvault "$work/cv-repo" "$work/cv" "$work/r" "$snaps/prev.db" "$work/media.sums"
  local cv_s="$secs" cv_kib="$kib"
  restore_step restic "$work/rs-repo" "" "$work/r" "$data/msgstore.db" "$work/media.sums"
  local rs_s="$secs" rs_kib="$kib"
  restore_step chatvault-db "$work/cv-db-repo" "$work/cv-db" "$work/r" "$snaps/prev.db" ""
  local cvdb_s="$secs"
  restore_step restic-db "$work/rs-db-repo" "" "$work/r" "$dbonly/msgstore.db" ""
  local rsdb_s="$secs"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$day" "$cv_s" "$cv_kib" "$rs_s" "$rs_kib" \
    "$cvdb_s" "$rsdb_s" "$(du -sb "$work/cv-repo" | cut -f1)" "$(du -sb "$work/rs-repo" | cut -f1)" \
    "$(du -sb "$work/cv-db-repo" | cut -f1)" "$(du -sb "$work/rs-db-repo" | cut -f1)" >>"$restores_tsv"
}

for ((day = 1; day <= days; day++)); do
  "$make_sample_chat" --out "$data" --day --seed "$day" --quiet
  sqlite3 "$data/msgstore.db" ".backup '$snaps/cur.db'"
  read -r _ pages_changed pages_total _ changed_z < <("$page_diff" "$snaps/prev.db" "$snaps/cur.db")
  cp "$snaps/cur.db" "$dbonly/msgstore.db"

  backup_step chatvault "$data" "$work/cv-repo" "$work/cv"
  cv_s="$secs" cv_objects="$objects" cv_bytes="$bytes"
  # The media's share of what chatvault uploaded; the rest (database objects, manifest, pointer)
  # is what the day's database cost.
  cv_media=$(jq '.bytes_uploaded - .database.bytes_uploaded' "$work/chatvault.out")
  cv_db=$((cv_bytes - cv_media))
  backup_step chatvault "$dbonly" "$work/cv-db-repo" "$work/cv-db"
  cvdb_s="$secs" cvdb_objects="$objects" cvdb_bytes="$bytes"
  cvdb_forced=$(jq -r 'if .database.forced == "" then "" else "forced" end' "$work/chatvault.out")
  backup_step restic "$data" "$work/rs-repo" ""
  rs_s="$secs" rs_objects="$objects" rs_bytes="$bytes"
  backup_step restic "$dbonly" "$work/rs-db-repo" ""
  rsdb_s="$secs" rsdb_bytes="$bytes"
  printf '%s\t' "$day" "$pages_changed" "$pages_total" "$changed_z" "$cv_db" "$cv_bytes" \
    "$cv_objects" "$cv_s" "$cvdb_bytes" "$cvdb_objects" "$cvdb_s" "$rs_bytes" "$rs_objects" \
    "$rs_s" "$rsdb_bytes" "$rsdb_s" >>"$days_tsv"
  echo "$cvdb_forced" >>"$days_tsv"
  echo "  day $day: $pages_changed pages changed ($((changed_z >> 10)) KiB zstd), chatvault" \
    "database $((cv_db >> 10)) KiB, alone $((cvdb_bytes >> 10)) KiB $cvdb_forced; restic" \
    "$((rs_bytes >> 10)) KiB, alone $((rsdb_bytes >> 10)) KiB" >&2
  mv "$snaps/cur.db" "$snaps/prev.db"
  for d in $restore_days; do if ((d == day)); then checkpoint "$day"; fi; done
done
checkpoint "$days"

# --- the same data backed up fresh --------------------------------------------------------------
media_sums "$data" >"$work/media.sums"
setup_chatvault "$work/cv-fresh" "$data" "$work/cv-fresh-repo"
setup_chatvault "$work/cv-db-fresh" "$dbonly" "$work/cv-db-fresh-repo"
backup_step chatvault "$data" "$work/cv-fresh-repo" "$work/cv-fresh"
backup_step chatvault "$dbonly" "$work/cv-db-fresh-repo" "$work/cv-db-fresh"
rounds="${CHATVAULT_BENCH_RESTORE_ROUNDS:-5}"
restore_rounds "$rounds" \
  aged chatvault "$work/cv-repo" "$work/cv" "$work/r" "$snaps/prev.db" "$work/media.sums" -- \
  fresh chatvault "$work/cv-fresh-repo" "$work/cv-fresh" "$work/r" "$snaps/prev.db" \
  "$work/media.sums" -- \
  restic restic "$work/rs-repo" "" "$work/r" "$data/msgstore.db" "$work/media.sums"
restore_rounds "$rounds" \
  aged_db chatvault-db "$work/cv-db-repo" "$work/cv-db" "$work/r" "$snaps/prev.db" "" -- \
  fresh_db chatvault-db "$work/cv-db-fresh-repo" "$work/cv-db-fresh" "$work/r" "$snaps/prev.db" "" -- \
  restic_db restic-db "$work/rs-db-repo" "" "$work/r" "$dbonly/msgstore.db" ""
fresh_size=$(du -sb "$work/cv-fresh-repo" | cut -f1)
fresh_db_size=$(du -sb "$work/cv-db-fresh-repo" | cut -f1)
aged_size=$(du -sb "$work/cv-repo" | cut -f1)
aged_db_size=$(du -sb "$work/cv-db-repo" | cut -f1)

# --- backup memory at two database sizes --------------------------------------------------------
rss_lines=()
for n in $rss_messages; do
  dir="$work/rss-$n"
  "$make_sample_chat" --out "$dir/data" --messages "$n" --media-count 0 --seed 7 >/dev/null
  setup_chatvault "$dir/home" "$dir/data" "$dir/repo"
  backup_step chatvault "$dir/data" "$dir/repo" "$dir/home"
  full_kib="$kib"
  "$make_sample_chat" --out "$dir/data" --day --day-media 0 --seed 1 --quiet
  backup_step chatvault "$dir/data" "$dir/repo" "$dir/home"
  rss_lines+=("$n $(($(stat -c %s "$dir/data/msgstore.db") >> 20)) $full_kib $kib")
  rm -rf "$dir"
done

# --- the report --------------------------------------------------------------------------------
echo
echo "chatvault vs restic $(restic version | awk '{print $2}'), $days days on a ${size_mb} MiB store," \
  "$(nproc) cores, $(date -u +%Y-%m-%d), scratch on $(df --output=fstype "$work" | tail -n 1)"
echo
echo "Per day. Pages: of msgstore.db, changed since the day before, and their size compressed with"
echo "zstd -3. Upload: what each tool added to its repository; chatvault's database share is"
echo "that minus the new media chunks (so its packs, base chunks, page hash lists, manifest and"
echo "pointer). x = upload / compressed changed pages. Alone: the same tools on the database alone."
echo
awk -F'\t' '
  function kib(b) { return sprintf("%.0f", b / 1024) }
  BEGIN {
    print "| day | pages changed | zstd KiB | cv db KiB | x | cv total KiB | cv objects | cv s | alone: cv KiB | x | restic KiB | restic objects | restic s | alone: restic KiB | restic alone / cv db |"
    print "|----:|--------------:|---------:|----------:|--:|-------------:|-----------:|-----:|--------------:|--:|-----------:|---------------:|---------:|------------------:|--------------------:|"
  }
  {
    printf "| %d | %d of %d | %s | %s | %.2f | %s | %d | %.2f | %s%s | %.2f | %s | %d | %.2f | %s | %.0f |\n", $1, $2, $3,
      kib($4), kib($5), $5 / $4, kib($6), $7, $8, kib($9), ($17 == "forced" ? " (f)" : ""), $9 / $4,
      kib($12), $13, $14, kib($15), $15 / $5
    n++; chg += $2; z += $4; db += $5; tot += $6; obj += $7; s += $8; alone += $9; rs += $12
    rsobj += $13; rss += $14; rsdb += $15
    if ($5 / $4 > worst) worst = $5 / $4
    if ($9 / $4 > worst_alone) worst_alone = $9 / $4
    if (min_db == "" || $15 / $5 < min_db) min_db = $15 / $5
  }
  END {
    printf "| total | %d | %s | %s | %.2f | %s | %d | %.2f | %s | %.2f | %s | %d | %.2f | %s | %.0f |\n", chg, kib(z),
      kib(db), db / z, kib(tot), obj, s, kib(alone), alone / z, kib(rs), rsobj, rss, kib(rsdb), rsdb / db
    printf "\nworst day, upload / compressed changed pages: %.2f (whole store), %.2f (database alone)\n", worst, worst_alone
    printf "restic / chatvault bytes over all days: %.1fx (whole store, media included), %.1fx (database alone)\n", rs / tot, rsdb / alone
    printf "restic on the database / chatvault'"'"'s database share of the whole store: %.1fx over all days, %.1fx on the worst day\n", rsdb / db, min_db
  }' "$days_tsv"
echo
echo "Restores (seconds, peak MiB) and repository sizes (MiB) on the days shown:"
echo
awk -F'\t' '
  BEGIN {
    print "| day | cv restore s | cv MiB | restic restore s | restic MiB | alone: cv s | alone: restic s | cv repo | restic repo | alone: cv repo | alone: restic repo |"
    print "|----:|-------------:|-------:|-----------------:|-----------:|------------:|----------------:|--------:|------------:|---------------:|-------------------:|"
  }
  { printf "| %d | %.2f | %.1f | %.2f | %.1f | %.2f | %.2f | %.1f | %.1f | %.1f | %.1f |\n", $1, $2, $3 / 1024, $4, $5 / 1024, $6, $7, $8 / 1048576, $9 / 1048576, $10 / 1048576, $11 / 1048576 }' "$restores_tsv"
echo
echo "After $days days against a fresh full backup of the same data (restores: median of" \
  "$rounds interleaved rounds; wall seconds, and user+system CPU seconds in brackets):"
# compare LABEL AGED FRESH RESTIC AGED_BYTES FRESH_BYTES
compare() {
  awk -v l="$1" -v a="${median_s[$2]}" -v f="${median_s[$3]}" -v r="${median_s[$4]}" \
    -v ac="${median_cpu[$2]}" -v fc="${median_cpu[$3]}" -v rc="${median_cpu[$4]}" \
    -v as="$5" -v fs="$6" 'BEGIN {
    printf "  %s: restore %.2f s (%.2f) vs %.2f s (%.2f) fresh = %.2fx (CPU %.2fx); restic %.2f s (%.2f) = %.1fx chatvault (CPU %.1fx); repository %.1f MiB vs %.1f MiB fresh = %.2fx\n", l, a, ac, f, fc, a / f, ac / fc, r, rc, r / a, rc / ac, as / 1048576, fs / 1048576, as / fs
  }'
}
compare "whole store   " aged fresh restic "$aged_size" "$fresh_size"
compare "database alone" aged_db fresh_db restic_db "$aged_db_size" "$fresh_db_size"
echo
echo "Backup peak RSS by database size (database alone; full backup, then a day's backup):"
for line in "${rss_lines[@]}"; do
  read -r n mib full day <<<"$line"
  printf '  %8d messages, %5d MiB msgstore.db: full %.1f MiB, a day %.1f MiB\n' "$n" "$mib" \
    "$(awk -v k="$full" 'BEGIN { print k / 1024 }')" "$(awk -v k="$day" 'BEGIN { print k / 1024 }')"
done

if ((${#mismatches[@]} > 0)); then
  echo
  echo "FAILED: restores that differ from the data: ${mismatches[*]}" >&2
  exit 1
fi
echo
echo "every restore was identical to the data"
