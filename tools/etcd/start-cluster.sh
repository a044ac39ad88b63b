#!/usr/bin/env bash
# Usage: start-cluster.sh DIR [MEMBERS] [OWNER_PID]   (default 3 members)
# Starts an etcd cluster on 127.0.0.1 with ephemeral ports, data in DIR, and waits until it has
# a leader and every member answers. Prints the client endpoints (also written to DIR/endpoints).
# Stop it with stop-cluster.sh DIR. With OWNER_PID, a watchdog also stops it (and deletes DIR)
# once that process is gone, so a test that crashes leaves no cluster behind.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -ge 1 ] || cv_etcd_die "usage: start-cluster.sh DIR [MEMBERS]"
dir=$1; n=${2:-3}; owner=${3:-}
command -v etcd >/dev/null || cv_etcd_die "etcd is not installed (apt-get install etcd-server)"
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)

for attempt in 1 2 3; do
  rm -rf "$dir"/m* "$dir/endpoints" "$dir/initial-cluster"
  echo "cv$$-$attempt-$RANDOM" >"$dir/token"
  cluster=""; endpoints=""
  for i in $(seq 1 "$n"); do
    cv_etcd_pick_port >"$dir/m$i.client"; cv_etcd_pick_port >"$dir/m$i.peer"
    cluster+="${cluster:+,}m$i=http://127.0.0.1:$(cat "$dir/m$i.peer")"
    endpoints+="${endpoints:+,}127.0.0.1:$(cat "$dir/m$i.client")"
  done
  echo "$cluster" >"$dir/initial-cluster"
  for i in $(seq 1 "$n"); do cv_etcd_start_member "$dir" "$i" new; done
  # Up to ~30 s: a loaded CI machine can be slow to elect the first leader.
  for _ in $(seq 1 150); do
    dead=0
    for i in $(seq 1 "$n"); do cv_etcd_alive "$dir" "$i" || dead=1; done
    [ $dead = 1 ] && break
    if ETCDCTL_API=3 etcdctl --endpoints="$endpoints" --command-timeout=2s endpoint health \
         >/dev/null 2>&1; then
      echo "$endpoints" >"$dir/endpoints"
      if [ -n "$owner" ]; then
        setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
                        "$3/stop-cluster.sh" "$2"; rm -rf "$2"' cv-etcd-watchdog \
          "$owner" "$dir" "$here" </dev/null >/dev/null 2>&1 &
      fi
      echo "$endpoints"
      exit 0
    fi
    sleep 0.2
  done
  echo "etcd: cluster did not come up (attempt $attempt), see $dir/m*.log" >&2
  "$here/stop-cluster.sh" "$dir" >/dev/null 2>&1 || true
done
cv_etcd_die "could not start a $n-member cluster in $dir"
