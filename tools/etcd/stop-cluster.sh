#!/usr/bin/env bash
# Usage: stop-cluster.sh DIR
# Heals any partition and stops every member of the cluster in DIR, by the PIDs it recorded
# (SIGTERM to all at once, SIGKILL after 3 s). Leaves the data in DIR. Safe to run twice.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -ge 1 ] || cv_etcd_die "usage: stop-cluster.sh DIR"
dir=$1
[ -d "$dir" ] || exit 0
pids=""
for i in $(cv_etcd_members "$dir"); do
  "$here/heal-member.sh" "$dir" "$i" >/dev/null 2>&1 || true
  if cv_etcd_alive "$dir" "$i"; then
    pid=$(cat "$dir/m$i.pid")
    kill -CONT "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null
    pids+=" $pid"
  fi
done
for _ in $(seq 1 30); do
  alive=0
  for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && break
  sleep 0.1
done
for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
root=$(cv_etcd_cgroup_root)
for i in $(cv_etcd_members "$dir"); do
  rm -f "$dir/m$i.pid"
  name=$(cv_etcd_cgroup_name "$dir" "$i")
  [ -n "$root" ] && [ -d "$root/$name" ] && rmdir "$root/$name" 2>/dev/null
done
exit 0
