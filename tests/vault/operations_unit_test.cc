// The pieces of keyvaultd's operations that need no process: the configuration file's syntax,
// reading audit lines back, and the latency histograms' exposition.
#include <gtest/gtest.h>

#include <regex>

#include "chatvault/vault/audit_replay.h"
#include "support/status_matchers.h"
#include "vault/config_file.h"
#include "vault/latency_histograms.h"

namespace chatvault::vault {
namespace {

using ::chatvault::testing::IsOk;

TEST(ConfigFile, NamesValuesQuotesAndComments) {
  auto settings = ParseConfig(
      "# keyvaultd\n"
      "listen = 0.0.0.0:8443\n"
      "\n"
      "store = \"sqlite:/var/lib/keyvaultd/records.db\"   # quoted, as TOML\n"
      "instance-id = \"vault \\\"a\\\" #1\"\n"
      "audit-sync = true # bare values end at a comment\n"
      "max-connections=4096\r\n",
      "f.conf");
  ASSERT_THAT(settings, IsOk());
  ASSERT_EQ(settings->size(), 5u);
  EXPECT_EQ((*settings)[0].name, "listen");
  EXPECT_EQ((*settings)[0].value, "0.0.0.0:8443");
  EXPECT_EQ((*settings)[1].value, "sqlite:/var/lib/keyvaultd/records.db");
  EXPECT_EQ((*settings)[1].line, 4);
  EXPECT_EQ((*settings)[2].value, "vault \"a\" #1");
  EXPECT_EQ((*settings)[3].value, "true");
  EXPECT_EQ((*settings)[4].name, "max-connections");
  EXPECT_EQ((*settings)[4].value, "4096");
}

TEST(ConfigFile, MistakesNameTheirLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"listen 127.0.0.1:1\n", "f.conf line 1: expected 'name = value'"},
      {"\n--listen = x\n", "f.conf line 2: a setting's name is a serve flag"},
      {"Listen = x\n", "line 1: a setting's name"},
      {"store = \"sqlite:x\n", "line 1: the quoted value does not end"},
      {"store = \"a\" b\n", "line 1: unexpected text after the quoted value"},
      {"store = \"a\\n\"\n", "line 1: only \\\" and \\\\ are escapes"},
      {"store =\n", "line 1: 'store' has no value"},
      {"threads = 1\nthreads = 2\n", "line 2: 'threads' was already set on line 1"},
  };
  for (const auto& [text, says] : cases) {
    auto settings = ParseConfig(text, "f.conf");
    ASSERT_FALSE(settings.ok()) << text;
    EXPECT_EQ(settings.status().code(), Code::kInvalidArgument);
    EXPECT_NE(settings.status().message().find(says), std::string::npos)
        << settings.status().message();
  }
}

TEST(AuditLines, ReadBackWhatTheLogWrites) {
  auto lines = ParseAuditLines(
      R"({"time_ms":5,"instance":"a","request":"r","event":"guess_counted","account":"ab","serial":3,"attempts_left":7})"
      "\n"
      R"({"time_ms":6,"instance":"a","request":"r","event":"token_rejected","account":"cd","reason":"x"})"
      "\n"
      R"({"time_ms":7,"event":"guess_cou)",  // cut short by a crash: skipped
      "a.jsonl");
  ASSERT_THAT(lines, IsOk());
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].time_ms, 5);
  EXPECT_EQ((*lines)[0].event, "guess_counted");
  EXPECT_EQ((*lines)[0].account, "ab");
  EXPECT_EQ((*lines)[0].serial, 3u);
  EXPECT_FALSE((*lines)[1].serial.has_value());
  EXPECT_EQ((*lines)[0].record, AuditedRecord::kAccount);
  // A realm's line is told from the single vault's; a record kind the replay does not know is
  // not guessed at.
  auto realm = ParseAuditLines(
      R"({"time_ms":8,"event":"registered","account":"ab","registration":"00ff","record":"realm"})",
      "c.jsonl");
  ASSERT_THAT(realm, IsOk());
  ASSERT_EQ(realm->size(), 1u);
  EXPECT_EQ((*realm)[0].record, AuditedRecord::kRealm);
  EXPECT_EQ((*realm)[0].registration, "00ff");
  EXPECT_FALSE(ParseAuditLines(R"({"time_ms":8,"event":"deleted","account":"ab","record":"x"})"
                               "\n",
                               "d.jsonl")
                   .ok());
  // A damaged line in the middle is not skipped silently.
  auto damaged = ParseAuditLines("{\"time_ms\":1}\n{}\n", "b.jsonl");
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find("b.jsonl line 1"), std::string::npos);
}

TEST(LatencyHistograms, CumulativeBucketsPerRouteAndNoLabelFromTheClient) {
  LatencyHistograms histograms;
  using std::chrono::microseconds;
  const size_t start = LatencyHistograms::RouteIndex("/v1/recover/start");
  histograms.Observe(start, microseconds(300));         // <= 0.0005
  histograms.Observe(start, microseconds(3000));        // <= 0.005
  histograms.Observe(start, std::chrono::seconds(60));  // +Inf only
  histograms.Observe(LatencyHistograms::RouteIndex("/v1/../../etc/passwd"), microseconds(1));
  const std::string text = histograms.RenderPrometheus();
  auto value = [&](const std::string& series) {
    const size_t at = text.find(series + " ");
    EXPECT_NE(at, std::string::npos) << series;
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + series.size() + 1));
  };
  const std::string s = "keyvaultd_request_duration_seconds";
  EXPECT_EQ(value(s + "_bucket{route=\"/v1/recover/start\",le=\"0.0005\"}"), 1);
  EXPECT_EQ(value(s + "_bucket{route=\"/v1/recover/start\",le=\"0.0025\"}"), 1);
  EXPECT_EQ(value(s + "_bucket{route=\"/v1/recover/start\",le=\"0.005\"}"), 2);
  EXPECT_EQ(value(s + "_bucket{route=\"/v1/recover/start\",le=\"10\"}"), 2);
  EXPECT_EQ(value(s + "_bucket{route=\"/v1/recover/start\",le=\"+Inf\"}"), 3);
  EXPECT_EQ(value(s + "_count{route=\"/v1/recover/start\"}"), 3);
  EXPECT_NEAR(value(s + "_sum{route=\"/v1/recover/start\"}"), 60.0033, 1e-6);
  EXPECT_EQ(value(s + "_count{route=\"other\"}"), 1);
  EXPECT_EQ(value(s + "_count{route=\"/v1/health\"}"), 0);
  EXPECT_EQ(text.find("passwd"), std::string::npos);
  EXPECT_NE(text.find("# TYPE " + s + " histogram"), std::string::npos);
}

}  // namespace
}  // namespace chatvault::vault
