#include "core/param_schema.h"

#include <gtest/gtest.h>

namespace json = boost::json;

namespace scigate {
namespace {

ParamSchema schema() {
  auto props = json::parse(R"({
    "tile_size": {"type": "integer", "default": 64, "minimum": 16, "maximum": 512},
    "mode": {"type": "string", "enum": ["fast", "exact"], "default": "fast"},
    "label": {"type": "string", "required": true},
    "ratio": {"type": "number", "minimum": 0, "maximum": 1},
    "verbose": {"type": "boolean"},
    "bands": {"type": "array"}
  })")
                   .as_object();
  auto s = ParamSchema::from_properties(props);
  EXPECT_TRUE(s);
  return s.value();
}

TEST(ParamSchema, AppliesDefaults) {
  auto out = schema().validate(json::parse(R"({"label": "x"})").as_object());
  ASSERT_TRUE(out) << out.error().client;
  EXPECT_EQ(out->at("tile_size"), 64);
  EXPECT_EQ(out->at("mode"), "fast");
  EXPECT_FALSE(out->contains("ratio"));
}

struct Case {
  const char* body;
  const char* expected_fragment;  // nullptr = accepted
};

class ParamCases : public ::testing::TestWithParam<Case> {};

TEST_P(ParamCases, ValidatesAndNamesTheParameter) {
  auto out = schema().validate(json::parse(GetParam().body).as_object());
  if (GetParam().expected_fragment == nullptr) {
    EXPECT_TRUE(out) << out.error().client;
    return;
  }
  ASSERT_FALSE(out) << GetParam().body;
  EXPECT_EQ(out.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(out.error().client.find(GetParam().expected_fragment), std::string::npos) << out.error().client;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParamCases,
    ::testing::Values(Case{R"({"label": "x", "tile_size": 16})", nullptr},
                      Case{R"({"label": "x", "tile_size": 512.0})", nullptr},
                      Case{R"({"label": "x", "tile_size": 8})", "'tile_size' must be >= 16"},
                      Case{R"({"label": "x", "tile_size": 1024})", "'tile_size' must be <= 512"},
                      Case{R"({"label": "x", "tile_size": "64"})", "'tile_size' must be of type integer"},
                      Case{R"({"label": "x", "tile_size": 64.5})", "'tile_size' must be of type integer"},
                      Case{R"({"label": "x", "mode": "slow"})", "'mode' must be one of"},
                      Case{R"({"tile_size": 64})", "'label' is required"},
                      Case{R"({"label": 3})", "'label' must be of type string"},
                      Case{R"({"label": "x", "ratio": 1.5})", "'ratio' must be <= 1"},
                      Case{R"({"label": "x", "ratio": 0.5, "verbose": true, "bands": [1, 2]})", nullptr},
                      Case{R"({"label": "x", "verbose": "yes"})", "'verbose' must be of type boolean"},
                      Case{R"({"label": "x", "bands": {}})", "'bands' must be of type array"},
                      Case{R"({"label": "x", "extra": 1})", "unknown parameter 'extra'"}));

TEST(ParamSchema, RejectsBadDefinitions) {
  auto bad_type = ParamSchema::from_properties(json::parse(R"({"a": {"type": "float"}})").as_object());
  ASSERT_FALSE(bad_type);
  EXPECT_NE(bad_type.error().client.find("'a'"), std::string::npos);
  EXPECT_FALSE(ParamSchema::from_properties(json::parse(R"({"a": {"type": "integer", "default": "x"}})").as_object()));
  EXPECT_FALSE(ParamSchema::from_properties(json::parse(R"({"a": {"typo": 1}})").as_object()));
  EXPECT_FALSE(ParamSchema::from_properties(json::parse(R"({"a": 5})").as_object()));
}

// Found by fuzzing (fuzz/corpus/airflow/params-default-out-of-range.json): a default was
// applied to runs unchecked, so a schema could start runs with values it forbids.
TEST(ParamSchema, RejectsDefaultsOutsideTheirOwnRangeOrEnum) {
  for (const char* props : {R"({"a": {"type": "integer", "default": 32, "minimum": 45}})",
                            R"({"a": {"type": "number", "default": 2.5, "maximum": 1}})",
                            R"({"a": {"default": "slow", "enum": ["fast", "exact"]}})"}) {
    auto s = ParamSchema::from_properties(json::parse(props).as_object());
    ASSERT_FALSE(s) << props;
    EXPECT_NE(s.error().client.find("parameter 'a': default must be"), std::string::npos) << s.error().client;
  }
  auto ok = ParamSchema::from_properties(
      json::parse(R"({"a": {"type": "integer", "default": 45, "minimum": 45, "enum": [45, 46]}})").as_object());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->validate({})->at("a"), 45);
}

TEST(ParamSchema, ExportsJsonSchema) {
  auto js = schema().to_json_schema();
  EXPECT_EQ(js.at("type"), "object");
  EXPECT_EQ(js.at("additionalProperties"), false);
  const auto& tile = js.at("properties").at("tile_size").as_object();
  EXPECT_EQ(tile.at("minimum"), 16);
  EXPECT_EQ(tile.at("default"), 64);
  EXPECT_EQ(js.at("required").as_array().size(), 1u);
}

}  // namespace
}  // namespace scigate
