// The small pieces under the providers: the XML reader (on documents shaped like real S3 and
// WebDAV answers, and on malformed ones), URL encoding, and the backoff schedule.
#include <gtest/gtest.h>

#include "chatvault/cloud/retry.h"
#include "chatvault/cloud/http_client.h"
#include "cloud/xml_tree.h"
#include "support/status_matchers.h"

namespace chatvault::cloud {
namespace {

using ::chatvault::testing::IsOk;

TEST(XmlTree, ReadsAListBucketResult) {
  auto doc = ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>a+b/c=</NextContinuationToken>"
      "<Contents><Key>p/chunks/a&amp;b</Key><Size>12</Size><ETag>&quot;x&quot;</ETag></Contents>"
      "<Contents><Key>p/&#x41;&#66;</Key><Size>0</Size></Contents>"
      "</ListBucketResult>");
  ASSERT_THAT(doc, IsOk());
  EXPECT_EQ(doc->name, "ListBucketResult");
  EXPECT_EQ(doc->ChildText("IsTruncated"), "true");
  EXPECT_EQ(doc->ChildText("NextContinuationToken"), "a+b/c=");
  auto contents = doc->Children("Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents[0]->ChildText("Key"), "p/chunks/a&b");
  EXPECT_EQ(contents[0]->ChildText("ETag"), "\"x\"");
  EXPECT_EQ(contents[1]->ChildText("Key"), "p/AB");
}

TEST(XmlTree, DropsNamespacePrefixesOfAnyName) {
  auto doc = ParseXml(
      "<d:multistatus xmlns:d='DAV:'><d:response><d:href>/a/b%20c</d:href>"
      "<d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype>"
      "<lp1:getcontentlength xmlns:lp1=\"DAV:\">42</lp1:getcontentlength></d:prop>"
      "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><!-- c --></d:multistatus>");
  ASSERT_THAT(doc, IsOk());
  EXPECT_EQ(doc->name, "multistatus");
  const XmlElement* response = doc->Child("response");
  ASSERT_NE(response, nullptr);
  const XmlElement* prop = response->Child("propstat")->Child("prop");
  ASSERT_NE(prop, nullptr);
  EXPECT_NE(prop->Child("resourcetype")->Child("collection"), nullptr);
  EXPECT_EQ(prop->ChildText("getcontentlength"), "42");
}

TEST(XmlTree, KeepsCdataAndAttributesWithAngleBrackets) {
  auto doc = ParseXml("<a x=\"1>2\"><![CDATA[<raw> & stuff]]></a>");
  ASSERT_THAT(doc, IsOk());
  EXPECT_EQ(doc->text, "<raw> & stuff");
}

TEST(XmlTree, RejectsMalformedDocuments) {
  for (const char* bad : {"", "text", "<a>", "<a></b>", "<a>&bogus;</a>", "<a>&#xZZ;</a>",
                          "<a><b></a></b>", "<a/><b/>", "<a>&#x110000;</a>", "<!-- x",
                          "<a><![CDATA[x</a>"}) {
    EXPECT_EQ(ParseXml(bad).status().code(), Code::kCorrupted) << bad;
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_EQ(ParseXml(deep).status().code(), Code::kCorrupted);
}

TEST(UrlEncoding, EncodesEverythingButUnreserved) {
  EXPECT_EQ(UrlEncode("a/b c+d=e~_.-", true), "a/b%20c%2Bd%3De~_.-");
  EXPECT_EQ(UrlEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UrlDecode("a%2Fb%20c%zz%4"), "a/b c%zz%4");
}

TEST(DescribeRequest, NeverShowsUserInfoOrQuery) {
  HttpRequest r;
  r.method = "GET";
  r.url = "https://bob:hunter2@host:8443/p/x?X-Amz-Signature=abc";
  r.userpwd = "bob:hunter2";
  const std::string d = DescribeRequest(r);
  EXPECT_EQ(d, "GET https://host:8443/p/x");
}

TEST(Backoff, GrowsExponentiallyWithJitterAndACap) {
  RetryPolicy p;
  p.initial_delay = std::chrono::milliseconds(100);
  p.max_delay = std::chrono::milliseconds(1000);
  EXPECT_EQ(BackoffDelay(p, 1).count(), 0);
  int64_t max_seen[8] = {0};
  for (int i = 0; i < 2000; ++i) {
    for (int attempt = 2; attempt < 8; ++attempt) {
      const int64_t d = BackoffDelay(p, attempt).count();
      const int64_t ceiling = std::min<int64_t>(1000, 100LL << (attempt - 2));
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling) << attempt;
      max_seen[attempt] = std::max(max_seen[attempt], d);
    }
  }
  // With 2000 draws each, the largest wait comes close to its ceiling (jitter really spreads).
  EXPECT_GT(max_seen[2], 90);
  EXPECT_GT(max_seen[4], 360);
  EXPECT_GT(max_seen[7], 900);
  EXPECT_EQ(BackoffDelay(p, 60).count() <= 1000, true);  // no overflow far out
}

}  // namespace
}  // namespace chatvault::cloud
