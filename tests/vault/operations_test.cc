// keyvaultd as an operator runs it (issue 13), against real processes: one vault per store, the
// configuration file and --version, SIGHUP reloading the certificate and the token keys while
// logins run, token keys rotated with tokens of both keys in flight, backups taken while
// logins run, a restore followed by the audit-log replay, and per-route latency histograms.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "chatvault/vaultclient/vault_client.h"
#include "support/status_matchers.h"
#include "vault/attack/raw_tls.h"
#include "vault/keyvaultd_process.h"
#include "vault/spawned_process.h"

namespace chatvault::vaultclient {
namespace {

using ::chatvault::testing::IsOk;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::KeyvaultdProcess;
using testing::RunCommand;

constexpr const char* kPassword = "correct horse 42";
constexpr const char* kWrong = "wrong guess 7";
const std::string kSecretA(64, 'a');
const std::string kSecretB(64, 'b');

ClientOptions WeakKsfAllowed() {
  ClientOptions options;
  options.allow_weak_ksf = true;
  return options;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// The serial number of the certificate a new TLS handshake with the vault gets, or of a file.
std::string ServedSerial(int port, const std::string& ca) {
  return RunCommand("openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -CAfile " +
                    ca + " </dev/null 2>/dev/null | openssl x509 -noout -serial");
}
std::string FileSerial(const std::string& cert) {
  return RunCommand("openssl x509 -noout -serial -in " + cert + " 2>/dev/null");
}

class OperationsTest : public ::testing::Test {
 protected:
  // A vault whose certificate a test CA signed (so a renewed one is accepted by the same
  // clients) and whose token keys file the test writes.
  void StartVault(const std::string& keys, const std::string& flags = "") {
    vault_ = std::make_unique<KeyvaultdProcess>(std::string(KeyvaultdProcess::kTestFlags) +
                                                " --audit-log " + audit_dir_.Sub("audit.jsonl") +
                                                " " + flags);
    ASSERT_EQ(RunCommand(Script("make-test-cert.sh") + " " + vault_->dir() + "/tls " + CaDir()),
              "");
    WriteText(vault_->dir() + "/token-secret", keys);
    ASSERT_EQ(vault_->Start(), "");
  }

  static std::string Script(const std::string& name) {
    return std::string(CHATVAULT_SOURCE_DIR) + "/tools/vault/" + name;
  }
  std::string CaDir() const { return audit_dir_.Sub("ca"); }
  std::string Ca() const { return CaDir() + "/ca.pem"; }

  std::unique_ptr<VaultClient> Client() {
    return std::move(VaultClient::Connect({vault_->url(), Ca()}, WeakKsfAllowed()).value());
  }

  std::unique_ptr<httplib::Client> Http() {
    auto c = std::make_unique<httplib::Client>(vault_->url());
    c->set_ca_cert_path(Ca().c_str());
    c->enable_server_certificate_verification(true);
    return c;
  }

  std::string Metrics() {
    auto res = Http()->Get("/metrics", {{"Authorization", "Bearer " + vault_->metrics_token()}});
    return res && res->status == 200 ? res->body : "";
  }
  double Metric(const std::string& series) {
    const std::string text = Metrics();
    const size_t at = text.find("\n" + series + " ");
    EXPECT_NE(at, std::string::npos) << series;
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
  }

  // Status of POST /v1/challenge with `token`: 200 when the vault takes the token.
  int Challenge(const std::string& account, const std::string& token) {
    auto res =
        Http()->Post("/v1/challenge", nlohmann::json{{"account", account}, {"token", token}}.dump(),
                     "application/json");
    return res ? res->status : 0;
  }

  key::BackupKey Register(const std::string& account, const std::string& password) {
    key::BackupKey k = key::BackupKey::Generate();
    Status s = Client()->Register(account, vault_->Token(account), password, k);
    EXPECT_THAT(s, IsOk()) << account;
    return k;
  }

  // "N attempts remain" of a wrong password, or the failure's code name.
  std::string WrongGuess(const std::string& account) {
    auto got = Client()->Recover(account, kWrong);
    if (got.ok()) return "the wrong password worked";
    static const std::regex kLeft(R"((\d+) attempts? remain)");
    std::smatch m;
    if (got.status().code() == Code::kPermissionDenied &&
        std::regex_search(got.status().message(), m, kLeft)) {
      return m[1].str() + " left";
    }
    return std::string(CodeName(got.status().code()));
  }

  testing::TempDir audit_dir_;
  std::unique_ptr<KeyvaultdProcess> vault_;
};

// Logins on their own accounts from several threads until stopped; half the threads connect
// anew for every login (a TLS handshake each), half keep their connection.
class LoginLoad {
 public:
  LoginLoad(const std::string& url, const std::string& ca,
            const std::vector<std::pair<std::string, key::BackupKey>>& accounts) {
    for (size_t i = 0; i < accounts.size(); ++i) {
      threads_.emplace_back(
          [this, url, ca, i, account = accounts[i].first, key = accounts[i].second.Hex()] {
            std::unique_ptr<VaultClient> kept;
            while (!stop_) {
              if (!kept || i % 2 == 1) {
                kept = std::move(VaultClient::Connect({url, ca}, WeakKsfAllowed()).value());
              }
              auto got = kept->Recover(account, kPassword);
              if (got.ok() && got->key.Hex() == key) {
                ++ok_;
                continue;
              }
              std::lock_guard<std::mutex> lock(mu_);
              failures_.push_back(account + ": " +
                                  (got.ok() ? "another key" : got.status().ToString()));
            }
          });
    }
  }
  ~LoginLoad() { Stop(); }

  int ok() const { return ok_; }
  // Waits until `more` logins succeeded after now.
  bool WaitFor(int more, seconds timeout = seconds(120)) {
    const int target = ok_ + more;
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (ok_ < target && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    return ok_ >= target;
  }
  std::vector<std::string> Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    return failures_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0};
  std::mutex mu_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

TEST_F(OperationsTest, ASecondVaultOnTheSameStoreRefusesToStartAndNamesTheFirst) {
  StartVault("k1 " + kSecretA);
  Register("alice", kPassword);
  const std::string d = vault_->dir();
  const std::string second = "serve --listen 127.0.0.1:0 --store sqlite:" + d +
                             "/records.db --tls-cert " + d + "/tls/cert.pem --tls-key " + d +
                             "/tls/key.pem " + vault_->HsmFlags() + " --token-keys-file " + d +
                             "/token-secret";
  auto [rc, out] = vault_->Run(second);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("the record store " + d + "/records.db is in use by keyvaultd serve (pid " +
                     std::to_string(vault_->pid()) + ")"),
            std::string::npos)
      << out;
  // Nor can the store be restored under it.
  auto [restore_rc, restore_out] =
      vault_->Run("restore-store --store sqlite:" + d + "/records.db --from " + d + "/records.db");
  EXPECT_EQ(restore_rc, 1) << restore_out;
  EXPECT_NE(restore_out.find("in use by keyvaultd serve"), std::string::npos) << restore_out;
  EXPECT_TRUE(Client()->Recover("alice", kPassword).ok());
  // The lock goes with the process, even killed: the next one starts.
  vault_->Stop(/*kill9=*/true);
  ASSERT_EQ(vault_->Start(), "");
  EXPECT_TRUE(Client()->Recover("alice", kPassword).ok());
}

// Every serve flag, with a value that is not its default, in one file; the command line still
// wins. The list is checked against `keyvaultd serve --help`, so a new flag needs a line here.
TEST_F(OperationsTest, AConfigurationFileSetsEveryServeFlagAndTheCommandLineWins) {
  StartVault("k1 " + kSecretA);  // makes the HSM token, certificate and keys
  vault_->Stop();
  const std::string d = vault_->dir();
  const std::string conf = d + "/keyvaultd.conf";
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"listen", "127.0.0.1:0"},
      {"port-file", d + "/conf-port"},
      {"store", "sqlite:" + d + "/records.db"},
      {"tls-cert", d + "/tls/cert.pem"},
      {"tls-key", d + "/tls/key.pem"},
      {"pkcs11-module", ReadAll(d + "/hsm/module")},
      {"hsm-token", "chatvault-vault"},
      {"hsm-pin-file", d + "/hsm/pin"},
      {"token-keys-file", d + "/token-secret"},
      {"max-guesses", "3"},
      {"ksf-memory-kib", "64"},
      {"ksf-iterations", "1"},
      {"login-ttl", "120"},
      {"audit-log", d + "/conf-audit.jsonl"},
      {"audit-sync", "true"},
      {"instance-id", "from the file"},
      {"threads", "8"},
      {"io-threads", "1"},
      {"max-body-bytes", "8192"},
      {"max-header-bytes", "4096"},
      {"max-header-fields", "32"},
      {"max-connections", "100"},
      {"max-connections-per-address", "50"},
      {"max-queued-requests", "16"},
      {"max-requests-per-connection", "1000"},
      {"handshake-timeout", "5"},
      {"header-timeout", "5"},
      {"body-timeout", "5"},
      {"write-timeout", "5"},
      {"idle-timeout", "30"},
      {"metrics-token-file", d + "/metrics-token"},
      {"metrics-listen", "127.0.0.1:0"},
  };
  std::string text = "# written by the test\n";
  std::set<std::string> named;
  for (const auto& [name, value] : settings) {
    text += name + " = \"" + value + "\"\n";
    named.insert(name);
  }
  WriteText(conf, text);
  auto [help_rc, help] = vault_->Run("serve --help");
  ASSERT_EQ(help_rc, 0) << help;
  static const std::regex kFlag(R"(\n\s+--([a-z0-9-]+))");
  const std::string example = ReadAll(Script("keyvaultd.conf.example"));
  for (auto it = std::sregex_iterator(help.begin(), help.end(), kFlag);
       it != std::sregex_iterator(); ++it) {
    const std::string flag = (*it)[1].str();
    if (flag != "help" && flag != "config") {
      EXPECT_TRUE(named.count(flag)) << "--" << flag << " is missing from this test's file";
      const bool listed = example.find("\n" + flag + " = ") != std::string::npos ||
                          example.find("\n# " + flag + " = ") != std::string::npos;
      EXPECT_TRUE(listed) << flag << " is not in tools/vault/keyvaultd.conf.example";
    }
  }
  ::setenv("SOFTHSM2_CONF", (d + "/hsm/softhsm2.conf").c_str(), 1);
  testing::SpawnedProcess serve(
      {KeyvaultdProcess::Binary(), "serve", "--config", conf, "--max-guesses", "4"},
      d + "/conf.log");
  const std::string port = testing::WaitForFile(serve, d + "/conf-port");
  ASSERT_NE(port, "") << serve.Output();
  const std::string log = serve.Output();
  EXPECT_NE(log.find("up to 4 guesses per record"), std::string::npos) << log;
  EXPECT_NE(log.find("/metrics on https://127.0.0.1:"), std::string::npos) << log;
  auto client = std::move(
      VaultClient::Connect({"https://127.0.0.1:" + port, Ca()}, WeakKsfAllowed()).value());
  ASSERT_TRUE(
      client->Register("carol", vault_->Token("carol"), kPassword, key::BackupKey::Generate())
          .ok());
  auto wrong = client->Recover("carol", kWrong);
  EXPECT_NE(wrong.status().message().find("3 attempts remain"), std::string::npos)
      << wrong.status().ToString();  // --max-guesses 4 from the command line, not 3
  EXPECT_NE(ReadAll(d + "/conf-audit.jsonl").find("\"instance\":\"from the file\""),
            std::string::npos);
  serve.Kill();

  // The operator's mistakes: each stops keyvaultd with the file's line and exit status 2.
  const std::pair<std::string, std::string> mistakes[] = {
      {"listn = 127.0.0.1:0\n", "line 1: unknown setting 'listn'"},
      {"store = \"sqlite:x\"\nconfig = other.conf\n", "line 2: unknown setting 'config'"},
      {"audit-sync = yes\n", "line 1: 'audit-sync' is true or false"},
      {"max-guesses = 1000\n", "line 1: max-guesses"},
      {"threads = lots\n", "line 1: threads"},
  };
  for (const auto& [bad, says] : mistakes) {
    WriteText(conf, bad);
    auto [rc, out] = vault_->Run("serve --config " + conf);
    EXPECT_EQ(rc, 2) << bad << out;
    EXPECT_NE(out.find(conf + " " + says), std::string::npos) << out;
  }
  auto [missing_rc, missing] = vault_->Run("serve --listen 127.0.0.1:0");
  EXPECT_EQ(missing_rc, 2) << missing;
  EXPECT_NE(missing.find("--store is required"), std::string::npos) << missing;
}

TEST_F(OperationsTest, VersionNamesTheReleaseAndItsLibraries) {
  int rc = 0;
  const std::string out = RunCommand(KeyvaultdProcess::Binary() + " --version", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(out.starts_with("keyvaultd 0.")) << out;
  EXPECT_NE(out.find("OpenSSL 3"), std::string::npos) << out;
  EXPECT_NE(out.find("record stores: sqlite"), std::string::npos) << out;
}

// SIGHUP while logins run: new handshakes get the renewed certificate, a connection opened
// before keeps working, a broken certificate file changes nothing, and no login fails.
TEST_F(OperationsTest, SighupReloadsTheCertificateWhileLoginsRun) {
  StartVault("k1 " + kSecretA);
  std::vector<std::pair<std::string, key::BackupKey>> accounts;
  for (int i = 0; i < 6; ++i) {
    const std::string account = "load" + std::to_string(i);
    accounts.emplace_back(account, Register(account, kPassword));
  }
  const std::string tls = vault_->dir() + "/tls";
  const std::string first = ServedSerial(vault_->port(), Ca());
  ASSERT_EQ(first, FileSerial(tls + "/cert.pem"));
  auto target = vaultattack::ParseTarget(vault_->url(), Ca());
  ASSERT_THAT(target, IsOk());
  auto client_tls = vaultattack::TlsClientContext::Create(*target);
  ASSERT_THAT(client_tls, IsOk());
  auto before = vaultattack::RawConnection::Open(*target, "", seconds(10));
  ASSERT_THAT(before, IsOk());
  ASSERT_TRUE((*before)->Handshake(**client_tls, seconds(10)).ok());
  const std::string health = "GET /v1/health HTTP/1.1\r\nHost: vault\r\n\r\n";
  ASSERT_TRUE((*before)->Write(health).ok());
  ASSERT_EQ((*before)->ReadReply(seconds(10)), 200);

  LoginLoad load(vault_->url(), Ca(), accounts);
  ASSERT_TRUE(load.WaitFor(12));
  // A renewed certificate from the same CA, then SIGHUP.
  ASSERT_EQ(RunCommand(Script("make-test-cert.sh") + " " + tls + " " + CaDir()), "");
  const std::string renewed = FileSerial(tls + "/cert.pem");
  ASSERT_NE(renewed, first);
  ASSERT_TRUE(vault_->Signal(SIGHUP));
  ASSERT_TRUE(vault_->WaitForLog("SIGHUP: reloaded the TLS certificate: CN=localhost"))
      << vault_->Log();
  EXPECT_EQ(ServedSerial(vault_->port(), Ca()), renewed);
  ASSERT_TRUE(load.WaitFor(12));
  // The connection made before the reload is still served, with the certificate it began with.
  ASSERT_TRUE((*before)->Write(health).ok());
  EXPECT_EQ((*before)->ReadReply(seconds(10)), 200);
  // A broken file: the vault says so and keeps the renewed certificate.
  WriteText(tls + "/cert.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n");
  ASSERT_TRUE(vault_->Signal(SIGHUP));
  ASSERT_TRUE(vault_->WaitForLog("could not reload the TLS certificate, kept the one in use"))
      << vault_->Log();
  EXPECT_EQ(ServedSerial(vault_->port(), Ca()), renewed);
  ASSERT_TRUE(load.WaitFor(12));
  const std::vector<std::string> failures = load.Stop();
  EXPECT_TRUE(failures.empty()) << failures.size() << " logins failed, first: " << failures[0];
  std::printf("  %d logins while the certificate was reloaded twice (once from a bad file)\n",
              load.ok());
  // Two SIGHUPs: certificate, token keys and audit log reloaded, then the keys and the log
  // again, and the certificate failed.
  EXPECT_EQ(Metric("keyvaultd_reloads_total"), 5);
  EXPECT_EQ(Metric("keyvaultd_reload_failures_total"), 1);
  EXPECT_GT(Metric("keyvaultd_tls_certificate_expiry_seconds"), 1.7e9);
  EXPECT_TRUE(vault_->Signal(SIGHUP));  // and SIGHUP never stops it
  ASSERT_TRUE(vault_->WaitForLog("could not reload the TLS certificate", 2));
  EXPECT_TRUE(Client()->Health().ok());
}

// A new key is added, made the issuing one, and the old one retired, while requests with tokens
// of both keys keep arriving: none of them fails until its key is retired.
TEST_F(OperationsTest, TokenKeysRotateWithTokensOfBothKeysInFlight) {
  StartVault("old " + kSecretA + "\n");
  const std::string keys = vault_->dir() + "/token-secret";
  const std::string old_token = vault_->Token("alice");
  ASSERT_TRUE(old_token.starts_with("old.")) << old_token;
  key::BackupKey k = key::BackupKey::Generate();
  ASSERT_TRUE(Client()->Register("alice", old_token, kPassword, k).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0};
  std::mutex mu;
  std::string new_token;  // set once the new key is listed
  std::vector<std::string> failures;
  std::vector<std::thread> senders;
  for (int i = 0; i < 4; ++i) {
    senders.emplace_back([&, i] {
      while (!stop) {
        std::string token = old_token;
        if (i % 2 == 1) {
          std::lock_guard<std::mutex> lock(mu);
          if (new_token.empty()) continue;
          token = new_token;
        }
        const int status = Challenge("alice", token);
        if (status == 200) {
          ++accepted;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back(token.substr(0, 4) + " got " + std::to_string(status));
        }
      }
    });
  }
  auto reload = [&](const std::string& text, int nth) {
    WriteText(keys, text);
    ASSERT_TRUE(vault_->Signal(SIGHUP));
    ASSERT_TRUE(vault_->WaitForLog("SIGHUP: reloaded the token keys", nth)) << vault_->Log();
    const int seen = accepted;
    while (accepted < seen + 20) std::this_thread::sleep_for(milliseconds(10));
  };
  // 1. The new key verifies; the old one still issues.
  reload("old " + kSecretA + "\nnew " + kSecretB + "\n", 1);
  EXPECT_TRUE(vault_->Token("alice").starts_with("old."));
  {
    std::lock_guard<std::mutex> lock(mu);
    new_token = vault_->Token("alice", 3600, "new");
  }
  ASSERT_TRUE(new_token.starts_with("new.")) << new_token;
  // 2. The new key issues (the chat service was given it); old tokens are still out there.
  reload("new " + kSecretB + "\nold " + kSecretA + "\n", 2);
  EXPECT_TRUE(vault_->Token("alice").starts_with("new."));
  stop = true;
  for (auto& t : senders) t.join();
  EXPECT_TRUE(failures.empty()) << failures.size() << " requests failed, first: " << failures[0];
  std::printf("  %d token checks with both keys in flight, none refused\n", accepted.load());
  // 3. Retired once the old tokens expired: now they are refused, and the new ones work.
  WriteText(keys, "new " + kSecretB + "\n");
  ASSERT_TRUE(vault_->Signal(SIGHUP));
  ASSERT_TRUE(vault_->WaitForLog("SIGHUP: reloaded the token keys", 3));
  EXPECT_EQ(Challenge("alice", old_token), 403);
  EXPECT_EQ(Challenge("alice", new_token), 200);
  EXPECT_TRUE(Client()->Register("alice", new_token, "changed pass 2", k).ok());
  EXPECT_NE(ReadAll(audit_dir_.Sub("audit.jsonl")).find("\"event\":\"token_rejected\""),
            std::string::npos);
  // A bad keys file is refused and the keys in use stay.
  WriteText(keys, "new short\n");
  ASSERT_TRUE(vault_->Signal(SIGHUP));
  ASSERT_TRUE(vault_->WaitForLog("could not reload the token keys, kept the one in use"))
      << vault_->Log();
  EXPECT_EQ(Challenge("alice", new_token), 200);
  EXPECT_EQ(vault_->Log().find(kSecretB), std::string::npos) << "a secret reached the log";
}

// backup-store while logins run, then what happens to accounts after the snapshot, a restore,
// and the audit-log replay that makes the restored records as strict as the lost ones.
TEST_F(OperationsTest, BackupUnderLoadThenRestoreAndReplayTheAuditLog) {
  StartVault("k1 " + kSecretA);
  const std::string d = vault_->dir();
  const std::string store = "sqlite:" + d + "/records.db";
  std::vector<std::pair<std::string, key::BackupKey>> accounts;
  for (int i = 0; i < 4; ++i) {
    const std::string account = "load" + std::to_string(i);
    accounts.emplace_back(account, Register(account, kPassword));
  }
  Register("alice", kPassword);
  Register("bob", kPassword);
  key::BackupKey carol = Register("carol", kPassword);
  key::BackupKey dave = Register("dave", kPassword);
  Register("erin", kPassword);
  std::string backup;
  {
    LoginLoad load(vault_->url(), Ca(), accounts);
    ASSERT_TRUE(load.WaitFor(8));
    for (int i = 0; i < 3; ++i) {
      backup = audit_dir_.Sub("backup-" + std::to_string(i) + ".db");
      auto [rc, out] = vault_->Run("backup-store --store " + store + " --to " + backup);
      ASSERT_EQ(rc, 0) << out;
      EXPECT_NE(out.find("9 account records"), std::string::npos) << out;
      ASSERT_TRUE(load.WaitFor(4));
    }
    const std::vector<std::string> failures = load.Stop();
    EXPECT_TRUE(failures.empty()) << failures.size() << " logins failed, first: " << failures[0];
    std::printf("  %d logins while 3 backups were taken\n", load.ok());
  }
  auto [again_rc, again] = vault_->Run("backup-store --store " + store + " --to " + backup);
  EXPECT_EQ(again_rc, 1) << "a backup replaced a file: " << again;

  // After the snapshot.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(WrongGuess("alice"), std::to_string(9 - i) + " left");
  for (int i = 0; i < 10; ++i) (void)WrongGuess("bob");
  EXPECT_EQ(WrongGuess("bob"), "locked out");
  ASSERT_TRUE(Client()->Delete("carol", vault_->Token("carol"), carol).ok());
  ASSERT_TRUE(Client()->Register("dave", vault_->Token("dave"), "daves new pass 2", dave).ok());
  EXPECT_EQ(WrongGuess("dave"), "9 left");
  EXPECT_EQ(WrongGuess("dave"), "8 left");
  EXPECT_EQ(WrongGuess("erin"), "9 left");
  EXPECT_EQ(WrongGuess("erin"), "8 left");
  ASSERT_TRUE(Client()->Recover("erin", kPassword).ok());
  Register("frank", kPassword);
  vault_->Stop();

  auto [restore_rc, restored] = vault_->Run("restore-store --store " + store + " --from " + backup);
  ASSERT_EQ(restore_rc, 0) << restored;
  const std::string replay = "audit-replay --store " + store + " " + vault_->HsmFlags() +
                             " --audit-log " + audit_dir_.Sub("audit.jsonl");
  auto [dry_rc, dry] = vault_->Run(replay + " --dry-run");
  ASSERT_EQ(dry_rc, 0) << dry;
  EXPECT_NE(dry.find("would replay"), std::string::npos) << dry;
  auto [replay_rc, replayed] = vault_->Run(replay);
  ASSERT_EQ(replay_rc, 0) << replayed;
  std::printf("%s\n", replayed.c_str());
  // alice and dave raised, bob destroyed, carol deleted, dave an older registration, frank gone.
  // (A load login whose guess the snapshot caught open, and which settled after it, is
  // lowered back: the log shows the right password.)
  EXPECT_NE(replayed.find(": 2 counters raised, "), std::string::npos) << replayed;
  EXPECT_NE(replayed.find("1 records destroyed, 1 deleted, 1 restored with an older registration, "
                          "1 not in the restored store"),
            std::string::npos)
      << replayed;
  auto [twice_rc, twice] = vault_->Run(replay);
  ASSERT_EQ(twice_rc, 0) << twice;
  EXPECT_NE(twice.find("0 counters raised, 0 lowered by logins, 0 records destroyed, 0 deleted"),
            std::string::npos)
      << "a second replay changed more: " << twice;

  ASSERT_EQ(vault_->Start(), "");
  EXPECT_EQ(WrongGuess("alice"), "6 left");  // 3 after the snapshot, and this one
  EXPECT_EQ(Client()->Recover("bob", kPassword).status().code(), Code::kLockedOut);
  EXPECT_EQ(Client()->Recover("carol", kPassword).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(WrongGuess("dave"), "7 left");  // the new registration's 2, and this one
  auto old_registration = Client()->Recover("dave", kPassword);
  ASSERT_THAT(old_registration, IsOk());
  EXPECT_EQ(old_registration->key.Hex(), dave.Hex());
  EXPECT_EQ(WrongGuess("erin"), "9 left");  // its login settled the guesses before it
  EXPECT_EQ(Client()->Recover("frank", kPassword).status().code(), Code::kPermissionDenied);
  for (const auto& [account, k] : accounts) {
    auto got = Client()->Recover(account, kPassword);
    ASSERT_THAT(got, IsOk()) << account;
    EXPECT_EQ(got->key.Hex(), k.Hex());
  }
}

TEST_F(OperationsTest, MetricsHaveLatencyHistogramsPerRoute) {
  StartVault("k1 " + kSecretA);
  Register("alice", kPassword);
  ASSERT_TRUE(Client()->Recover("alice", kPassword).ok());
  ASSERT_TRUE(Client()->Recover("alice", kPassword).ok());
  auto probe = Http()->Post("/v1/a-route-nobody-has", "{}", "application/json");
  ASSERT_TRUE(probe);
  const std::string s = "keyvaultd_request_duration_seconds";
  EXPECT_EQ(Metric(s + "_count{route=\"/v1/recover/start\"}"), 2);
  EXPECT_EQ(Metric(s + "_bucket{route=\"/v1/recover/finish\",le=\"+Inf\"}"), 2);
  EXPECT_EQ(Metric(s + "_count{route=\"/v1/register/finish\"}"), 1);
  EXPECT_GE(Metric(s + "_count{route=\"other\"}"), 1);
  EXPECT_GT(Metric(s + "_sum{route=\"/v1/recover/start\"}"), 0);
  const std::string text = Metrics();
  EXPECT_EQ(text.find("a-route-nobody-has"), std::string::npos);
  // Buckets only ever grow with `le`.
  static const std::regex kBucket(
      R"(request_duration_seconds_bucket\{route="/v1/recover/start",le="[^"]+"\} (\d+))");
  int previous = 0, buckets = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kBucket);
       it != std::sregex_iterator(); ++it, ++buckets) {
    const int value = std::stoi((*it)[1].str());
    EXPECT_GE(value, previous);
    previous = value;
  }
  EXPECT_EQ(buckets, 15);
}

}  // namespace
}  // namespace chatvault::vaultclient
