#!/usr/bin/env bash
# Usage: kill-member.sh DIR I   -- kill -9 member I (a crash: no clean shutdown).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$1; i=$2
cv_etcd_alive "$dir" "$i" || cv_etcd_die "member $i is not running"
pid=$(cat "$dir/m$i.pid")
kill -KILL "$pid"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
rm -f "$dir/m$i.pid"
