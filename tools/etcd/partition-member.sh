#!/usr/bin/env bash
# Usage: partition-member.sh DIR I
# Cuts member I off the network while it keeps running: it was started in its own cgroup
# (lib.sh) and iptables drops every packet it sends (so no TCP connection to or from it can
# work, for peers and clients alike). Needs root and cgroup v2; without them it falls back to
# freezing the process (SIGSTOP), which peers and clients see the same way. Undo: heal-member.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$1; i=$2
pid=$(cv_etcd_running_pid "$dir" "$i")
root=$(cv_etcd_cgroup_root)
name=$(cv_etcd_cgroup_name "$dir" "$i")
if [ "$(id -u)" = 0 ] && [ -n "$root" ] && command -v iptables >/dev/null \
   && grep -qx "$pid" "$root/$name/cgroup.procs" 2>/dev/null \
   && iptables -w -I OUTPUT -m cgroup --path "$name" -j DROP 2>/dev/null; then
  echo iptables >"$dir/m$i.partition"
else
  kill -STOP "$pid"
  echo sigstop >"$dir/m$i.partition"
fi
cat "$dir/m$i.partition"
