// The CredentialsProvider contract on every kind the factory builds from a config: fixed
// keys, Earthdata /s3credentials and STS AssumeRole (signed with fixed base keys). The
// endpoints are an in-process fake on scigate's own server, on a loopback port.
#include "contract/credentials_contract.h"

#include <atomic>
#include <thread>

#include "fakes/loopback_server.h"
#include "http_client/upstream.h"

namespace scigate::contract {
namespace {

constexpr const char* kExpiry = "2099-01-01T00:00:00Z";

// A DAAC's /s3credentials and STS, each answering the given secret or, when `failing`, 500.
class FakeEndpoints {
 public:
  explicit FakeEndpoints(bool failing) {
    server_.router().add(
        {"GET", "/s3credentials", Auth::kNone, false, [this, failing](const RequestContext&, const Request&) {
           ++hits;
           if (failing) return Response::text(500, "down");
           return Response::text(200,
                                 std::string(R"({"accessKeyId":"AKDAAC","secretAccessKey":"daac-secret",)") +
                                     R"("sessionToken":"t","expiration":")" + kExpiry + R"("})",
                                 "application/json");
         }});
    server_.router().add({"POST", "/", Auth::kNone, false, [this, failing](const RequestContext&, const Request& r) {
                            ++hits;
                            if (failing || r.body.find("Action=AssumeRole&") == std::string::npos)
                              return Response::text(500,
                                                    "<ErrorResponse><Error><Code>InternalFailure</Code></Error>"
                                                    "</ErrorResponse>");
                            return Response::text(200,
                                                  std::string("<AssumeRoleResponse><AssumeRoleResult><Credentials>") +
                                                      "<AccessKeyId>AKROLE</AccessKeyId><SecretAccessKey>role-secret"
                                                      "</SecretAccessKey><SessionToken>t</SessionToken><Expiration>" +
                                                      kExpiry + "</Expiration></Credentials></AssumeRoleResult>" +
                                                      "</AssumeRoleResponse>",
                                                  "text/xml");
                          }});
    base = server_.start();
  }

  std::string base;
  std::atomic<int> hits{0};

 private:
  LoopbackServer server_;  // last: stopped before the counters go
};

CredentialsUnderTest built(const CredentialsConfig& config, std::string secret,
                           std::shared_ptr<FakeEndpoints> fake = nullptr) {
  auto provider = make_credentials("contract", config, std::make_shared<UpstreamClient>());
  if (!provider) return {};
  std::function<int()> fetches;
  if (fake) fetches = [fake] { return fake->hits.load(); };
  return {std::move(provider).value(), std::move(secret), fetches, fake};
}

StaticCredentialsConfig fixed_keys() {
  StaticCredentialsConfig keys;
  keys.access_key_id = "AKSTATIC";
  keys.secret_access_key = Secret("env:CONTRACT_SECRET", "static-secret");
  return keys;
}

CredentialsUnderTest static_keys() { return built(CredentialsConfig{fixed_keys()}, "static-secret"); }

CredentialsUnderTest earthdata(bool failing) {
  auto fake = std::make_shared<FakeEndpoints>(failing);
  EarthdataCredentialsConfig daac;
  daac.url = fake->base + "/s3credentials";
  daac.token = Secret("env:CONTRACT_TOKEN", "edl-token");
  return built(CredentialsConfig{daac}, "daac-secret", fake);
}

CredentialsUnderTest assume_role(bool failing) {
  auto fake = std::make_shared<FakeEndpoints>(failing);
  AssumeRoleCredentialsConfig role;
  role.role_arn = "arn:aws:iam::1:role/contract";
  role.sts_region = "us-east-1";
  role.sts_endpoint = fake->base;
  role.base = std::make_shared<CredentialsConfig>(CredentialsConfig{fixed_keys()});
  return built(CredentialsConfig{role}, "role-secret", fake);
}

INSTANTIATE_TEST_SUITE_P(AllKinds, CredentialsContract,
                         ::testing::Values(CredentialsBackend{"static", static_keys, nullptr},
                                           CredentialsBackend{"earthdata_s3credentials",
                                                              [] { return earthdata(false); },
                                                              [] { return earthdata(true); }},
                                           CredentialsBackend{"sts_assume_role", [] { return assume_role(false); },
                                                              [] { return assume_role(true); }}),
                         credentials_backend_name);

}  // namespace
}  // namespace scigate::contract
