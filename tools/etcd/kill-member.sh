#!/usr/bin/env bash
# Usage: kill-member.sh DIR I   -- kill -9 member I (a crash: no clean shutdown).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$1; i=$2
pid=$(cv_etcd_running_pid "$dir" "$i")
kill -KILL "$pid"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
rm -f "$dir/m$i.pid"
