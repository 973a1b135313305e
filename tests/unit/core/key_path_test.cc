#include "core/key_path.h"

#include <gtest/gtest.h>

#include "core/json_util.h"
#include "core/url_signer.h"
#include "core/utf8.h"

namespace scigate {
namespace {

TEST(ParseRelativeKey, AcceptsPlainPaths) {
  auto k = parse_relative_key("thomas/run-1/file.png");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->path, "thomas/run-1/file.png");
  EXPECT_FALSE(k->is_folder);
}

TEST(ParseRelativeKey, TrailingSlashMeansFolder) {
  auto k = parse_relative_key("thomas/run-1/");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->path, "thomas/run-1");
  EXPECT_TRUE(k->is_folder);
}

TEST(ParseRelativeKey, EmptyIsRootFolder) {
  auto k = parse_relative_key("");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->path, "");
  EXPECT_TRUE(k->is_folder);
}

TEST(ParseRelativeKey, DecodesSpacesUnicodeAndReservedCharacters) {
  auto k = parse_relative_key("a%20b/%C3%A9t%C3%A9+x%3Dy%25");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->path, "a b/\xC3\xA9t\xC3\xA9+x=y%");
}

class TraversalCorpus : public ::testing::TestWithParam<const char*> {};

TEST_P(TraversalCorpus, IsRefused) {
  auto k = parse_relative_key(GetParam());
  EXPECT_FALSE(k) << GetParam();
  if (!k) {
    EXPECT_EQ(k.error().code, ErrorCode::kBadRequest);
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, TraversalCorpus,
                         ::testing::Values("..", "../etc/passwd", "a/../../b", "a/..", "%2e%2e", "%2E%2E/x",
                                           "a/%2e%2e/b", ".%2e/x", ".", "a/./b", "a%2fb", "a%2F..%2Fb", "/etc/passwd",
                                           "//etc", "a//b", "a\\b", "..\\x", "a%5cb", "a%00b", "a%0ab", "%", "%zz",
                                           "a%2", "x/%2e", "a%FFb", "%C0%AF", "%ED%A0%80", "x/%E2%82"));

TEST(Utf8, ValidityAndRepair) {
  EXPECT_TRUE(valid_utf8("plain é € 𝄞"));
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xE2\x82"));          // truncated
  EXPECT_EQ(repair_utf8("a\xff"
                        "b\xE2\x82"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(repair_utf8("é€"), "é€");
}

TEST(AppendJsonString, EscapesAndRepairs) {
  std::string out = "x";
  append_json_string(out,
                     "a\"b\\c\n\x01\xff"
                     "d");
  EXPECT_EQ(out,
            "x\"a\\\"b\\\\c\\n\\u0001\xEF\xBF\xBD"
            "d\"");
  auto parsed = parse_json(out.substr(1));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->as_string(),
            "a\"b\\c\n\x01\xEF\xBF\xBD"
            "d");
}

TEST(UrlSigner, VerifiesScopeExpiryAndSignature) {
  UrlSigner signer("k-0123456789abcdef0123456789abcdef");
  SystemTime now = SystemTime(std::chrono::seconds(1'800'000'000));
  std::string sig = signer.signature("tiles\nlocal\nb\nk.tif", 1'800'000'060);
  EXPECT_TRUE(signer.verify("tiles\nlocal\nb\nk.tif", "1800000060", sig, now));
  EXPECT_FALSE(signer.verify("tiles\nlocal\nb\nother.tif", "1800000060", sig, now));  // another file
  EXPECT_FALSE(signer.verify("tiles\nlocal\nb\nk.tif", "1800000061", sig, now));      // expiry moved
  EXPECT_FALSE(signer.verify("tiles\nlocal\nb\nk.tif", "1800000060", sig, now + std::chrono::seconds(61)));
  EXPECT_FALSE(signer.verify("tiles\nlocal\nb\nk.tif", "-5", sig, now));
  EXPECT_FALSE(signer.verify("tiles\nlocal\nb\nk.tif", "1800000060", sig.substr(1), now));
  EXPECT_EQ(UrlSigner("other-key").verify("tiles\nlocal\nb\nk.tif", "1800000060", sig, now).error().code,
            ErrorCode::kForbidden);
}

TEST(PercentEncode, RoundTrips) {
  std::string raw = "a b/é+=%?#&";
  std::string decoded;
  ASSERT_TRUE(percent_decode(percent_encode(raw), decoded));
  EXPECT_EQ(decoded, raw);
  EXPECT_EQ(percent_encode("a/b c", true), "a/b%20c");
  EXPECT_EQ(percent_encode("a/b", false), "a%2Fb");
}

TEST(JoinKey, OneSlashBetweenParts) {
  EXPECT_EQ(join_key("a/", "/b"), "a/b");
  EXPECT_EQ(join_key("", "b"), "b");
  EXPECT_EQ(join_key("a", ""), "a");
}

}  // namespace
}  // namespace scigate
