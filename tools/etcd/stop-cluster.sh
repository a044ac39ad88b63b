#!/usr/bin/env bash
# Usage: stop-cluster.sh DIR
# Heals any partition and stops every member of the cluster in DIR, by the PIDs it recorded.
# Leaves the data in DIR (delete it yourself). Safe to run twice.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -ge 1 ] || cv_etcd_die "usage: stop-cluster.sh DIR"
dir=$1
[ -d "$dir" ] || exit 0
for i in $(cv_etcd_members "$dir"); do
  "$here/heal-member.sh" "$dir" "$i" >/dev/null 2>&1 || true
  if cv_etcd_alive "$dir" "$i"; then
    pid=$(cat "$dir/m$i.pid")
    kill -CONT "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/m$i.pid"
  root=$(cv_etcd_cgroup_root); name=$(cv_etcd_cgroup_name "$dir" "$i")
  [ -n "$root" ] && rmdir "$root/$name" 2>/dev/null
done
exit 0
