// Every case of the official AWS SigV4 test suite, header and query forms: canonical
// request, string to sign, signature, and the Authorization header / signed URL.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/key_path.h"

namespace fs = std::filesystem;
namespace json = boost::json;

namespace scigate {
namespace {

const fs::path kSuite = fs::path(SCIGATE_FIXTURES_DIR) / "aws-sigv4-test-suite";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Case {
  SignableRequest request;
  std::string body;
  AwsCredentials credentials;
  SigningOptions options;
  std::string region, service;
  SystemTime time;
  std::chrono::seconds expires{3600};
};

std::string decoded(std::string_view s) {
  std::string out;
  EXPECT_TRUE(percent_decode(s, out));
  return out;
}

// request.txt: "METHOD target HTTP/1.1", header lines (a line starting with white space
// continues the previous value), a blank line, the body.
Case load(const std::string& name) {
  Case c;
  std::string raw = read(kSuite / name / "request.txt");
  size_t body_at = raw.find("\n\n");
  std::string head = raw.substr(0, body_at);
  c.body = body_at == std::string::npos ? "" : raw.substr(body_at + 2);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  std::string method = line.substr(0, line.find(' '));
  std::string target = line.substr(method.size() + 1, line.rfind(" HTTP/") - method.size() - 1);
  c.request.method = method;
  std::string path = target.substr(0, target.find('?'));
  c.request.path = decoded(path);
  if (target.find('?') != std::string::npos) {
    std::string q = target.substr(target.find('?') + 1);
    size_t start = 0;
    while (start < q.size()) {
      size_t end = q.find('&', start);
      if (end == std::string::npos) end = q.size();
      std::string pair = q.substr(start, end - start);
      size_t eq = pair.find('=');
      c.request.query.emplace_back(decoded(pair.substr(0, eq)),
                                   eq == std::string::npos ? "" : decoded(pair.substr(eq + 1)));
      start = end + 1;
    }
  }
  while (std::getline(lines, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      c.request.headers.back().second += "\n" + line;
      continue;
    }
    size_t colon = line.find(':');
    c.request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  auto ctx = json::parse(read(kSuite / name / "context.json")).as_object();
  auto& creds = ctx.at("credentials").as_object();
  c.credentials.access_key_id = std::string(creds.at("access_key_id").as_string());
  c.credentials.secret_access_key = std::string(creds.at("secret_access_key").as_string());
  if (creds.contains("token")) c.credentials.session_token = std::string(creds.at("token").as_string());
  c.region = std::string(ctx.at("region").as_string());
  c.service = std::string(ctx.at("service").as_string());
  c.options.normalize_path = ctx.at("normalize").as_bool();
  c.options.add_content_sha256 = ctx.at("sign_body").as_bool();
  c.options.omit_session_token = ctx.contains("omit_session_token") && ctx.at("omit_session_token").as_bool();
  c.expires = std::chrono::seconds(ctx.at("expiration_in_seconds").as_int64());
  c.time = SystemTime(std::chrono::seconds(1440938160));  // 2015-08-30T12:36:00Z
  EXPECT_EQ(std::string(ctx.at("timestamp").as_string()), "2015-08-30T12:36:00Z");
  c.request.payload_hash = sha256_hex(c.body);
  return c;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::vector<std::string> case_names() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kSuite)) {
    if (e.is_directory()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class SigV4Suite : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4Suite, HeaderForm) {
  Case c = load(GetParam());
  SigV4Signer signer(c.region, c.service, c.options);
  SignableRequest r = c.request;
  signer.sign(r, c.credentials, c.time);
  // Rebuild the canonical request from what was signed (the Authorization header and a
  // token added after signing are not part of it).
  SignableRequest signed_part = r;
  signed_part.headers.erase(std::remove_if(signed_part.headers.begin(), signed_part.headers.end(),
                                           [&](const auto& h) {
                                             return h.first == "Authorization" ||
                                                    (c.options.omit_session_token && h.first == "X-Amz-Security-Token");
                                           }),
                            signed_part.headers.end());
  std::string canonical = signer.canonical_request(signed_part);
  EXPECT_EQ(canonical, trimmed(read(kSuite / GetParam() / "header-canonical-request.txt")));
  std::string sts = signer.string_to_sign(canonical, c.time);
  EXPECT_EQ(sts, trimmed(read(kSuite / GetParam() / "header-string-to-sign.txt")));
  std::string expected_sig = trimmed(read(kSuite / GetParam() / "header-signature.txt"));
  EXPECT_EQ(signer.signature(sts, c.credentials, c.time), expected_sig);
  std::string signed_request = read(kSuite / GetParam() / "header-signed-request.txt");
  auto auth =
      std::find_if(r.headers.begin(), r.headers.end(), [](const auto& h) { return h.first == "Authorization"; });
  ASSERT_NE(auth, r.headers.end());
  EXPECT_NE(signed_request.find("Authorization:" + auth->second), std::string::npos) << auth->second;
}

TEST_P(SigV4Suite, QueryForm) {
  Case c = load(GetParam());
  SigV4Signer signer(c.region, c.service, c.options);
  SignableRequest r = c.request;
  signer.presign(r, c.credentials, c.time, c.expires);
  auto sig = std::find_if(r.query.begin(), r.query.end(), [](const auto& q) { return q.first == "X-Amz-Signature"; });
  ASSERT_NE(sig, r.query.end());
  EXPECT_EQ(sig->second, trimmed(read(kSuite / GetParam() / "query-signature.txt")));
  SignableRequest signed_part = r;
  signed_part.query.erase(std::remove_if(signed_part.query.begin(), signed_part.query.end(),
                                         [&](const auto& q) {
                                           return q.first == "X-Amz-Signature" ||
                                                  (c.options.omit_session_token && q.first == "X-Amz-Security-Token");
                                         }),
                          signed_part.query.end());
  std::string canonical = signer.canonical_request(signed_part);
  EXPECT_EQ(canonical, trimmed(read(kSuite / GetParam() / "query-canonical-request.txt")));
  EXPECT_EQ(signer.string_to_sign(canonical, c.time), trimmed(read(kSuite / GetParam() / "query-string-to-sign.txt")));
  // The expected signed URL carries exactly our parameters (the suite prints some
  // values unencoded, so compare decoded).
  std::string url_line = read(kSuite / GetParam() / "query-signed-request.txt");
  std::string target = url_line.substr(url_line.find(' ') + 1);
  target = target.substr(0, target.rfind(" HTTP/"));
  HeaderList expected;
  std::string q = target.substr(target.find('?') + 1);
  for (size_t start = 0; start < q.size();) {
    size_t end = std::min(q.find('&', start), q.size());
    std::string pair = q.substr(start, end - start);
    expected.emplace_back(decoded(pair.substr(0, pair.find('='))), decoded(pair.substr(pair.find('=') + 1)));
    start = end + 1;
  }
  HeaderList ours = r.query;
  std::sort(expected.begin(), expected.end());
  std::sort(ours.begin(), ours.end());
  EXPECT_EQ(ours, expected);
}

INSTANTIATE_TEST_SUITE_P(Official, SigV4Suite, ::testing::ValuesIn(case_names()), [](const auto& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

TEST(SigV4, SuiteIsComplete) { EXPECT_EQ(case_names().size(), 38u); }

TEST(SigV4, SigningKeyCacheFollowsSecretAndDate) {
  SigV4Signer signer("us-east-1", "s3");
  AwsCredentials a{"AK", "secret-a", "", std::nullopt};
  AwsCredentials b{"AK", "secret-b", "", std::nullopt};
  SystemTime day1(std::chrono::seconds(1440938160));
  SystemTime day2 = day1 + std::chrono::hours(24);
  std::string s1 = signer.signature("x", a, day1);
  EXPECT_NE(signer.signature("x", b, day1), s1);
  EXPECT_NE(signer.signature("x", a, day2), s1);
  EXPECT_EQ(signer.signature("x", a, day1), s1);
}

TEST(SigV4, PercentEncodeIsSigV4Encoding) {
  EXPECT_EQ(percent_encode("a b/c+d=e%f~_.-", true), "a%20b/c%2Bd%3De%25f~_.-");
  EXPECT_EQ(percent_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(percent_encode("\xE1\x88\xB4", false), "%E1%88%B4");
}

TEST(SigV4, Sha256InPiecesEqualsWhole) {
  std::string data(3 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 1000);
  Sha256 pieces;
  for (size_t at = 0; at < data.size(); at += 100'003) pieces.update(std::string_view(data).substr(at, 100'003));
  EXPECT_EQ(pieces.hex_digest(), sha256_hex(data));
  EXPECT_EQ(Sha256().hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace scigate
