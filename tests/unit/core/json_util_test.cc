#include "core/json_util.h"

#include <gtest/gtest.h>

#include <limits>

namespace scigate {
namespace {

namespace json = boost::json;

TEST(ToJsonText, DoublesInPlainShortestFormAndStillFloats) {
  EXPECT_EQ(to_json_text(json::value(-97.0)), "-97.0");  // Boost 1.74: -9.7E1
  EXPECT_EQ(to_json_text(json::value(0.0003)), "0.0003");
  EXPECT_EQ(to_json_text(json::value(0.1)), "0.1");
  EXPECT_EQ(to_json_text(json::value(1e300)), "1e+300");
  EXPECT_EQ(to_json_text(json::value(-0.0)), "-0.0");
  // Reads back to the same double.
  double third = 1.0 / 3.0;
  EXPECT_EQ(json::parse(to_json_text(json::value(third))).as_double(), third);
}

TEST(ToJsonText, NonFiniteBecomesNull) {
  EXPECT_EQ(to_json_text(json::value(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(to_json_text(json::value(std::numeric_limits<double>::infinity())), "null");
}

TEST(ToJsonText, IntegersStringsAndContainers) {
  json::value v = {{"a", json::array{1, -2, true, nullptr}},
                   {"u", std::numeric_limits<uint64_t>::max()},
                   {"s", "q\"\\\n"},
                   {"o", json::object{}}};
  EXPECT_EQ(to_json_text(v), R"({"a":[1,-2,true,null],"u":18446744073709551615,"s":"q\"\\\n","o":{}})");
}

TEST(ToJsonText, InvalidUtf8IsRepaired) {
  std::string text =
      to_json_text(json::value(json::string("a\xff"
                                            "b")));
  EXPECT_NO_THROW(json::parse(text));
  EXPECT_NE(text.find('a'), std::string::npos);
}

}  // namespace
}  // namespace scigate
