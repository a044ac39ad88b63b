#!/usr/bin/env bash
# Creates a SoftHSM2 token for keyvaultd in its own directory, with its own softhsm2.conf, so it
# never touches the system's tokens.
#
#   tools/vault/make-softhsm-token.sh DIR [LABEL]
#
# Writes DIR/softhsm2.conf, DIR/tokens/, DIR/pin (user PIN, mode 0600) and prints the lines to
# export: SOFTHSM2_CONF, and the module path keyvaultd's --pkcs11-module wants.
set -euo pipefail
dir=${1:?usage: make-softhsm-token.sh DIR [LABEL]}
label=${2:-chatvault-vault}
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
umask 077
cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$dir/softhsm2.conf"
pin=$(openssl rand -hex 8)
so_pin=$(openssl rand -hex 8)
printf '%s' "$pin" >"$dir/pin"
softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$so_pin" >/dev/null
module=""
for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
                 /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
  if [ -e "$candidate" ]; then module=$candidate; break; fi
done
[ -n "$module" ] || { echo "make-softhsm-token.sh: libsofthsm2.so not found (apt-get install softhsm2)" >&2; exit 1; }
printf '%s' "$module" >"$dir/module"
echo "export SOFTHSM2_CONF=$dir/softhsm2.conf"
echo "# keyvaultd --pkcs11-module $module --hsm-token $label --hsm-pin-file $dir/pin"
