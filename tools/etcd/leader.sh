#!/usr/bin/env bash
# Usage: leader.sh DIR   -- prints the number of the member that is leader now (exit 1 if none
# of the running members reports one).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$1
for i in $(cv_etcd_members "$dir"); do
  cv_etcd_alive "$dir" "$i" || continue
  fields=$(ETCDCTL_API=3 etcdctl --endpoints="127.0.0.1:$(cat "$dir/m$i.client")" \
           --command-timeout=2s endpoint status -w fields 2>/dev/null) || continue
  member=$(echo "$fields" | awk -F' : ' '/"MemberID"/ { print $2 }')
  leader=$(echo "$fields" | awk -F' : ' '/"Leader"/ { print $2 }')
  if [ -n "$member" ] && [ "$member" = "$leader" ]; then echo "$i"; exit 0; fi
done
exit 1
