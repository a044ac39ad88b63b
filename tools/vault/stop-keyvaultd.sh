#!/usr/bin/env bash
# Stops the keyvaultd started by start-keyvaultd.sh DIR, by its PID: SIGTERM, then SIGKILL after
# 10 s. `--kill` sends SIGKILL at once (crash tests). Removes its memory cgroup, if it had one.
#
#   tools/vault/stop-keyvaultd.sh DIR [--kill]
set -euo pipefail
dir=${1:?usage: stop-keyvaultd.sh DIR [--kill]}
remove_cgroup() {
  if [ -f "$dir/cgroup" ]; then
    local path
    path=$(cut -d' ' -f2- "$dir/cgroup")
    # An exiting process leaves its cgroup a moment after kill -0 stops finding it.
    for _ in $(seq 1 20); do
      [ -d "$path" ] || break
      rmdir "$path" 2>/dev/null && break
      sleep 0.1
    done
    rm -f "$dir/cgroup"
  fi
}
trap remove_cgroup EXIT
[ -f "$dir/pid" ] || exit 0
pid=$(cat "$dir/pid")
if [ "${2:-}" = "--kill" ]; then
  kill -KILL "$pid" 2>/dev/null || true
else
  kill -TERM "$pid" 2>/dev/null || true
fi
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; exit 0; }
  sleep 0.1
done
kill -KILL "$pid" 2>/dev/null || true
rm -f "$dir/pid"
