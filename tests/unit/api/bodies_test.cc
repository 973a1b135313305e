// The request bodies' parsers, alone (handlers_test.cc covers them through the handlers).
#include "api/bodies.h"

#include <gtest/gtest.h>

#include "api/sidecar.h"

namespace scigate::api {
namespace {

// Found by fuzzing (fuzz/corpus/request_body/metadata-padded-value.json): a value with
// surrounding blanks was written as given and read back without them.
TEST(MetadataUpdate, StoresValuesAsTheSidecarReadsThemBack) {
  auto files = parse_metadata_update(R"({"files": {"a/b.png": {"properties": {"label": " tumour \t", "n": 12}}}})");
  ASSERT_TRUE(files) << files.error().client;
  const auto& props = files->at("a/b.png");
  EXPECT_EQ(props.at("label"), "tumour");
  EXPECT_EQ(props.at("n"), "12");
  EXPECT_EQ(read_sidecar(write_sidecar("b.png", props)), props);
}

TEST(RunRequest, BothShapesAndServerKeys) {
  auto flat = parse_run_request(R"({"in_data_selection": "c", "workflow_id": "w", "n": 1})", "w");
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->data_selection, "c");
  EXPECT_EQ(boost::json::serialize(flat->params), R"({"n":1})");
  auto nested = parse_run_request(R"({"in_data_selection": "c", "params": {"n": 1}})", "w");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->params, flat->params);
  EXPECT_FALSE(parse_run_request(R"({"in_data_selection": "c", "params": {"username": "x"}})", "w"));
  EXPECT_FALSE(parse_run_request(R"({"in_data_selection": "c", "workflow_id": "other"})", "w"));
}

}  // namespace
}  // namespace scigate::api
