#!/usr/bin/env bash
# Usage: heal-member.sh DIR I   -- undoes partition-member.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$1; i=$2
[ -f "$dir/m$i.partition" ] || exit 0
root=$(cv_etcd_cgroup_root)
name=$(cv_etcd_cgroup_name "$dir" "$i")
if [ "$(cat "$dir/m$i.partition")" = iptables ]; then
  while iptables -w -D OUTPUT -m cgroup --path "$name" -j DROP 2>/dev/null; do :; done
fi
cv_etcd_alive "$dir" "$i" && kill -CONT "$(cat "$dir/m$i.pid")" 2>/dev/null
rm -f "$dir/m$i.partition"
exit 0
