#include "http/router.h"

#include <gtest/gtest.h>

namespace scigate {
namespace {

Router make_router() {
  Router r;
  auto h = [](const RequestContext&, const Request&) { return Response::text(200, "x"); };
  r.add({"GET", "/workflows", Auth::kRequired, true, h});
  r.add({"GET", "/workflows/{id}", Auth::kRequired, true, h});
  r.add({"POST", "/workflows/{id}/runs", Auth::kRequired, true, h});
  r.add({"GET", "/workflows/{id}/runs", Auth::kRequired, true, h});
  r.add({"GET", "/data-selections/workflows", Auth::kRequired, true, h});
  r.add({"GET", "/data-selections/{id}/workflows", Auth::kRequired, true, h});
  r.add({"GET", "/output-data/{prefix...}", Auth::kRequired, true, h});
  r.add({"PUT", "/output-data/{prefix...}", Auth::kRequired, true, h});
  r.add({"GET", "/files/{provider}/{bucket}/{key...}", Auth::kNone, true, h});
  r.add({"POST", "/runs/{run_id}/cancel", Auth::kRequired, true, h});
  return r;
}

Request req(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

TEST(Router, MatchesLiteralsAndParams) {
  Router r = make_router();
  auto q = req("GET", "/workflows/nebraska");
  auto m = r.match(q);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->pattern, "/workflows/{id}");
  EXPECT_EQ(q.path_params.at("id"), "nebraska");

  auto runs = req("POST", "/workflows/a%20b/runs");
  ASSERT_TRUE(r.match(runs).route);
  EXPECT_EQ(runs.path_params.at("id"), "a b");

  auto lit = req("GET", "/data-selections/workflows");
  EXPECT_EQ(r.match(lit).route->pattern, "/data-selections/workflows");
  auto param = req("GET", "/data-selections/x/workflows");
  EXPECT_EQ(r.match(param).route->pattern, "/data-selections/{id}/workflows");
}

TEST(Router, TailCapturesEncodedRestIncludingEmpty) {
  Router r = make_router();
  for (auto [path, tail] : std::vector<std::pair<std::string, std::string>>{{"/output-data", ""},
                                                                            {"/output-data/", ""},
                                                                            {"/output-data/thomas/run/", "thomas/run/"},
                                                                            {"/output-data/a%2Fb/..", "a%2Fb/.."}}) {
    auto q = req("GET", path);
    auto m = r.match(q);
    ASSERT_TRUE(m.route) << path;
    EXPECT_EQ(q.tail, tail) << path;
  }
  auto f = req("GET", "/files/local/staging/thomas/x.png");
  ASSERT_TRUE(r.match(f).route);
  EXPECT_EQ(f.path_params.at("provider"), "local");
  EXPECT_EQ(f.path_params.at("bucket"), "staging");
  EXPECT_EQ(f.tail, "thomas/x.png");
}

TEST(Router, UnknownPathAndWrongMethod) {
  Router r = make_router();
  auto none = req("GET", "/nope");
  auto m = r.match(none);
  EXPECT_FALSE(m.route);
  EXPECT_FALSE(m.path_known);
  auto wrong = req("DELETE", "/workflows/x/runs");
  auto w = r.match(wrong);
  EXPECT_FALSE(w.route);
  EXPECT_TRUE(w.path_known);
  EXPECT_EQ(w.allowed_methods, "POST, GET, HEAD");
  for (auto p : {"/workflows/", "/workflows//runs", "/workflows/x/runs/extra", "/workflows/%zz", ""}) {
    auto q = req("GET", p);
    EXPECT_FALSE(r.match(q).route) << p;
  }
}

TEST(Router, HeadMatchesTheGetRouteOnly) {
  Router r = make_router();
  auto head = req("HEAD", "/workflows/x/runs");
  auto m = r.match(head);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->method, "GET");
  EXPECT_EQ(head.path_params.at("id"), "x");
  auto post_only = req("HEAD", "/runs/r1/cancel");
  auto p = r.match(post_only);
  EXPECT_FALSE(p.route);
  EXPECT_TRUE(p.path_known);
}

TEST(Query, RepeatedNamesKeepEveryValueAndTheLastWinsForOne) {
  Request r;
  r.query = parse_query("bidx=1&url=s3%3A%2F%2Fb%2Fk&bidx=3&flag&rescale=0,1&x=a+b&bad=%zz");
  EXPECT_EQ(r.query_params("bidx"), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(r.query_param("bidx"), "3");
  EXPECT_EQ(r.query_param("url"), "s3://b/k");
  EXPECT_TRUE(r.has_query_param("flag"));
  EXPECT_EQ(r.query_param("flag"), "");
  EXPECT_FALSE(r.has_query_param("nope"));
  EXPECT_EQ(r.query_param("x"), "a b");
  EXPECT_EQ(r.query_param("bad"), "%zz");
}

}  // namespace
}  // namespace scigate
