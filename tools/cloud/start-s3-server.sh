#!/usr/bin/env bash
# Starts the S3 test server on 127.0.0.1 with a port the kernel picks.
#   CHATVAULT_S3_KEY_ID=... CHATVAULT_S3_SECRET=... start-s3-server.sh <state-dir> <bucket>
# Prints "<pid> <port>" once the server accepts requests. Stop it with `kill <pid>`.
# Only the given key pair is accepted; every request must carry a valid SigV4 signature.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$1"
bucket="$2"
"$here/ensure-s3-server.sh"
mkdir -p "$dir"
rm -f "$dir/port"
# s3rver encrypts continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
node --openssl-legacy-provider "$here/s3server/serve.js" "$dir/data" "$bucket" "$dir/port" >>"$dir/server.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 200); do
  if [[ -s "$dir/port" ]]; then
    echo "$pid $(cat "$dir/port")"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.05
done
kill "$pid" 2>/dev/null || true
echo "the S3 test server did not start; see $dir/server.log" >&2
exit 1
