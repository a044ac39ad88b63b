#!/usr/bin/env bash
# Stops what tools/vault/start-fleet.sh DIR started, each by the PID it recorded: nginx first
# (no new requests), then every keyvaultd (SIGTERM, SIGKILL after 10 s), then the etcd cluster.
# Leaves the data in DIR. Safe to run twice.
#
#   tools/vault/stop-fleet.sh DIR
set -uo pipefail
dir=${1:?usage: stop-fleet.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -d "$dir" ] || exit 0
stop_pid() {  # pid file, seconds before SIGKILL
  local file=$1 grace=$2 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null || { rm -f "$file"; return 0; }
  for _ in $(seq 1 $((grace * 10))); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$file"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$file"
}
stop_pid "$dir/nginx/pid" 5
for kv in "$dir"/kv*; do
  [ -d "$kv" ] && stop_pid "$kv/pid" 10 &
done
wait
[ -d "$dir/etcd" ] && "$root/tools/etcd/stop-cluster.sh" "$dir/etcd"
exit 0
