// Lambda mode's pure parts (events in, answers out, the authorizer) and the handler over
// a router of test routes; the Runtime API client against a loopback peer. The whole
// runtime against an emulator of Lambda is tests/integration/test_lambda.py.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <mutex>
#include <thread>

#include "core/base64.h"
#include "core/json_util.h"
#include "fakes/loopback_server.h"
#include "lambda/authorizer.h"
#include "lambda/events.h"
#include "lambda/handler.h"
#include "lambda/runtime.h"

namespace scigate::lambda {
namespace {

namespace json = boost::json;

json::object parse(const std::string& text) {
  auto v = parse_json(text);
  EXPECT_TRUE(v && v->is_object()) << text;
  return v && v->is_object() ? v->get_object() : json::object{};
}

TEST(LambdaEvents, RestV1ProxyEvent) {
  std::string event = R"({
    "resource": "/{proxy+}", "path": "/workflows/nebraska/runs", "httpMethod": "post",
    "headers": {"Content-Type": "application/json", "X-One": "a"},
    "multiValueHeaders": {"X-One": ["a", "b"], "Authorization": ["Bearer t"]},
    "queryStringParameters": {"limit": "2"},
    "multiValueQueryStringParameters": {"limit": ["1", "2"]},
    "pathParameters": {"proxy": "workflows/nebraska/runs"}, "stageVariables": null,
    "requestContext": {"stage": "dev", "authorizer": {"username": "thomas", "principalId": "thomas"}},
    "body": "eyJhIjogMX0=", "isBase64Encoded": true})";
  auto e = parse_event(event, nullptr, {});
  ASSERT_TRUE(e) << e.error().internal;
  EXPECT_EQ(e->format, PayloadFormat::kV1);
  EXPECT_EQ(e->request.method, "POST");
  EXPECT_EQ(e->request.path, "/workflows/nebraska/runs");
  EXPECT_EQ(e->request.body, R"({"a": 1})");
  EXPECT_EQ(e->request.header("x-one"), "b");  // the last of a repeated header, as the server
  EXPECT_EQ(e->request.header("authorization"), "Bearer t");
  EXPECT_EQ(e->request.query_params("limit"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(e->authorizer_username, "thomas");
}

TEST(LambdaEvents, HttpV2EventDropsTheStageAndKeepsCookies) {
  std::string event = R"({"version": "2.0", "routeKey": "$default", "rawPath": "/dev/output-data/thomas/a b",
    "rawQueryString": "format=html&x=%2F", "cookies": ["a=1", "b=2"], "headers": {"authorization": "Bearer t"},
    "requestContext": {"stage": "dev", "http": {"method": "GET", "path": "/dev/output-data/thomas/a b"},
                       "authorizer": {"lambda": {"username": "dliu"}}}, "isBase64Encoded": false})";
  auto e = parse_event(event, nullptr, {});
  ASSERT_TRUE(e) << e.error().internal;
  EXPECT_EQ(e->format, PayloadFormat::kV2);
  EXPECT_EQ(e->request.path, "/output-data/thomas/a%20b");
  EXPECT_EQ(e->request.query_param("x"), "/");
  EXPECT_EQ(e->request.header("cookie"), "a=1; b=2");
  EXPECT_EQ(e->authorizer_username, "dliu");
}

TEST(LambdaEvents, FunctionUrlEvent) {
  std::string event = R"({"version": "2.0", "rawPath": "/workflows", "rawQueryString": "",
    "headers": {"authorization": "Bearer t"},
    "requestContext": {"domainName": "abc.lambda-url.us-west-2.on.aws", "stage": "$default",
                       "http": {"method": "GET"}}})";
  auto e = parse_event(event, nullptr, {});
  ASSERT_TRUE(e) << e.error().internal;
  EXPECT_EQ(e->request.path, "/workflows");
  EXPECT_FALSE(e->authorizer_username);
}

TEST(LambdaEvents, SeedStyleEventsFillTheOperationsRoute) {
  auto e = parse_event(R"({"pathParameters": {"id": "nebraska"}, "requestContext": {"authorizer": {"username": "u"}},
                           "body": "{\"in_data_selection\": \"x\"}"})",
                       find_operation("createrun"), {});
  ASSERT_TRUE(e) << e.error().internal;
  EXPECT_EQ(e->request.method, "POST");
  EXPECT_EQ(e->request.path, "/workflows/nebraska/runs");
  EXPECT_EQ(e->authorizer_username, "u");

  // A one-segment parameter is encoded whole; a tail keeps its slashes.
  auto d = parse_event(R"({"pathParameters": {"id": "a/b"}})", find_operation("describeworkflow"), {});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->request.path, "/workflows/a%2Fb");
  auto b = parse_event(R"({"pathParameters": {"prefix": "thomas/run 1/"}})", find_operation("browseoutputs"), {});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->request.path, "/output-data/thomas/run%201/");

  // The seed's listworkflows answered both routes.
  auto all = parse_event("{}", find_operation("listworkflows"), {});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->request.path, "/workflows");
  auto some =
      parse_event(R"({"queryStringParameters": {"data_id": "nebraska_images"}})", find_operation("listworkflows"), {});
  ASSERT_TRUE(some);
  EXPECT_EQ(some->request.path, "/data-selections/workflows");

  auto missing = parse_event(R"({"pathParameters": {}})", find_operation("listruns"), {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(missing.error().client.find("pathParameters.id"), std::string::npos);
}

TEST(LambdaEvents, BadEventsAreBadRequests) {
  for (std::string bad :
       {"", "not json", "[1,2]", "42", R"({"httpMethod": 5, "path": "/x"})", R"({"path": "/x"})",
        R"({"httpMethod": "GET", "path": "x"})", R"({"httpMethod": "GET", "path": "/x", "headers": []})",
        R"({"httpMethod": "GET", "path": "/x", "headers": {"a": 1}})",
        R"({"httpMethod": "GET", "path": "/x", "multiValueHeaders": {"a": "b"}})",
        R"({"httpMethod": "GET", "path": "/x", "body": "!!", "isBase64Encoded": true})",
        R"({"httpMethod": "GET", "path": "/x", "multiValueHeaders": {"Authorization": ["a", "b"]}})",
        R"({"version": "2.0", "rawPath": "/x"})", R"({"something": "else"})"}) {
    auto e = parse_event(bad, nullptr, {});
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().code, ErrorCode::kBadRequest) << bad;
  }
  auto big = parse_event(R"({"httpMethod": "POST", "path": "/x", "body": "0123456789"})", nullptr, {8});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::kPayloadTooLarge);
}

TEST(LambdaEvents, AnswersForV1AndV2) {
  Response r = Response::json(201, json::object{{"a", 1}});
  r.with_header("X-Request-Id", "r1").with_header("Set-Cookie", "a=1").with_header("Set-Cookie", "b=2");
  auto v1 = parse(format_response(r, PayloadFormat::kV1));
  EXPECT_EQ(v1["statusCode"], 201);
  EXPECT_EQ(v1["body"], R"({"a":1})");
  EXPECT_EQ(v1["isBase64Encoded"], false);
  EXPECT_EQ(v1["headers"].at("Content-Type"), "application/json");
  EXPECT_EQ(v1["multiValueHeaders"].at("Set-Cookie"), (json::array{"a=1", "b=2"}));
  auto v2 = parse(format_response(r, PayloadFormat::kV2));
  EXPECT_EQ(v2["cookies"], (json::array{"a=1", "b=2"}));
  EXPECT_FALSE(v2["headers"].as_object().contains("Set-Cookie"));
  EXPECT_EQ(v2["headers"].at("X-Request-Id"), "r1");

  std::string png("\x89PNG\r\n\x1a\n\0\0", 10);
  auto bin = parse(format_response(Response::text(200, png, "image/png"), PayloadFormat::kV1));
  EXPECT_EQ(bin["isBase64Encoded"], true);
  std::string decoded;
  ASSERT_TRUE(base64_decode(std::string(bin["body"].as_string()), decoded));
  EXPECT_EQ(decoded, png);
  // Bytes that are not UTF-8 go base64 whatever the type says.
  EXPECT_EQ(parse(format_response(Response::text(200, "\xff\xfe"), PayloadFormat::kV2))["isBase64Encoded"], true);
  EXPECT_EQ(parse(format_response(Response::text(200, "x"), PayloadFormat::kV1, /*head=*/true))["body"], "");
}

TEST(LambdaEvents, Base64DecodeIsStrict) {
  std::string out;
  EXPECT_TRUE(base64_decode("aGk=", out));
  EXPECT_EQ(out, "hi");
  EXPECT_TRUE(base64_decode("aGk", out));
  EXPECT_EQ(out, "hi");
  EXPECT_FALSE(base64_decode("a", out));
  EXPECT_FALSE(base64_decode("a=Gk", out));
  EXPECT_FALSE(base64_decode("aG-k", out));
  std::string long_input(40000, 'A');
  EXPECT_TRUE(base64_decode(long_input, out));
  EXPECT_EQ(out.size(), 30000u);
}

Authenticator only_good_token() {
  return [](std::string_view authorization) -> Result<std::string> {
    if (authorization == "Bearer good" || authorization == "good") return std::string("thomas");
    return Error::unauthenticated("bad token");
  };
}

TEST(LambdaAuthorizer, AllowsAGoodTokenForTheMethodArn) {
  std::string arn = "arn:aws:execute-api:us-west-2:123456789012:abc123/dev/GET/workflows";
  auto request =
      authorize(R"({"type": "REQUEST", "methodArn": ")" + arn + R"(", "headers": {"authorization": "Bearer good"}})",
                only_good_token());
  ASSERT_TRUE(request) << request.error().internal;
  auto policy = parse(*request);
  EXPECT_EQ(policy["principalId"], "thomas");
  EXPECT_EQ(policy["context"].at("username"), "thomas");
  auto statement = policy["policyDocument"].at("Statement").at(0).as_object();
  EXPECT_EQ(statement["Effect"], "Allow");
  EXPECT_EQ(statement["Action"], "execute-api:Invoke");
  EXPECT_EQ(statement["Resource"].as_string(), arn);

  auto token =
      authorize(R"({"type": "TOKEN", "methodArn": ")" + arn + R"(", "authorizationToken": "good"})", only_good_token());
  ASSERT_TRUE(token);
  auto v2 = authorize(R"({"version": "2.0", "type": "REQUEST", "routeArn": "arn:x", "headers": {"authorization":
                          "Bearer good"}})",
                      only_good_token());
  ASSERT_TRUE(v2);
  EXPECT_EQ(parse(*v2)["isAuthorized"], true);
}

TEST(LambdaAuthorizer, RefusesBadAbsentTokensAndBadEvents) {
  auto bad = authorize(R"({"type": "REQUEST", "methodArn": "arn:x", "headers": {"Authorization": "Bearer bad"}})",
                       only_good_token());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kUnauthenticated);
  auto none = authorize(R"({"type": "REQUEST", "methodArn": "arn:x", "headers": {}})", only_good_token());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kUnauthenticated);
  auto broken = authorize("{", only_good_token());
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ErrorCode::kBadRequest);
}

// An event stream with two events ready at once, then an open end (a run still going).
struct TwoEvents : PushSource {
  int polls = 0;
  Chunk poll() override {
    ++polls;
    if (polls == 1) return {"id: 1\ndata: a\n\n", false, true};
    if (polls == 2) return {"id: 2\ndata: b\n\n", false, false};
    return {"never sent\n", false, false};
  }
  std::chrono::milliseconds interval() const override { return std::chrono::milliseconds(1000); }
};

// A router with a few routes standing in for the API.
struct Api {
  Router router;
  RequestPipeline pipeline{router, only_good_token(), {"https://app.example"}};
  std::shared_ptr<HandlerTarget> target;
  Api() {
    router.add({"GET", "/workflows/{id}", Auth::kRequired, false, [](const RequestContext& ctx, const Request& req) {
                  return Response::json(200, json::object{{"id", req.path_params.at("id")}, {"user", ctx.username}});
                }});
    router.add({"GET", "/slow", Auth::kNone, true, [](const RequestContext&, const Request&) {
                  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
                  return Response::text(200, "late");
                }});
    router.add({"GET", "/file", Auth::kNone, true, [](const RequestContext&, const Request&) {
                  return Response::streamed(200, string_source(std::string("\x01\x02\x03", 3)),
                                            "application/octet-stream");
                }});
    router.add({"GET", "/big", Auth::kNone, true, [](const RequestContext&, const Request&) {
                  return Response::streamed(200, string_source(std::string(5 << 20, 'x')), "application/octet-stream");
                }});
    router.add({"GET", "/events", Auth::kNone, true, [](const RequestContext&, const Request&) {
                  Response r = Response::text(200, "", "text/event-stream");
                  r.push = std::make_shared<TwoEvents>();
                  return r;
                }});
    router.add({"GET", "/throws", Auth::kNone, true,
                [](const RequestContext&, const Request&) -> Response { throw std::runtime_error("boom"); }});
    target = std::make_shared<HandlerTarget>(HandlerTarget{nullptr, pipeline, only_good_token()});
  }
};

json::object call(Handler& h, const std::string& event) { return parse(h.handle_now(event, "req-1").payload); }

TEST(LambdaHandler, RoutesVerifiesAndShapesAnswers) {
  Api api;
  Handler h(api.target, {});
  auto ok = call(h, R"({"httpMethod": "GET", "path": "/workflows/w1",
                        "headers": {"Authorization": "Bearer good", "Origin": "https://app.example"}})");
  EXPECT_EQ(ok["statusCode"], 200);
  EXPECT_EQ(parse(std::string(ok["body"].as_string()))["user"], "thomas");
  EXPECT_EQ(ok["headers"].at("X-Request-Id"), "req-1");
  EXPECT_EQ(ok["headers"].at("Access-Control-Allow-Origin"), "https://app.example");

  EXPECT_EQ(call(h, R"({"httpMethod": "GET", "path": "/workflows/w1"})")["statusCode"], 401);
  EXPECT_EQ(call(h, R"({"httpMethod": "GET", "path": "/nothing"})")["statusCode"], 404);
  EXPECT_EQ(call(h, R"({"httpMethod": "DELETE", "path": "/workflows/w1"})")["statusCode"], 405);
  EXPECT_EQ(call(h, R"({"httpMethod": "GET", "path": "/throws"})")["statusCode"], 500);
  auto bad = call(h, "{nope");
  EXPECT_EQ(bad["statusCode"], 400);
  EXPECT_NE(bad["body"].as_string().find("unusable event"), std::string::npos);
  auto preflight = call(h, R"({"httpMethod": "OPTIONS", "path": "/workflows/w1", "headers": {"Origin":
                               "https://app.example"}})");
  EXPECT_EQ(preflight["statusCode"], 204);
  EXPECT_TRUE(preflight["headers"].as_object().contains("Access-Control-Allow-Methods"));

  auto file = call(h, R"({"version": "2.0", "rawPath": "/file", "requestContext": {"http": {"method": "GET"}}})");
  EXPECT_EQ(file["isBase64Encoded"], true);
  EXPECT_EQ(file["body"], "AQID");
}

TEST(LambdaHandler, BufferedAnswersHaveLimits) {
  Api api;
  Handler h(api.target, {});
  // An event stream sends what is ready and ends (EventSource resumes with Last-Event-ID).
  auto events = call(h, R"({"httpMethod": "GET", "path": "/events"})");
  EXPECT_EQ(events["statusCode"], 200);
  EXPECT_EQ(events["body"], "id: 1\ndata: a\n\nid: 2\ndata: b\n\n");
  // Past what a Lambda answer may carry once base64-encoded: a 502 that says so.
  auto big = call(h, R"({"httpMethod": "GET", "path": "/big"})");
  EXPECT_EQ(big["statusCode"], 502);
  EXPECT_NE(big["body"].as_string().find("6 MB"), std::string::npos);
  // HEAD: the GET answer's headers, no body.
  auto head = call(h, R"({"httpMethod": "HEAD", "path": "/file"})");
  EXPECT_EQ(head["statusCode"], 200);
  EXPECT_EQ(head["body"], "");
}

TEST(LambdaHandler, TrustsTheAuthorizerOnlyWhenTold) {
  Api api;
  HandlerOptions trust;
  trust.operation = find_operation("describeworkflow");
  trust.trust_authorizer = true;
  Handler trusting(api.target, trust);
  auto ok =
      call(trusting, R"({"pathParameters": {"id": "w1"}, "requestContext": {"authorizer": {"username": "dliu"}}})");
  EXPECT_EQ(ok["statusCode"], 200);
  EXPECT_EQ(parse(std::string(ok["body"].as_string()))["user"], "dliu");
  EXPECT_EQ(call(trusting, R"({"pathParameters": {"id": "w1"}})")["statusCode"], 401);

  HandlerOptions verify;
  verify.operation = trust.operation;
  Handler verifying(api.target, verify);
  EXPECT_EQ(call(verifying, R"({"pathParameters": {"id": "w1"}, "requestContext": {"authorizer": {"username":
                                "dliu"}}})")["statusCode"],
            401);
}

TEST(LambdaHandler, AnswersBeforeTheDeadline) {
  Api api;
  Handler h(api.target, {});
  auto start = std::chrono::steady_clock::now();
  Outcome out = h.handle(R"({"httpMethod": "GET", "path": "/slow"})", "req-2",
                         std::chrono::system_clock::now() + std::chrono::milliseconds(600));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(600));
  EXPECT_EQ(parse(out.payload)["statusCode"], 504);
  // A fast one in time is answered normally.
  Outcome fast = h.handle(R"({"httpMethod": "GET", "path": "/file"})", "req-3",
                          std::chrono::system_clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(parse(fast.payload)["statusCode"], 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // let the straggler end
}

TEST(LambdaHandler, AuthorizerMode) {
  Api api;
  HandlerOptions o;
  o.authorizer = true;
  Handler h(api.target, o);
  Outcome ok = h.handle_now(R"({"type": "TOKEN", "methodArn": "arn:x", "authorizationToken": "Bearer good"})", "r");
  EXPECT_FALSE(ok.failed);
  Outcome refused = h.handle_now(R"({"type": "TOKEN", "methodArn": "arn:x", "authorizationToken": "x"})", "r");
  EXPECT_TRUE(refused.failed);
  EXPECT_EQ(refused.payload, "Unauthorized");
  EXPECT_EQ(refused.error_type, "Unauthorized");
}

TEST(LambdaRuntimeClient, SpeaksTheRuntimeApi) {
  LoopbackServer peer;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> posted;  // path, body
  peer.router().add(
      {"GET", "/2018-06-01/runtime/invocation/next", Auth::kNone, true, [](const RequestContext&, const Request&) {
         return Response::text(200, R"({"httpMethod":"GET"})", "application/json")
             .with_header("Lambda-Runtime-Aws-Request-Id", "8476a536")
             .with_header("Lambda-Runtime-Deadline-Ms", "1893456000000")
             .with_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:f");
       }});
  for (const char* pattern : {"/2018-06-01/runtime/invocation/{id}/response",
                              "/2018-06-01/runtime/invocation/{id}/error", "/2018-06-01/runtime/init/error"}) {
    peer.router().add({"POST", pattern, Auth::kNone, true, [&](const RequestContext&, const Request& req) {
                         std::lock_guard lock(mu);
                         posted.emplace_back(req.path + " " + req.header("lambda-runtime-function-error-type"),
                                             req.body);
                         return Response::text(202, "");
                       }});
  }
  std::string base = peer.start();
  RuntimeClient client(base.substr(std::string("http://").size()));
  auto inv = client.next();
  ASSERT_TRUE(inv) << inv.error().internal;
  EXPECT_EQ(inv->request_id, "8476a536");
  EXPECT_EQ(inv->event, R"({"httpMethod":"GET"})");
  EXPECT_EQ(inv->function_arn, "arn:aws:lambda:f");
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(inv->deadline.time_since_epoch()).count(),
            1893456000000);
  ASSERT_TRUE(client.respond("8476a536", R"({"statusCode":200})"));
  ASSERT_TRUE(client.fail("8476a536", "Unauthorized", "Unauthorized"));
  ASSERT_TRUE(client.init_error("Runtime.InitError", "parameter /x not found"));
  std::lock_guard lock(mu);
  ASSERT_EQ(posted.size(), 3u);
  EXPECT_EQ(posted[0].first, "/2018-06-01/runtime/invocation/8476a536/response ");
  EXPECT_EQ(posted[1].first, "/2018-06-01/runtime/invocation/8476a536/error Unauthorized");
  EXPECT_EQ(parse(posted[1].second)["errorMessage"], "Unauthorized");
  EXPECT_EQ(posted[2].first, "/2018-06-01/runtime/init/error Runtime.InitError");
}

}  // namespace
}  // namespace scigate::lambda
