// The chatvault whatsapp commands as a user runs them: exit codes per failure kind, no output left
// on failure, and import -> restore bringing the database back.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <string>

#include "support/temp_dir.h"
#include "whatsapp/test_files.h"

namespace chatvault::whatsapp {
namespace {

using chatvault::testing::TempDir;
using namespace chatvault::whatsapp::testing;

constexpr char kKey[] = "6730a595a1484d0c39c101dc0ac82ec5e401bb6f0e1b8ee2dc104a6b3687f017";

class WhatsAppCli : public ::testing::Test {
 protected:
  // Runs chatvault with `args` in the test directory; returns its exit code.
  int Run(const std::string& args) {
    const std::string cmd = "cd '" + dir_.path() + "' && '" CHATVAULT_BINARY_DIR "/src/cli/chatvault' --home '" +
                            dir_.Sub("home") + "' " + args + " >'" + dir_.Sub("log") + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string Log() { return std::string(AsChars(ReadAll(dir_.Sub("log")))); }

  void SetUp() override {
    MakeDatabase(dir_.Sub("msgstore.db"), 100, 50);
    ASSERT_EQ(Run(std::string("whatsapp encrypt --key ") + kKey + " msgstore.db"), 0) << Log();
  }

  TempDir dir_;
};

TEST_F(WhatsAppCli, DecryptAndFailureExitCodes) {
  ASSERT_EQ(Run(std::string("whatsapp decrypt --key ") + kKey + " msgstore.db.crypt15 -o out.db"), 0) << Log();
  EXPECT_EQ(ReadAll(dir_.Sub("out.db")), ReadAll(dir_.Sub("msgstore.db")));
  // Refuses to overwrite.
  EXPECT_EQ(Run(std::string("whatsapp decrypt --key ") + kKey + " msgstore.db.crypt15 -o out.db"), 10);

  EXPECT_EQ(Run("whatsapp decrypt --key " + std::string(64, '1') + " msgstore.db.crypt15 -o a.db"), 4) << Log();
  EXPECT_NE(Log().find("wrong key"), std::string::npos) << Log();

  const Bytes good = ReadAll(dir_.Sub("msgstore.db.crypt15"));
  WriteAll(dir_.Sub("cut.crypt15"), ByteView(good).first(good.size() - 50));
  EXPECT_EQ(Run(std::string("whatsapp decrypt --key ") + kKey + " cut.crypt15 -o b.db"), 5) << Log();
  EXPECT_NE(Log().find("truncated"), std::string::npos) << Log();

  EXPECT_EQ(Run("whatsapp decrypt --key 12345 msgstore.db.crypt15 -o c.db"), 2) << Log();
  for (const char* f : {"a.db", "b.db", "c.db"}) EXPECT_FALSE(std::filesystem::exists(dir_.Sub(f))) << f;
}

TEST_F(WhatsAppCli, ImportThenRestore) {
  WriteAll(dir_.Sub("ck.key"), AsBytes(std::string(64, '7') + "\n"));
  ASSERT_EQ(Run(std::string("whatsapp import --key ") + kKey +
                " msgstore.db.crypt15 --to bk --backup-key-file ck.key"), 0) << Log();
  // A second import into the same location would replace the backup: refused.
  EXPECT_NE(Run("whatsapp import msgstore.db --to bk --backup-key-file ck.key"), 0);
  ASSERT_EQ(Run("restore --from bk --to restored --key-file ck.key"), 0) << Log();
  // The import is a private copy: the restore gives back the decrypted file byte for byte
  // (SQLite's backup API used to rewrite six header bytes), under its own name.
  EXPECT_EQ(ReadAll(dir_.Sub("restored/msgstore.db")), ReadAll(dir_.Sub("msgstore.db")));
}

TEST_F(WhatsAppCli, EncryptRefusesHeaderFieldsReadersCannotTake) {
  const std::string enc =
      std::string("whatsapp encrypt --key ") + kKey + " msgstore.db -o x.crypt15";
  EXPECT_EQ(Run(enc + " --app-version " + std::string(200, '9')), 2) << Log();
  EXPECT_NE(Log().find("255"), std::string::npos) << Log();
  EXPECT_EQ(Run(enc + " --jid-suffix 123"), 2) << Log();
  EXPECT_NE(Log().find("two digits"), std::string::npos) << Log();
  EXPECT_EQ(Run(enc + " --app-version ''"), 2) << Log();
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("x.crypt15")));
  ASSERT_EQ(Run(enc + " --app-version " + std::string(32, '9') + " --jid-suffix 42"), 0) << Log();
  EXPECT_EQ(Run(std::string("whatsapp decrypt --key ") + kKey + " x.crypt15 -o x.db"), 0) << Log();
}

}  // namespace
}  // namespace chatvault::whatsapp
