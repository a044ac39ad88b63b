#!/usr/bin/env bash
# The replicated vault on loopback, as docs/OPERATIONS.md ("Many instances behind a load
# balancer") deploys it: a 3-member etcd cluster, N keyvaultd instances on it sharing one
# SoftHSM2 token and one set of token keys, and nginx in front of them, balancing requests round
# robin and terminating TLS (then TLS again to each instance).
#
#   tools/vault/start-fleet.sh KEYVAULTD DIR [INSTANCES] [OWNER_PID]     (3 instances)
#
# Prints the load balancer's URL (https://127.0.0.1:PORT); clients pin DIR/ca/ca.pem. Leaves:
#   DIR/etcd/                 the cluster (tools/etcd/*.sh work on it)
#   DIR/kv<i>/pid, port, keyvaultd.log, audit.jsonl    instance i (instance id "kv<i>")
#   DIR/nginx/pid, port, nginx.conf, access.log, error.log
#   DIR/token-keys, DIR/metrics-token, DIR/hsm/, DIR/tls/, DIR/ca/
# KEYVAULTD_FLAGS adds flags to every instance (tests: tiny Argon2id parameters). With
# OWNER_PID, a watchdog stops everything once that process is gone. Stop it all, by PID, with
# tools/vault/stop-fleet.sh DIR.
set -euo pipefail
bin=${1:?usage: start-fleet.sh KEYVAULTD DIR [INSTANCES] [OWNER_PID]}
dir=${2:?usage: start-fleet.sh KEYVAULTD DIR [INSTANCES] [OWNER_PID]}
instances=${3:-3}
owner=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v nginx >/dev/null || { echo "start-fleet.sh: nginx is not installed" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
fail() { echo "start-fleet.sh: $*" >&2; "$here/stop-fleet.sh" "$dir" >/dev/null 2>&1 || true; exit 1; }

endpoints=$("$root/tools/etcd/start-cluster.sh" "$dir/etcd" 3) || fail "etcd did not start"
[ -f "$dir/hsm/softhsm2.conf" ] || "$here/make-softhsm-token.sh" "$dir/hsm" >/dev/null
[ -f "$dir/tls/cert.pem" ] || "$here/make-test-cert.sh" "$dir/tls" "$dir/ca"
[ -f "$dir/token-keys" ] || (umask 077 && echo "k1 $(openssl rand -hex 32)" >"$dir/token-keys")
[ -f "$dir/metrics-token" ] || (umask 077 && openssl rand -hex 32 >"$dir/metrics-token")

# Every instance: the same store, token, certificate and keys. Behind a proxy every client has
# the proxy's address, so the per-address cap is the total cap (nginx limits per client).
ports=()
for i in $(seq 1 "$instances"); do
  kv="$dir/kv$i"
  mkdir -p "$kv"
  rm -f "$kv/port"
  # shellcheck disable=SC2086  # KEYVAULTD_FLAGS is a list of flags
  SOFTHSM2_CONF="$dir/hsm/softhsm2.conf" setsid "$bin" serve --listen 127.0.0.1:0 \
    --port-file "$kv/port" --store "etcd://$endpoints/chatvault/vault/" \
    --tls-cert "$dir/tls/cert.pem" --tls-key "$dir/tls/key.pem" \
    --pkcs11-module "$(cat "$dir/hsm/module")" --hsm-pin-file "$dir/hsm/pin" \
    --token-keys-file "$dir/token-keys" --metrics-token-file "$dir/metrics-token" \
    --instance-id "kv$i" --audit-log "$kv/audit.jsonl" \
    --max-connections-per-address 2048 ${KEYVAULTD_FLAGS:-} \
    </dev/null >>"$kv/keyvaultd.log" 2>&1 &
  echo $! >"$kv/pid"
  # One at a time: the first creates the vault's secrets in etcd, the others read them.
  for _ in $(seq 1 600); do
    [ -s "$kv/port" ] && break
    kill -0 "$(cat "$kv/pid")" 2>/dev/null || fail "keyvaultd $i exited: $(tail -n 5 "$kv/keyvaultd.log")"
    sleep 0.1
  done
  [ -s "$kv/port" ] || fail "keyvaultd $i did not start within 60 s"
  ports+=("$(cat "$kv/port")")
done

# nginx as the load balancer, without root: everything it writes lives under DIR/nginx.
ng="$dir/nginx"
mkdir -p "$ng/tmp"
servers=""
for port in "${ports[@]}"; do
  servers+="    server 127.0.0.1:$port max_fails=1 fail_timeout=5s;"$'\n'
done
for attempt in 1 2 3 4 5; do
  port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  SERVERS=$servers awk '/^@SERVERS@$/ { printf "%s", ENVIRON["SERVERS"]; next } { print }' \
    "$here/nginx-fleet.conf" |
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@WORKERS@|${NGINX_WORKERS:-1}|g" \
      >"$ng/nginx.conf"
  nginx -t -q -p "$ng" -e "$ng/error.log" -c "$ng/nginx.conf" || fail "nginx rejected its configuration"
  nginx -p "$ng" -e "$ng/error.log" -c "$ng/nginx.conf" </dev/null >>"$ng/error.log" 2>&1 &
  echo $! >"$ng/pid"
  for _ in $(seq 1 50); do
    if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
      echo "$port" >"$ng/port"
      break 2
    fi
    kill -0 "$(cat "$ng/pid")" 2>/dev/null || break
    sleep 0.1
  done
  kill "$(cat "$ng/pid")" 2>/dev/null || true  # lost the port to someone else: try another
  rm -f "$ng/pid"
done
[ -s "$ng/port" ] || fail "nginx did not start; see $ng/error.log"

if [ -n "$owner" ]; then
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
                  "$3/stop-fleet.sh" "$2"' cv-fleet-watchdog "$owner" "$dir" "$here" \
    </dev/null >/dev/null 2>&1 &
fi
echo "https://127.0.0.1:$(cat "$ng/port")"
