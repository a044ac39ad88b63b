# Shared helpers for the etcd cluster scripts. A cluster lives in one directory:
#   m<i>/            member i's data dir         m<i>.pid   its process id
#   m<i>.client      its client port              m<i>.peer  its peer port
#   m<i>.log         its log                      endpoints  host:port,host:port,...
#   initial-cluster  the --initial-cluster value  token      the cluster token
# Everything listens on 127.0.0.1 only.

cv_etcd_die() { echo "etcd: $*" >&2; exit 1; }

cv_etcd_members() { ls "$1"/m*.client 2>/dev/null | sed 's/.*\/m\([0-9]*\)\.client/\1/' | sort -n; }

# Starts member $2 of the cluster in $1 ("new" or "existing" as $3) in the background.
cv_etcd_start_member() {
  local dir=$1 i=$2 state=${3:-existing}
  local client peer
  client=$(cat "$dir/m$i.client"); peer=$(cat "$dir/m$i.peer")
  # Each member runs in its own cgroup (when we may create one), because iptables matches a
  # socket by the cgroup its process was in when the socket was made: partition-member.sh can
  # then drop this member's traffic alone. setsid: the member must not get the caller's signals.
  local root name
  root=$(cv_etcd_cgroup_root); name=$(cv_etcd_cgroup_name "$dir" "$i")
  (
    if [ -n "$root" ] && mkdir -p "$root/$name" 2>/dev/null; then
      echo "$BASHPID" >"$root/$name/cgroup.procs" 2>/dev/null || rmdir "$root/$name" 2>/dev/null
    fi
    exec setsid etcd --name "m$i" --data-dir "$dir/m$i" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$(cat "$dir/initial-cluster")" --initial-cluster-state "$state" \
    --initial-cluster-token "$(cat "$dir/token")" \
    --heartbeat-interval 100 --election-timeout 1000 --logger zap --log-outputs stderr \
    </dev/null >>"$dir/m$i.log" 2>&1
  ) &
  echo $! >"$dir/m$i.pid"
}

cv_etcd_alive() { [ -f "$1/m$2.pid" ] && kill -0 "$(cat "$1/m$2.pid")" 2>/dev/null; }

# The process id of member $2 of the cluster in $1; dies when it is not running, since every
# caller (kill, partition) means to act on a live member.
cv_etcd_running_pid() {
  cv_etcd_alive "$1" "$2" || cv_etcd_die "member $2 is not running"
  cat "$1/m$2.pid"
}

# A free-looking TCP port in the ephemeral range; the start script retries if etcd loses a race.
cv_etcd_pick_port() {
  local port
  while :; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    ss -Htan 2>/dev/null | awk '{print $4}' | grep -q ":$port\$" || { echo "$port"; return; }
  done
}

# The cgroup (v2) a partitioned member is moved into, so iptables can drop its traffic alone.
cv_etcd_cgroup_root() { awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts; }
cv_etcd_cgroup_name() { echo "chatvault-etcd-$(cat "$1/token")-m$2"; }
