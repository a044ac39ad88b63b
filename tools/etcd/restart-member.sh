#!/usr/bin/env bash
# Usage: restart-member.sh DIR I   -- start a stopped member I again with its old data; it
# rejoins and catches up from the leader.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$(cd "$1" && pwd); i=$2
cv_etcd_alive "$dir" "$i" && cv_etcd_die "member $i is already running"
cv_etcd_start_member "$dir" "$i" existing
sleep 0.3
cv_etcd_alive "$dir" "$i" || cv_etcd_die "member $i did not start, see $dir/m$i.log"
