#!/usr/bin/env bash
# Backup and restore throughput of chatvault against restic, to the same loopback servers in one
# run: the S3 test server (restic's s3 backend), nginx WebDAV (restic through an rclone "webdav"
# remote, since restic has no WebDAV backend of its own), and an rclone "local" remote (restic's
# rclone backend). Prints MiB/s for each and the ratio chatvault/restic (above 1 = chatvault
# faster). Every restore is compared with the data.
#
#   bench/cloud/compare_restic_cloud.sh            # ~128 MiB sample chat store
#   CHATVAULT_BENCH_SIZE_MB=32 bench/cloud/compare_restic_cloud.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
. bench/lib.sh
size_mb=$(cv_bench_size_mb 128)

tools/install-deps.sh
# CHATVAULT_BENCH_BUILD=<build dir> uses binaries already built there instead.
build="${CHATVAULT_BENCH_BUILD:-$root/build/release}"
if [[ -z "${CHATVAULT_BENCH_BUILD:-}" ]]; then
  cv_bench_build_release "$build" chatvault make-sample-chat
fi
chatvault="$build/src/cli/chatvault"

work="$(mktemp -d "$build/bench-cloud.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

data="$work/data"
"$build/tools/make-sample-chat" --out "$data" --messages $((size_mb * 250)) \
  --media-count $((size_mb * 9 / 10)) --seed 42 >/dev/null
bytes="$(du -sb "$data" | cut -f1)"
echo "sample chat store: $((bytes / 1048576)) MiB" >&2

# Servers, all on 127.0.0.1.
export CHATVAULT_S3_KEY_ID=BENCHKEY CHATVAULT_S3_SECRET="$(head -c 18 /dev/urandom | base64)"
# restic's S3 client signs some requests in a way s3rver checks differently (it refuses restic's
# correct signatures), so the benchmark server accepts mismatched signatures. Both tools still
# sign every request; only the refusal is off. The tests always verify signatures.
read -r s3_pid s3_port < <(CHATVAULT_S3_RELAXED_SIGNATURES=1 tools/cloud/start-s3-server.sh "$work/s3" bench)
pids+=("$s3_pid")
dav_pass="$(head -c 12 /dev/urandom | base64)"
read -r dav_pid dav_port < <(tools/cloud/start-webdav-server.sh "$work/dav" bench "$dav_pass")
pids+=("$dav_pid")

export AWS_ACCESS_KEY_ID="$CHATVAULT_S3_KEY_ID" AWS_SECRET_ACCESS_KEY="$CHATVAULT_S3_SECRET"
export AWS_ENDPOINT_URL="http://127.0.0.1:$s3_port" AWS_REGION=us-east-1
export CHATVAULT_WEBDAV_USER=bench CHATVAULT_WEBDAV_PASSWORD="$dav_pass"
export RCLONE_CONFIG="$work/rclone.conf"
cat >"$RCLONE_CONFIG" <<CONF
[disk]
type = local

[dav]
type = webdav
url = http://127.0.0.1:$dav_port/
vendor = other
user = bench
pass = $(rclone obscure "$dav_pass")
CONF
export RESTIC_PASSWORD_FILE="$work/restic-password" RESTIC_CACHE_DIR="$work/restic-cache"
head -c 24 /dev/urandom | base64 >"$RESTIC_PASSWORD_FILE"

seconds() { /usr/bin/time -f "%e" -o "$work/t" "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }; cat "$work/t"; }
# Media byte for byte; the database by its content (a copy may lay SQLite pages out differently).
same() {
  diff -r -q -x 'msgstore.db*' "$data" "$1" >/dev/null &&
    [[ "$(sqlite3 -readonly "$data/msgstore.db" .dump | sha256sum)" == \
       "$(sqlite3 -readonly "$1/msgstore.db" .dump | sha256sum)" ]] && echo yes || echo NO
}

printf '%-8s %-9s %12s %12s %12s %12s %9s\n' target step "chatvault s" "MiB/s" "restic s" "MiB/s" "cv/restic"
run() {
  local name="$1" cv_loc="$2" restic_repo="$3"
  local home="$work/home-$name"
  "$chatvault" --home "$home" --quiet init --key --i-saved-the-key --data "$data" --to "$cv_loc" >/dev/null
  RESTIC_REPOSITORY="$restic_repo" restic init --quiet >/dev/null
  local cv_b r_b cv_r r_r
  cv_b=$(seconds "$chatvault" --home "$home" --quiet backup)
  r_b=$(RESTIC_REPOSITORY="$restic_repo" seconds bash -c 'cd "$1" && restic backup --quiet .' _ "$data")
  cv_r=$(seconds "$chatvault" --home "$home" --quiet restore --from "$cv_loc" --to "$work/r-cv-$name" --key-file "$home/backup.key")
  r_r=$(RESTIC_REPOSITORY="$restic_repo" seconds restic restore latest --quiet --target "$work/r-restic-$name")
  for step in backup restore; do
    local a b; if [[ $step == backup ]]; then a=$cv_b b=$r_b; else a=$cv_r b=$r_r; fi
    awk -v n="$name" -v s="$step" -v a="$a" -v b="$b" -v by="$bytes" 'BEGIN {
      m = by / 1048576; if (a < 0.01) a = 0.01; if (b < 0.01) b = 0.01;
      printf "%-8s %-9s %12.2f %12.1f %12.2f %12.1f %9.2f\n", n, s, a, m / a, b, m / b, b / a }'
  done
  echo "  restores identical to the data: chatvault $(same "$work/r-cv-$name"), restic $(same "$work/r-restic-$name")" >&2
}
run s3 "s3://bench/chatvault" "s3:http://127.0.0.1:$s3_port/bench/restic"
run webdav "webdav://127.0.0.1:$dav_port/chatvault" "rclone:dav:restic"
run rclone "rclone:disk:$work/rclone-chatvault" "rclone:disk:$work/rclone-restic"
