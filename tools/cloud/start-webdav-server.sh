#!/usr/bin/env bash
# Starts nginx as a WebDAV server (with the dav-ext module for PROPFIND) on 127.0.0.1.
#   start-webdav-server.sh <state-dir> <user> <password> [port]
# Serves <state-dir>/data at http://127.0.0.1:<port>/ behind HTTP basic auth. Without a port,
# tries random high ports until one is free. Prints "<pid> <port>" once nginx answers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(cd "$1" 2>/dev/null && pwd || (mkdir -p "$1" && cd "$1" && pwd))"
user="$2"
password="$3"
fixed_port="${4:-}"
mkdir -p "$dir/data" "$dir/tmp" "$dir/logs"
printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "$password")" >"$dir/htpasswd"
module=/usr/lib/nginx/modules/ngx_http_dav_ext_module.so
for attempt in $(seq 1 20); do
  port="${fixed_port:-$((20000 + RANDOM % 40000))}"
  sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@MODULE@|$module|g" \
      -e "s|@USER@|$(id -un) $(id -gn)|g" "$here/nginx-webdav.conf.in" >"$dir/nginx.conf"
  : >"$dir/logs/error.log"
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" >>"$dir/logs/error.log" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)"
    if [[ "$code" == "401" ]]; then
      echo "$pid $port"
      exit 0
    fi
    sleep 0.05
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if ! grep -q "Address already in use" "$dir/logs/error.log" || [[ -n "$fixed_port" ]]; then break; fi
done
echo "nginx did not start; see $dir/logs/error.log" >&2
exit 1
