// chatvault whatsapp import of a whole WhatsApp folder, as a user runs it: every backup under its
// own name and the Media tree in one chatvault backup, restored byte for byte; and the user's
// mistakes (wrong folder, wrong key, keys mixed, a file cut short, a full disk) import nothing.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/temp_dir.h"
#include "whatsapp/test_files.h"

namespace chatvault::whatsapp {
namespace {

namespace fs = std::filesystem;
using chatvault::testing::TempDir;
using namespace chatvault::whatsapp::testing;

constexpr char kKey[] = "6730a595a1484d0c39c101dc0ac82ec5e401bb6f0e1b8ee2dc104a6b3687f017";
constexpr char kOtherKey[] = "1111111111111111111111111111111111111111111111111111111111111111";

class WhatsAppFolderImport : public ::testing::Test {
 protected:
  std::string Command(const std::string& args) {
    return "cd '" + dir_.path() + "' && '" CHATVAULT_BINARY_DIR "/src/cli/chatvault' --home '" +
           dir_.Sub("home") + "' " + args + " >'" + dir_.Sub("log") + "' 2>&1";
  }
  int Run(const std::string& args) {
    const int rc = std::system(Command(args).c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string Log() { return std::string(AsChars(ReadAll(dir_.Sub("log")))); }

  // Encrypts `plain` (made here) into the folder as `rel` with `key`.
  void Encrypt(const std::string& plain, const std::string& rel, const char* key) {
    fs::create_directories(fs::path(dir_.Sub("WhatsApp/" + rel)).parent_path());
    ASSERT_EQ(Run(std::string("whatsapp encrypt --key ") + key + " '" + plain + "' -o 'WhatsApp/" +
                  rel + "'"),
              0)
        << Log();
  }

  // A WhatsApp folder as a phone has it: Databases/ with the message database, Backups/ with
  // contacts and a multi-file (ZIP) sticker backup, and Media/ beside them.
  void SetUp() override {
    for (const char* d :
         {"plain", "WhatsApp/Media/WhatsApp Images", "WhatsApp/Media/WhatsApp Stickers"}) {
      fs::create_directories(dir_.Sub(d));
    }
    MakeDatabase(dir_.Sub("plain/msgstore.db"), 120, 40);
    MakeDatabase(dir_.Sub("plain/wa.db"), 30, 10);
    Bytes zip = ToBytes("PK\x03\x04");
    Append(zip, Md5(AsBytes("sticker bytes")));
    WriteAll(dir_.Sub("plain/stickers.zip"), zip);
    Encrypt(dir_.Sub("plain/msgstore.db"), "Databases/msgstore.db.crypt15", kKey);
    Encrypt(dir_.Sub("plain/wa.db"), "Backups/wa.db.crypt15", kKey);
    Encrypt(dir_.Sub("plain/stickers.zip"), "Backups/stickers.db.crypt15", kKey);
    WriteAll(dir_.Sub("WhatsApp/Media/WhatsApp Images/IMG-1.jpg"), Md5(AsBytes("a photo")));
    WriteAll(dir_.Sub("WhatsApp/Media/WhatsApp Stickers/s.webp"), Md5(AsBytes("a sticker")));
    WriteAll(dir_.Sub("ck.key"), AsBytes(std::string(64, '7') + "\n"));
  }

  std::string Import(const std::string& input, const char* key = kKey) {
    return std::string("whatsapp import --key ") + key + " '" + input +
           "' --to bk --backup-key-file ck.key";
  }

  // Nothing was committed at the location, and no staging directory was left behind.
  void ExpectNothingImported() {
    EXPECT_NE(Run("restore --from bk --to r-none --key-file ck.key"), 0);
    EXPECT_FALSE(fs::exists(dir_.Sub("r-none")));
    const std::string staging = dir_.Sub("home/tmp");
    if (fs::exists(staging)) {
      EXPECT_TRUE(fs::is_empty(staging));
    }
  }

  TempDir dir_;
};

TEST_F(WhatsAppFolderImport, WholeFolderBecomesOneBackupRestoredByteForByte) {
  ASSERT_EQ(Run("--json " + Import("WhatsApp")), 0) << Log();
  EXPECT_NE(Log().find("\"media_files\":2"), std::string::npos) << Log();
  ASSERT_EQ(Run("restore --from bk --to r --key-file ck.key"), 0) << Log();
  EXPECT_EQ(ReadAll(dir_.Sub("r/msgstore.db")), ReadAll(dir_.Sub("plain/msgstore.db")));
  EXPECT_EQ(ReadAll(dir_.Sub("r/wa.db")), ReadAll(dir_.Sub("plain/wa.db")));
  EXPECT_EQ(ReadAll(dir_.Sub("r/stickers.db")), ReadAll(dir_.Sub("plain/stickers.zip")));
  for (const char* media : {"Media/WhatsApp Images/IMG-1.jpg", "Media/WhatsApp Stickers/s.webp"}) {
    EXPECT_EQ(ReadAll(dir_.Sub(std::string("r/") + media)),
              ReadAll(dir_.Sub(std::string("WhatsApp/") + media)))
        << media;
  }
  // The backup holds exactly that: no staging leftovers, no encrypted copies.
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_.Sub("r")))
    files += e.is_regular_file();
  EXPECT_EQ(files, 5);
}

TEST_F(WhatsAppFolderImport, OneFileKeepsItsOwnName) {
  ASSERT_EQ(Run(Import("WhatsApp/Backups/wa.db.crypt15")), 0) << Log();
  ASSERT_EQ(Run("restore --from bk --to r --key-file ck.key"), 0) << Log();
  EXPECT_EQ(ReadAll(dir_.Sub("r/wa.db")), ReadAll(dir_.Sub("plain/wa.db")));
  EXPECT_FALSE(fs::exists(dir_.Sub("r/msgstore.db")));
}

TEST_F(WhatsAppFolderImport, AFolderWithNothingRecognisableSaysWhereToLook) {
  fs::create_directories(dir_.Sub("Documents/Databases"));
  WriteAll(dir_.Sub("Documents/notes.txt"), AsBytes("not a backup"));
  EXPECT_EQ(Run(Import("Documents")), 3) << Log();
  EXPECT_NE(Log().find("holds no WhatsApp backup"), std::string::npos) << Log();
  EXPECT_NE(Log().find("Android/media/com.whatsapp/WhatsApp"), std::string::npos) << Log();
  EXPECT_EQ(Run(Import("no-such-folder")), 3) << Log();
  ExpectNothingImported();
}

TEST_F(WhatsAppFolderImport, WrongKeyImportsNothing) {
  EXPECT_EQ(Run(Import("WhatsApp", kOtherKey)), 4) << Log();
  EXPECT_NE(Log().find("opens none of the 3 backups"), std::string::npos) << Log();
  EXPECT_NE(Log().find("nothing was imported"), std::string::npos) << Log();
  ExpectNothingImported();
}

TEST_F(WhatsAppFolderImport, BackupsOfTwoKeysAreNamedAndNothingIsImported) {
  fs::remove(dir_.Sub("WhatsApp/Backups/wa.db.crypt15"));
  Encrypt(dir_.Sub("plain/wa.db"), "Backups/wa.db.crypt15", kOtherKey);
  EXPECT_EQ(Run(Import("WhatsApp")), 4) << Log();
  EXPECT_NE(Log().find("mixes backups made with different keys"), std::string::npos) << Log();
  EXPECT_NE(Log().find("wa.db.crypt15"), std::string::npos) << Log();
  ExpectNothingImported();
}

TEST_F(WhatsAppFolderImport, AFileCutShortImportsNothing) {
  const std::string path = dir_.Sub("WhatsApp/Databases/msgstore.db.crypt15");
  const Bytes whole = ReadAll(path);
  WriteAll(path, ByteView(whole).first(whole.size() / 2));
  EXPECT_EQ(Run(Import("WhatsApp")), 5) << Log();
  EXPECT_NE(Log().find("ends early"), std::string::npos) << Log();
  EXPECT_NE(Log().find("nothing was imported"), std::string::npos) << Log();
  ExpectNothingImported();
}

TEST_F(WhatsAppFolderImport, TwoFilesWithOneNameAreRefused) {
  Encrypt(dir_.Sub("plain/wa.db"), "Databases/wa.db.crypt15", kKey);
  EXPECT_EQ(Run(Import("WhatsApp")), 2) << Log();
  EXPECT_NE(Log().find("would be imported as wa.db"), std::string::npos) << Log();
  ExpectNothingImported();
}

// A real full disk under the staging directory (a private tmpfs, where the machine allows one):
// "not enough space", and the staging directory is gone with everything in it.
TEST_F(WhatsAppFolderImport, AFullDiskImportsNothingAndLeavesNothing) {
  MakeDatabase(dir_.Sub("plain/big.db"), 300, 4000);
  fs::remove(dir_.Sub("WhatsApp/Databases/msgstore.db.crypt15"));
  Encrypt(dir_.Sub("plain/big.db"), "Databases/msgstore.db.crypt15", kKey);
  const std::string staging = dir_.Sub("home/tmp");
  fs::create_directories(staging);
  const std::string cmd = Command(Import("WhatsApp"));
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(125);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(125);
    if (::mount("tmpfs", staging.c_str(), "tmpfs", 0, "size=256k") != 0) ::_exit(125);
    const int rc = std::system(cmd.c_str());
    if (!fs::is_empty(staging)) ::_exit(99);
    ::_exit(WIFEXITED(rc) ? WEXITSTATUS(rc) : 98);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 125) GTEST_SKIP() << "this machine does not allow mounting a tmpfs";
  EXPECT_EQ(WEXITSTATUS(status), 14) << Log();
  EXPECT_NE(Log().find("No space left on device"), std::string::npos) << Log();
  ExpectNothingImported();
}

}  // namespace
}  // namespace chatvault::whatsapp
