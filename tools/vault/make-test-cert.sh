#!/usr/bin/env bash
# A self-signed TLS certificate for a keyvaultd on this machine (tests and the demo). Clients pin
# it by passing the certificate as their CA file (chatvault --ca DIR/cert.pem).
#
#   tools/vault/make-test-cert.sh DIR      -> DIR/cert.pem, DIR/key.pem (mode 0600)
set -euo pipefail
dir=${1:?usage: make-test-cert.sh DIR}
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
chmod 644 "$dir/cert.pem"
