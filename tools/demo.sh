#!/usr/bin/env bash
# The chatvault demo, end to end on the embedded defaults (a local directory as the "cloud"):
# installs what is missing, builds Release, makes a sample chat, sets up a backup key, backs up,
# loses the phone, restores on a new device with the 64-digit key, proves nothing was lost, and
# backs up again from the new device where the old one stopped.
# Exits non-zero on any failure. Set CHATVAULT_DEMO_KEEP=1 to keep the demo folder afterwards.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [[ -t 1 ]]; then bold=$'\e[1m'; green=$'\e[32m'; red=$'\e[31m'; plain=$'\e[0m'
else bold=""; green=""; red=""; plain=""; fi
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
ok() { printf '%s    ok: %s%s\n' "$green" "$*" "$plain"; }
die() { printf '%sdemo failed: %s%s\n' "$red" "$*" "$plain" >&2; exit 1; }

say "Installing missing Debian packages (nothing happens when all are present)"
tools/install-deps.sh

build="$root/build/release"
say "Building chatvault (Release) in build/release"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHATVAULT_TESTS=OFF >/dev/null
cmake --build "$build" --target chatvault keyvaultd make-sample-chat -j "$(nproc)"
chatvault="$build/src/cli/chatvault"
keyvaultd="$build/src/vault/keyvaultd"
make_sample_chat="$build/tools/make-sample-chat"

work="$(mktemp -d "${TMPDIR:-/tmp}/chatvault-demo.XXXXXX")"
cleanup() {
  [[ -f "$work/vault/pid" ]] && "$root/tools/vault/stop-keyvaultd.sh" "$work/vault" >/dev/null 2>&1
  if [[ "${CHATVAULT_DEMO_KEEP:-0}" == 1 ]]; then
    echo "(demo files kept in $work)"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

phone_data="$work/phone/chat"      # the chat app's data directory on the old phone
phone_home="$work/phone/chatvault" # chatvault's state on the old phone (config, key file)
cloud="$work/cloud"                # where backups go: a local directory by default
new_data="$work/new-phone/chat"
new_home="$work/new-phone/chatvault"
reference="$work/reference"        # a copy kept aside only so the demo can check the result

say "Making a sample chat on the 'old phone': 2000 messages and 20 photos, videos, voice notes"
"$make_sample_chat" --out "$phone_data" --messages 2000 --media-count 20 --seed 2024
cp -a "$phone_data" "$reference"

# How the backup key is kept: behind a password in the Backup Key Vault (default), or as the
# 64-digit key the user writes down (CHATVAULT_DEMO_PROTECTION=key).
start_vault() {
  say "Starting the Backup Key Vault (keyvaultd) on loopback, its secrets in a SoftHSM2 token"
  vault_url="$("$root/tools/vault/start-keyvaultd.sh" "$keyvaultd" "$work/vault")" \
    || die "keyvaultd did not start"
  vault_ca="$work/vault/tls/cert.pem"
  # The chat service vouches for the account; here we play the chat service.
  account_token="$("$keyvaultd" issue-token --token-secret-file "$work/vault/token-secret" \
                     --account demo-user)" || die "keyvaultd issue-token failed"
  ok "vault at $vault_url"
}

protect_with_password() {
  start_vault
  say "Setting up chatvault with a password: the key goes to the vault, which never sees the password"
  demo_password="correct horse 42"
  CHATVAULT_PASSWORD="$demo_password" "$chatvault" --home "$phone_home" init --password \
    --data "$phone_data" --to "$cloud" --vault "$vault_url" --account demo-user \
    --token "$account_token" --ca "$vault_ca" || die "chatvault init --password failed"
  ok "password set and proven with a real recovery from the vault"
}

restore_with_password() {
  say "Restoring on the new phone: only the cloud location, the account and the password are needed"
  CHATVAULT_PASSWORD="$demo_password" "$chatvault" --home "$new_home" restore --password \
    --set-up-device --from "$cloud" --to "$new_data" --vault "$vault_url" --account demo-user \
    --ca "$vault_ca" || die "chatvault restore --password failed"
}

wrong_password_is_counted() {
  say "Trying a wrong password first: the vault counts the guess (10 and the key is destroyed)"
  local rc=0
  CHATVAULT_PASSWORD="wrong guess 1" "$chatvault" --home "$new_home" restore --password \
    --from "$cloud" --to "$work/wrong-password" --vault "$vault_url" --account demo-user \
    --ca "$vault_ca" || rc=$?
  [[ $rc -eq 6 ]] || die "a wrong password gave exit code $rc, expected 6 (permission denied)"
  [[ ! -e "$work/wrong-password/msgstore.db" ]] || die "a wrong password produced a msgstore.db"
  ok "wrong password refused (exit code 6), nothing written"
}

protect_with_key() {
  say "Setting up chatvault with a 64-digit backup key (shown once; write it down)"
  local out
  out="$("$chatvault" --home "$phone_home" init --key --data "$phone_data" --to "$cloud" \
           --i-saved-the-key)" || die "chatvault init failed"
  printf '%s\n' "$out"
  # The key as the user would copy it from the screen: 16 groups of 4 hex digits.
  backup_key="$(grep -Eo '([0-9a-fA-F]{4}[ -]){15}[0-9a-fA-F]{4}' <<<"$out" | head -n 1)"
  [[ -n "$backup_key" ]] || die "init did not show a 64-digit key"
  ok "the key on paper: $backup_key"
}

restore_with_key() {
  say "Restoring on the new phone: only the cloud location and the 64-digit key are needed"
  "$chatvault" --home "$new_home" restore --set-up-device --from "$cloud" --to "$new_data" \
    --key "$backup_key" || die "chatvault restore failed"
}

wrong_key_is_refused() {
  say "Trying a wrong key first: chatvault must refuse it and say so"
  local wrong rc=0
  wrong="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  "$chatvault" --home "$new_home" restore --from "$cloud" --to "$work/wrong-key" --key "$wrong" \
    || rc=$?
  [[ $rc -eq 4 ]] || die "a wrong key gave exit code $rc, expected 4 (wrong key)"
  [[ ! -e "$work/wrong-key/msgstore.db" ]] || die "a wrong key produced a msgstore.db"
  ok "wrong key refused (exit code 4), nothing written"
}

protection="${CHATVAULT_DEMO_PROTECTION:-password}"
case "$protection" in
  password) protect=protect_with_password; restore=restore_with_password
            refuse_wrong=wrong_password_is_counted ;;
  key) protect=protect_with_key; restore=restore_with_key; refuse_wrong=wrong_key_is_refused ;;
  *) die "unknown CHATVAULT_DEMO_PROTECTION '$protection' (known: password, key)" ;;
esac

"$protect"

say "Backing up: msgstore.db and media are encrypted on this device, then stored in $cloud"
"$chatvault" --home "$phone_home" backup || die "chatvault backup failed"
"$chatvault" --home "$phone_home" status || die "chatvault status failed"

say "Losing the phone: its chat data and chatvault state are gone"
rm -rf "$work/phone"
[[ ! -e "$phone_data" && ! -e "$phone_home" ]] || die "could not delete the old phone's files"
ok "only the cloud copy remains, and what the user keeps: the password (key in the vault) or the 64-digit key"

"$refuse_wrong"
"$restore"

say "Checking that nothing was lost"
[[ -f "$new_data/msgstore.db" ]] || die "the restore has no msgstore.db"
integrity="$(sqlite3 -readonly "$new_data/msgstore.db" 'PRAGMA integrity_check')"
[[ "$integrity" == ok ]] || die "restored msgstore.db fails SQLite's integrity check: $integrity"
ok "msgstore.db passes SQLite's integrity check"
for table in message message_media chat jid; do
  query="SELECT * FROM $table ORDER BY 1"
  if ! cmp -s <(sqlite3 -readonly "$reference/msgstore.db" "$query") \
              <(sqlite3 -readonly "$new_data/msgstore.db" "$query"); then
    die "table '$table' differs after the restore"
  fi
done
messages="$(sqlite3 -readonly "$new_data/msgstore.db" 'SELECT count(*) FROM message')"
ok "all $messages messages are back, row for row, with their chats and media references"
# Media: every file byte-identical, and nothing missing or extra. (SQLite's -wal/-shm side
# files are transient and may differ; the database content was compared above.)
diff -r -q -x 'msgstore.db*' "$reference" "$new_data" \
  || die "the restored directory is not identical to the original (see the lines above)"
media_files="$(find "$new_data/Media" -type f | wc -l)"
ok "all $media_files media files are byte-identical"

say "Backing up from the new phone: it continues the old phone's backups, same place, same key"
out="$("$chatvault" --home "$new_home" backup)" || die "chatvault backup on the new phone failed"
printf '%s\n' "$out"
[[ "$out" == "Backup 2 done"* ]] || die "the new phone did not continue with backup 2"
ok "backup 2 made from the new phone, next to the old phone's backup 1"

say "${green}Demo passed:${plain}${bold} backup, lost phone, restore with the $protection, nothing lost, backing up again"
