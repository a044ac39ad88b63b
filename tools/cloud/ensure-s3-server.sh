#!/usr/bin/env bash
# Installs the loopback S3 test server (an npm package pinned by package-lock.json) into
# tools/cloud/s3server/node_modules if it is not there yet. Safe to run from parallel tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/s3server"
exec 9>"$here/s3server/.install.lock"
flock 9
if [[ ! -f node_modules/@20minutes/s3rver/package.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
