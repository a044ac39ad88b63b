#include <gtest/gtest.h>

#include "backup/layout.h"
#include "backup/manifest.h"
#include "support/status_matchers.h"

namespace chatvault::backup {
namespace {

using ::chatvault::testing::IsOk;

TEST(Manifest, RoundTrips) {
  Manifest m;
  m.sequence = 42;
  m.created_unix = 1700000000;
  m.files.push_back({"msgstore.db",
                     10,
                     0600,
                     123456789,
                     {{std::string(64, 'a'), 4}, {std::string(64, 'b'), 6}},
                     {}});
  m.files.push_back({"Media/x.jpg", 0, 0644, 1, {}, {}});
  auto parsed = ParseManifest(SerializeManifest(m));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->sequence, 42u);
  ASSERT_EQ(parsed->files.size(), 2u);
  EXPECT_EQ(parsed->files[0].chunks[1].id, std::string(64, 'b'));
  EXPECT_EQ(parsed->files[0].mtime_ns, 123456789);
  EXPECT_EQ(parsed->TotalBytes(), 10u);
  EXPECT_EQ(parsed->ChunkCount(), 2u);
}

TEST(Manifest, RejectsUnsafePathsAndInconsistentSizes) {
  Manifest m;
  m.files.push_back({"../etc/passwd", 0, 0600, 0, {}, {}});
  EXPECT_EQ(ParseManifest(SerializeManifest(m)).status().code(), Code::kCorrupted);
  m.files[0] = {"ok", 5, 0600, 0, {{std::string(64, 'c'), 4}}, {}};
  EXPECT_EQ(ParseManifest(SerializeManifest(m)).status().code(), Code::kCorrupted);
  EXPECT_EQ(ParseManifest(ToBytes("{\"version\":1}")).status().code(), Code::kCorrupted);
  EXPECT_EQ(ParseManifest(ToBytes("not json")).status().code(), Code::kCorrupted);
  for (const char* bad : {"", "/abs", "a/../b", "a//b", "./a", "a/"}) EXPECT_FALSE(IsSafeRelativePath(bad)) << bad;
  EXPECT_TRUE(IsSafeRelativePath("Media/Images/a.jpg"));
}

TEST(Layout, NamesSortBySequence) {
  EXPECT_EQ(ManifestName(42), "manifests/0000000042");
  EXPECT_EQ(PointerName(7), "current/0000000007");
  EXPECT_LT(PointerName(9), PointerName(10));
  EXPECT_EQ(SequenceOf("current/0000000042", kPointerPrefix), 42u);
  EXPECT_FALSE(SequenceOf("current/x", kPointerPrefix).has_value());
  EXPECT_EQ(ChunkName("abcdef"), "chunks/ab/abcdef");
}

}  // namespace
}  // namespace chatvault::backup
