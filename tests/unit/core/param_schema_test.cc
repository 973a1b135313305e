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

ParamSchema text_schema(const char* props, ParamLimits limits = {}) {
  auto s = ParamSchema::from_properties(json::parse(props).as_object(), limits);
  EXPECT_TRUE(s) << s.error().client;
  return s.value();
}

json::object one(const char* name, json::value v) { return json::object{{name, std::move(v)}}; }

TEST(ParamSchema, StringsWithoutMaxLengthAreBoundedByDefault) {
  auto s = text_schema(R"({"text": {"type": "string"}, "any": {}})");
  EXPECT_EQ(s.limits().max_param_bytes, 64u << 10);
  EXPECT_TRUE(s.validate(one("text", json::string(std::string(64 << 10, 'a')))));
  for (const char* name : {"text", "any"}) {
    auto out = s.validate(one(name, json::string(std::string(200 << 10, 'a'))));
    ASSERT_FALSE(out) << name;
    EXPECT_EQ(out.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(out.error().client,
              "parameter '" + std::string(name) + "' is too long: 204800 bytes, at most 65536 allowed");
  }
  auto array = s.validate(one("any", json::array(20000, json::string(std::string(8, 'x')))));
  ASSERT_FALSE(array);
  EXPECT_NE(array.error().client.find("parameter 'any' is too large"), std::string::npos) << array.error().client;
}

TEST(ParamSchema, MinAndMaxLengthCountCharactersAndReplaceTheDefaultBound) {
  auto s = text_schema(R"({"big": {"type": "string", "maxLength": 300000}, "code": {"minLength": 2, "maxLength": 3}})");
  EXPECT_TRUE(s.validate(one("big", json::string(std::string(200 << 10, 'a')))));
  EXPECT_EQ(s.validate(one("big", json::string(std::string(300001, 'a')))).error().client,
            "parameter 'big' must be at most 300000 characters long");
  EXPECT_TRUE(s.validate(one("code", "\u00e9\u00e9\u00e9")));  // 3 characters, 6 bytes
  EXPECT_EQ(s.validate(one("code", "abcd")).error().client, "parameter 'code' must be at most 3 characters long");
  EXPECT_EQ(s.validate(one("code", "a")).error().client, "parameter 'code' must be at least 2 characters long");
  auto js = s.to_json_schema();
  EXPECT_EQ(js.at("properties").at("big").at("maxLength"), 300000);
  EXPECT_EQ(js.at("properties").at("code").at("minLength"), 2);
}

TEST(ParamSchema, AllParametersTogetherAreBounded) {
  auto s = text_schema(R"({"a": {"type": "string"}, "b": {"type": "string"}})", {1000, 1500});
  EXPECT_TRUE(s.validate(json::object{{"a", std::string(700, 'a')}}));
  auto out = s.validate(json::object{{"a", std::string(700, 'a')}, {"b", std::string(900, 'b')}});
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().client.find("parameters are too large"), std::string::npos) << out.error().client;
  EXPECT_EQ(s.with_limits({}).limits().max_params_bytes, 256u << 10);
  EXPECT_TRUE(s.with_limits({}).validate(json::object{{"a", std::string(700, 'a')}, {"b", std::string(900, 'b')}}));
}

TEST(ParamSchema, RejectsBadLengthDefinitions) {
  for (const char* bad :
       {R"({"a": {"maxLength": -1}})", R"({"a": {"maxLength": 1.5}})", R"({"a": {"type": "integer", "maxLength": 3}})",
        R"({"a": {"minLength": 4, "maxLength": 3}})"}) {
    auto s = ParamSchema::from_properties(json::parse(bad).as_object());
    ASSERT_FALSE(s) << bad;
    EXPECT_NE(s.error().client.find("'a'"), std::string::npos);
  }
}

}  // namespace
}  // namespace scigate
