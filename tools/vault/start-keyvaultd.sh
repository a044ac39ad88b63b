#!/usr/bin/env bash
# Starts a keyvaultd for tests and the demo, with everything it needs created under DIR on first
# use: a SoftHSM2 token (make-softhsm-token.sh), a self-signed TLS certificate
# (make-test-cert.sh), an account-token secret, and a SQLite record store. Listens on loopback
# on a free port. Running it again on the same DIR restarts the same vault (same token, same
# records).
#
#   tools/vault/start-keyvaultd.sh KEYVAULTD_BINARY DIR [extra keyvaultd serve flags...]
#
# On success prints the URL (https://127.0.0.1:PORT) and leaves DIR/pid, DIR/port,
# DIR/tls/cert.pem (clients pass it as --ca), DIR/token-secret (the token keys file, one key
# "k1", for keyvaultd issue-token),
# DIR/metrics-token (GET /metrics wants "Authorization: Bearer <it>", unless the flags name
# another --metrics-token-file or KEYVAULTD_NO_METRICS_TOKEN=1) and DIR/keyvaultd.log. Stop it with
# tools/vault/stop-keyvaultd.sh DIR.
#
# With KEYVAULTD_MEMORY_LIMIT=BYTES keyvaultd runs in a memory cgroup of its own limited to that
# (cgroup v2 where its memory controller is available, else v1), and DIR/cgroup holds "v1 PATH"
# or "v2 PATH"; stop-keyvaultd.sh removes it. Where no cgroup can be made (no controller, no
# rights) keyvaultd runs without a limit and DIR/cgroup is absent: callers then check its peak
# RSS instead. (RLIMIT_AS cannot stand in: sanitizer builds reserve terabytes of address space.)
set -euo pipefail
bin=${1:?usage: start-keyvaultd.sh KEYVAULTD_BINARY DIR [flags...]}
dir=${2:?usage: start-keyvaultd.sh KEYVAULTD_BINARY DIR [flags...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -f "$dir/hsm/softhsm2.conf" ] || "$here/make-softhsm-token.sh" "$dir/hsm" >/dev/null
[ -f "$dir/tls/cert.pem" ] || "$here/make-test-cert.sh" "$dir/tls"
if [ ! -f "$dir/token-secret" ]; then
  (umask 077 && echo "k1 $(openssl rand -hex 32)" >"$dir/token-secret")
fi
[ -f "$dir/metrics-token" ] || (umask 077 && openssl rand -hex 32 >"$dir/metrics-token")
metrics=(--metrics-token-file "$dir/metrics-token")
for flag in "$@"; do
  if [ "$flag" = --metrics-token-file ]; then metrics=(); fi
done
if [ -n "${KEYVAULTD_NO_METRICS_TOKEN:-}" ]; then metrics=(); fi
rm -f "$dir/port" "$dir/cgroup"

# Prints "v1 PATH" or "v2 PATH" of a new memory cgroup limited to $1 bytes, or nothing.
make_memory_cgroup() {
  local limit=$1 name="chatvault-keyvaultd-$$-$RANDOM" v1 v2 own path
  v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
  if [ -n "$v2" ] && grep -qw memory "$v2/cgroup.controllers" 2>/dev/null; then
    echo +memory >"$v2/cgroup.subtree_control" 2>/dev/null || true
    path="$v2/$name"
    if mkdir "$path" 2>/dev/null && echo "$limit" >"$path/memory.max" 2>/dev/null; then
      echo 0 >"$path/memory.swap.max" 2>/dev/null || true
      echo "v2 $path"
      return
    fi
    rmdir "$path" 2>/dev/null || true
  fi
  v1=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts)
  own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
  if [ -n "$v1" ]; then
    path="$v1${own%/}/$name"
    if mkdir "$path" 2>/dev/null && echo "$limit" >"$path/memory.limit_in_bytes" 2>/dev/null; then
      echo "$limit" >"$path/memory.memsw.limit_in_bytes" 2>/dev/null || true
      echo "v1 $path"
      return
    fi
    rmdir "$path" 2>/dev/null || true
  fi
}
cgroup=""
if [ -n "${KEYVAULTD_MEMORY_LIMIT:-}" ]; then
  cgroup=$(make_memory_cgroup "$KEYVAULTD_MEMORY_LIMIT")
  if [ -n "$cgroup" ]; then echo "$cgroup" >"$dir/cgroup"; fi
fi
(
  # The subshell joins the cgroup first, so keyvaultd is in it from its first allocation.
  if [ -n "$cgroup" ]; then echo "$BASHPID" >"${cgroup#v? }/cgroup.procs"; fi
  SOFTHSM2_CONF="$dir/hsm/softhsm2.conf" exec "$bin" serve --listen 127.0.0.1:0 \
    --port-file "$dir/port" --store "sqlite:$dir/records.db" --tls-cert "$dir/tls/cert.pem" \
    --tls-key "$dir/tls/key.pem" --pkcs11-module "$(cat "$dir/hsm/module")" \
    --hsm-pin-file "$dir/hsm/pin" --token-secret-file "$dir/token-secret" "${metrics[@]}" "$@"
) >>"$dir/keyvaultd.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/pid"
# Wait (up to 60 s: sanitizer builds start slowly) for the port file, or for an early exit.
for _ in $(seq 1 600); do
  if [ -s "$dir/port" ]; then
    echo "https://127.0.0.1:$(cat "$dir/port")"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start-keyvaultd.sh: keyvaultd exited; its log:" >&2
    tail -n 20 "$dir/keyvaultd.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "start-keyvaultd.sh: keyvaultd did not start listening within 60 s" >&2
kill "$pid" 2>/dev/null || true
exit 1
