// The operator's commands around the record store: account tokens, backup, restore and the
// audit-log replay that follows a restore (docs/OPERATIONS.md).
#include <ctime>
#include <iostream>

#include "chatvault/common/file.h"
#include "chatvault/vault/account_token.h"
#include "chatvault/vault/audit_replay.h"
#include "chatvault/vault/server_secrets.h"
#include "chatvault/vaultstore/sqlite_backup.h"
#include "chatvault/vaultstore/store_lock.h"
#include "vault/keyvaultd/commands.h"

namespace chatvault::keyvaultd {
namespace {

// Lines after this long before the snapshot are replayed too: the replay is idempotent, and a
// line written just before the snapshot's read transaction may not be in it.
constexpr int64_t kReplayMarginMs = 60'000;

Result<std::string> SqliteFile(const std::string& store, const char* command) {
  std::string path = vaultstore::SqlitePath(store);
  if (path.empty()) {
    return InvalidArgument(std::string(command) +
                           " works on sqlite: stores; for etcd use 'etcdctl snapshot save' and "
                           "'etcdctl snapshot restore' (docs/OPERATIONS.md)");
  }
  return path;
}

std::string Describe(const vaultstore::StoreSnapshot& s) {
  const time_t taken = static_cast<time_t>(s.taken_unix_ms / 1000);
  char when[64] = "an unknown time";
  struct tm utc {};
  if (s.taken_unix_ms > 0 && gmtime_r(&taken, &utc)) {
    std::strftime(when, sizeof when, "%F %T UTC", &utc);
  }
  return std::to_string(s.accounts) + " account records, store version " +
         std::to_string(s.last_version) + ", snapshot of " + when + " (time_ms " +
         std::to_string(s.taken_unix_ms) + "), " + std::to_string(s.bytes) + " bytes";
}

}  // namespace

int IssueToken(const std::string& keys_file, const std::string& account, int64_t ttl,
               const std::string& key_id) {
  auto keys = vault::TokenKeys::ReadFile(keys_file);
  if (!keys.ok()) return Fail(keys.status());
  auto token = keys->Issue(account, std::time(nullptr) + ttl, key_id);
  if (!token.ok()) return Fail(token.status());
  std::cout << *token << "\n";
  return 0;
}

int BackupStore(const std::string& store, const std::string& to) {
  auto path = SqliteFile(store, "backup-store");
  if (!path.ok()) return Fail(path.status());
  auto snapshot = vaultstore::BackupSqliteStore(*path, to);
  if (!snapshot.ok()) return Fail(snapshot.status().Annotate("backing up " + *path));
  std::cout << "keyvaultd: backed up " << *path << " to " << to << ": " << Describe(*snapshot)
            << "\n";
  return 0;
}

int RestoreStore(const std::string& store, const std::string& from) {
  auto path = SqliteFile(store, "restore-store");
  if (!path.ok()) return Fail(path.status());
  // The same lock keyvaultd serve takes: no restore under a running vault.
  auto lock = vaultstore::StoreLock::Acquire(store, "keyvaultd restore-store");
  if (!lock.ok()) return Fail(lock.status());
  auto snapshot = vaultstore::RestoreSqliteStore(from, *path);
  if (!snapshot.ok()) return Fail(snapshot.status().Annotate("restoring " + from));
  std::cout << "keyvaultd: restored " << *path << " from " << from << ": " << Describe(*snapshot)
            << "\nkeyvaultd: the store it replaced is kept beside it as " << *path
            << ".before-restore-*; now replay the audit log (keyvaultd audit-replay) before "
               "starting the vault\n";
  return 0;
}

int AuditReplay(const ReplayFlags& f) {
  auto lock = vaultstore::StoreLock::Acquire(f.store, "keyvaultd audit-replay");
  if (!lock.ok()) return Fail(lock.status());
  vault::ReplayOptions options;
  options.dry_run = f.dry_run;
  options.since_ms = f.since_ms;
  if (options.since_ms < 0) {
    const std::string path = vaultstore::SqlitePath(f.store);
    auto snapshot = path.empty() ? Result<vaultstore::StoreSnapshot>(InvalidArgument("no file"))
                                 : vaultstore::InspectSqliteStore(path);
    if (!snapshot.ok() || snapshot->taken_unix_ms == 0) {
      return Fail(InvalidArgument(
          "--since is required: this store does not record when its snapshot was taken (only "
          "stores restored from keyvaultd backup-store do)"));
    }
    options.since_ms = snapshot->taken_unix_ms - kReplayMarginMs;
  }
  std::vector<vault::AuditLine> lines;
  for (const std::string& log : f.audit_logs) {
    auto text = ReadFileToString(log);
    if (!text.ok()) return Fail(text.status().Annotate("reading the audit log"));
    auto parsed = vault::ParseAuditLines(*text, log);
    if (!parsed.ok()) return Fail(parsed.status());
    lines.insert(lines.end(), parsed->begin(), parsed->end());
  }
  auto opened = OpenVault(f.store, f.hsm, NewSecrets::kMustExist);
  if (!opened.ok()) return Fail(opened.status());
  auto report =
      vault::ReplayAuditLog(*opened->store, opened->secrets.sealing_key, std::move(lines), options);
  if (!report.ok()) return Fail(report.status().Annotate("replaying the audit log"));
  for (const vault::ReplayChange& change : report->changes) {
    const bool realm = change.record == vault::AuditedRecord::kRealm;
    std::cout << (realm ? "realm account " : "account ") << change.account << ": " << change.what
              << "\n";
  }
  std::cout << "keyvaultd: " << (f.dry_run ? "would replay " : "replayed ")
            << report->lines_considered << " audit lines since time_ms " << options.since_ms
            << " over " << report->accounts_in_log << " accounts: " << report->counters_raised
            << " counters raised, " << report->counters_lowered << " lowered by logins, "
            << report->destroyed << " records destroyed, " << report->deleted << " deleted, "
            << report->registered_again << " restored with an older registration, "
            << report->not_in_store << " not in the restored store\n";
  return 0;
}

}  // namespace chatvault::keyvaultd
