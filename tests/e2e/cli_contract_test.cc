// The command line's contract with scripts (docs/CLI.md): global flags before or after the
// command, each exit code the CLI gives, and the --json fields of each command.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "e2e/cli_test_base.h"
#include "e2e/json_shape.h"

namespace chatvault::testing {
namespace {
namespace fs = std::filesystem;

// A loopback port that refuses connections: bound, never listening, held until destroyed.
class ClosedPort {
 public:
  ClosedPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~ClosedPort() { ::close(fd_); }
  std::string Url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_;
  int port_ = 0;
};

class CliContract : public CliTest {
 protected:
  // Runs `args` as text and with --json: the same exit code, one line on stderr
  // ("chatvault: <code>: ...", after any prompts) and the error object on stdout.
  void ExpectFailure(Cli& cli, const std::vector<std::string>& args, int rc,
                     const std::string& code, const std::string& stdin_text = "",
                     const std::map<std::string, std::string>& env = {}) {
    SCOPED_TRACE(::testing::PrintToString(args));
    const CliResult text = cli.Run(args, env, stdin_text);
    EXPECT_EQ(text.rc, rc) << text.err;
    EXPECT_TRUE(text.out.empty()) << text.out;
    const size_t last = text.err.rfind("chatvault: " + code + ": ");
    ASSERT_NE(last, std::string::npos) << text.err;
    EXPECT_EQ(text.err.find('\n', last), text.err.size() - 1) << text.err;
    std::vector<std::string> with_json = args;
    with_json.push_back("--json");
    const CliResult json = cli.Run(with_json, env, stdin_text);
    EXPECT_EQ(json.rc, rc) << json.out;
    EXPECT_TRUE(IsFailure(json.out, code));
  }
  void ExpectFailure(const std::vector<std::string>& args, int rc, const std::string& code) {
    ExpectFailure(cli_, args, rc, code);
  }

  std::vector<std::string> Chunks() {
    std::vector<std::string> chunks;
    for (const auto& e : fs::recursive_directory_iterator(store_ + "/chunks")) {
      if (e.is_regular_file()) chunks.push_back(e.path());
    }
    std::sort(chunks.begin(), chunks.end());
    return chunks;
  }
};

TEST_F(CliContract, GlobalFlagsWorkBeforeAndAfterTheCommand) {
  auto init =
      cli_.Run({"init", "--key", "--data", data_, "--to", store_, "--i-saved-the-key", "--json"});
  ASSERT_EQ(init.rc, 0) << init.err;
  EXPECT_EQ(init.Json()["state"], "ready");

  auto after = cli_.Run({"backup", "-q"});
  ASSERT_EQ(after.rc, 0) << after.err;
  EXPECT_TRUE(after.out.starts_with("Backup 1 done")) << after.out;
  auto before = cli_.Run({"--quiet", "--json", "backup"});
  ASSERT_EQ(before.rc, 0) << before.err;
  EXPECT_EQ(before.Json()["sequence"], 2);

  auto status_after = cli_.Run({"status", "--json"});
  auto status_before = cli_.Run({"--json", "status"});
  ASSERT_EQ(status_after.rc, 0) << status_after.err;
  EXPECT_EQ(status_after.Json()["current"]["sequence"], 2);
  EXPECT_EQ(status_after.Json(), status_before.Json());

  // --home after the command, and the other flags on either side of it.
  auto home_after = cli_.RunWithoutHome({"verify", "--home", cli_.home(), "--json"});
  EXPECT_EQ(home_after.rc, 0) << home_after.err;
  EXPECT_EQ(home_after.Json()["sequence"], 2);
  auto mixed = cli_.RunWithoutHome({"--json", "status", "-q", "--home", cli_.home()});
  EXPECT_EQ(mixed.Json(), status_before.Json());

  // A command two levels down, and a line that does not parse, still answer in JSON.
  auto nested = cli_.RunWithoutHome({"password", "change", "--home", cli_.home(), "--json"});
  EXPECT_EQ(nested.rc, 2);
  EXPECT_TRUE(IsFailure(nested.out, "invalid argument"));
  auto unknown = cli_.Run({"backup", "--no-such-flag", "--json"});
  EXPECT_EQ(unknown.rc, 1);
  EXPECT_TRUE(IsFailure(unknown.out, "usage"));
}

TEST_F(CliContract, UsageErrorsExitOne) {
  auto unknown = cli_.Run({"backup", "--no-such-flag"});
  EXPECT_EQ(unknown.rc, 1);
  EXPECT_NE(unknown.err.find("--no-such-flag"), std::string::npos) << unknown.err;
  auto missing = cli_.Run({"restore", "--to", dir_.Sub("out")});
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.err.find("--from"), std::string::npos) << missing.err;
  EXPECT_EQ(cli_.Run({}).rc, 1);
  EXPECT_EQ(cli_.Run({"no-such-command"}).rc, 1);
  EXPECT_EQ(cli_.Run({"--version"}).rc, 0);
  EXPECT_EQ(cli_.Run({"status", "--help"}).rc, 0);
}

TEST_F(CliContract, EachFailureKindHasItsExitCode) {
  ExpectFailure({"backup"}, 3, "not found");  // not set up
  InitReady();
  ExpectFailure({"init", "--key", "--data", data_, "--to", store_, "--i-saved-the-key"}, 10,
                "already exists");
  ExpectFailure({"init", "--key", "--password", "--data", data_, "--to", store_}, 2,
                "invalid argument");
  ExpectFailure({"restore", "--from", store_, "--to", dir_.Sub("out"), "--key", "1234"}, 2,
                "invalid argument");
  ExpectFailure({"restore", "--from", store_, "--to", dir_.Sub("out"), "--key", "1234",
                 "--key-file", cli_.key_file()},
                2, "invalid argument");
  ExpectFailure({"verify"}, 3, "not found");  // nothing backed up yet
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);

  ExpectFailure({"restore", "--from", store_, "--to", dir_.Sub("w"), "--key", std::string(64, 'a')},
                4, "wrong key");
  ExpectFailure(
      {"restore", "--from", store_, "--to", dir_.Sub("out"), "--key-file", dir_.Sub("no-such.key")},
      3, "not found");
  WriteFile(dir_.Sub("a-file"), {1, 2, 3});
  ExpectFailure(
      {"restore", "--from", store_, "--to", dir_.Sub("a-file/out"), "--key-file", cli_.key_file()},
      9, "i/o error");
  ExpectFailure({"backup", "--to", dir_.Sub("a-file")}, 9, "i/o error");

  ClosedPort port;
  ExpectFailure(cli_,
                {"restore", "--password", "--vault", port.Url(), "--account", "alice", "--from",
                 store_, "--to", dir_.Sub("v")},
                8, "unavailable", "", {{"CHATVAULT_PASSWORD", "garden 77"}});

  const std::vector<std::string> chunks = Chunks();
  ASSERT_FALSE(chunks.empty());
  auto damaged = ReadFile(chunks[0]);
  damaged[damaged.size() / 2] ^= 1;
  WriteFile(chunks[0], damaged);
  ExpectFailure({"verify"}, 5, "corrupted");

  WriteFile(cli_.home() + "/config.json", {'{', 'x'});
  ExpectFailure({"status"}, 5, "corrupted");
}

TEST_F(CliContract, UnconfirmedKeyIsPermissionDeniedAndBackupWaitsForIt) {
  auto init = cli_.Run({"init", "--key", "--data", data_, "--to", store_, "--json"});
  ASSERT_EQ(init.rc, 0) << init.err;
  EXPECT_EQ(init.Json()["state"], "pending");
  ExpectFailure({"backup"}, 2, "invalid argument");
  const std::string wrong = std::string(64, '1') + "\n";
  ExpectFailure(cli_, {"init", "--confirm"}, 6, "permission denied", wrong + wrong + wrong);
  auto confirm =
      cli_.Run({"init", "--confirm", "--json"}, {}, init.Json()["key"].get<std::string>() + "\n");
  ASSERT_EQ(confirm.rc, 0) << confirm.err;
  EXPECT_TRUE(IsSuccessWith(confirm.out, "state:text"));
}

TEST_F(CliContract, JsonOfEachBackupCommand) {
  auto status = cli_.Run({"status", "--json"});
  EXPECT_TRUE(IsSuccessWith(status.out, "state:text home:text"));
  EXPECT_EQ(status.Json()["state"], "none");

  auto init =
      cli_.Run({"init", "--key", "--data", data_, "--to", store_, "--i-saved-the-key", "--json"});
  EXPECT_TRUE(IsSuccessWith(init.out,
                            "state:text protection:text key:text key_file:text "
                            "key_fingerprint:text data_dir:text location:text"));
  const std::string config =
      "state:text home:text data_dir:text location:text protection:text key_fingerprint:text "
      "last_sequence:int last_backup_unix:int ";
  EXPECT_TRUE(IsSuccessWith(cli_.Run({"status", "--json"}).out, config + "current_error:text"));

  auto backup = cli_.Run({"backup", "--json"});
  EXPECT_TRUE(IsSuccessWith(backup.out,
                            "sequence:int location:text files:int bytes:int chunks:int "
                            "new_chunks:int files_unchanged:int bytes_uploaded:int "
                            "objects_deleted:int backups_kept:int messages:int skipped:array "
                            "completed_with_skipped_files:bool warnings:array seconds:number "
                            "warning:text database:object"));
  EXPECT_TRUE(HasShape(backup.Json()["database"],
                       Fields("paged:bool page_size:int pages:int pages_changed:int "
                              "pages_packed:int chunks_written:int packs:int packs_written:int "
                              "bytes_uploaded:int unused_pages:int compared_with:text "
                              "forced:text")));
  status = cli_.Run({"status", "--json"});
  EXPECT_TRUE(IsSuccessWith(status.out, config + "current:object"));
  EXPECT_TRUE(HasShape(status.Json()["current"],
                       Fields("sequence:int created_unix:int files:int bytes:int chunks:int")));

  auto restore = cli_.Run({"restore", "--from", store_, "--to", dir_.Sub("out"), "--key-file",
                           cli_.key_file(), "--json"});
  EXPECT_TRUE(IsSuccessWith(restore.out,
                            "sequence:int created_unix:int files:int bytes:int warnings:array "
                            "seconds:number to:text set_up_device:bool"));
  auto verify = cli_.Run({"verify", "--json"});
  EXPECT_TRUE(IsSuccessWith(verify.out,
                            "sequence:int created_unix:int files:int bytes:int chunks:int "
                            "warnings:array seconds:number"));
  auto backups = cli_.Run({"backups", "--json"});
  EXPECT_TRUE(IsSuccessWith(backups.out,
                            "location:text backups:array other_key_backups:int ignored:array"));
  ASSERT_EQ(backups.Json()["backups"].size(), 1u);
  EXPECT_TRUE(HasShape(backups.Json()["backups"][0],
                       Fields("sequence:int created_unix:int messages:int files:int bytes:int "
                              "skipped_files:int")));
  EXPECT_EQ(verify.Json()["created_unix"], restore.Json()["created_unix"]);
}

TEST_F(CliContract, JsonOfEachWhatsAppCommand) {
  const std::string key(64, '5');
  const std::string db = data_ + "/msgstore.db";
  auto encrypt =
      cli_.Run({"whatsapp", "encrypt", "--key", key, db, "-o", dir_.Sub("m.crypt15"), "--json"});
  EXPECT_TRUE(IsSuccessWith(encrypt.out, "out:text payload:text input_bytes:int output_bytes:int"));
  auto decrypt = cli_.Run({"whatsapp", "decrypt", "--key", key, dir_.Sub("m.crypt15"), "--json"});
  EXPECT_TRUE(IsSuccessWith(decrypt.out,
                            "out:text format:text payload:text md5:bool input_bytes:int "
                            "output_bytes:int app_version:text"));
  EXPECT_EQ(decrypt.Json()["out"], dir_.Sub("m"));
  WriteFile(dir_.Sub("chatvault.key"), std::vector<uint8_t>(64, '7'));
  auto import =
      cli_.Run({"whatsapp", "import", dir_.Sub("m.crypt15"), "--key", key, "--to",
                dir_.Sub("imported"), "--backup-key-file", dir_.Sub("chatvault.key"), "--json"});
  EXPECT_TRUE(IsSuccessWith(import.out,
                            "sequence:int location:text input_format:text folder:bool "
                            "files:array media_files:int skipped:int bytes:int "
                            "bytes_uploaded:int seconds:number"));
  EXPECT_EQ(import.Json()["input_format"], "crypt15");
  ASSERT_EQ(import.Json()["files"].size(), 1u);
  EXPECT_TRUE(HasShape(import.Json()["files"][0], Fields("name:text format:text")));
  EXPECT_EQ(import.Json()["files"][0]["name"], "m");
}

}  // namespace
}  // namespace chatvault::testing
