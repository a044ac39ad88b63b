#!/usr/bin/env bash
# A TLS certificate for a keyvaultd on this machine (tests, the demo, the loopback fleet), for
# 127.0.0.1 and localhost.
#
#   tools/vault/make-test-cert.sh DIR            -> DIR/cert.pem, DIR/key.pem, self-signed
#   tools/vault/make-test-cert.sh DIR CA_DIR     -> the same, signed by the CA in CA_DIR
#                                                   (CA_DIR/ca.pem, ca-key.pem; made if missing)
#
# Clients pin the self-signed certificate, or the CA's, as their CA file (chatvault --ca).
# With a CA, every run issues a new certificate (new key, new serial) that clients pinning the
# CA accept: what a renewal looks like, for the SIGHUP reload tests.
set -euo pipefail
dir=${1:?usage: make-test-cert.sh DIR [CA_DIR]}
ca=${2:-}
mkdir -p "$dir"
umask 077
san="subjectAltName=DNS:localhost,IP:127.0.0.1"
if [ -z "$ca" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=localhost" -addext "$san" \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  chmod 644 "$dir/cert.pem"
  exit 0
fi
mkdir -p "$ca"
if [ ! -f "$ca/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=chatvault test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$ca/ca-key.pem" -out "$ca/ca.pem" 2>/dev/null
  chmod 644 "$ca/ca.pem"
fi
# Written beside the final names and renamed, so a vault reloading meanwhile reads whole files.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=localhost" -keyout "$dir/key.pem.new" -out "$dir/cert.csr" 2>/dev/null
printf '%s\n' "$san" "extendedKeyUsage=serverAuth" >"$dir/cert.ext"
openssl x509 -req -in "$dir/cert.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" \
  -set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$dir/cert.ext" \
  -out "$dir/cert.pem.new" 2>/dev/null
chmod 644 "$dir/cert.pem.new"
rm -f "$dir/cert.csr" "$dir/cert.ext"
mv "$dir/key.pem.new" "$dir/key.pem"
mv "$dir/cert.pem.new" "$dir/cert.pem"
