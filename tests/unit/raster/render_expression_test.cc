// Band math: a table of good expressions with their values and types, a table of bad ones
// with the position the error names, and the rules around masks and descriptions.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "raster/expression.h"

namespace scigate::raster {
namespace {

// One pixel, three bands: b1 = 10, b2 = 30, b3 = 4.
Image pixel(DataType type, double b1 = 10, double b2 = 30, double b3 = 4) {
  Image image;
  image.width = 1, image.height = 1, image.type = type;
  image.bands = {{b1}, {b2}, {b3}};
  image.valid = {255};
  return image;
}

struct Good {
  const char* text;
  double value;
  DataType type;  // for uint8 input
};

TEST(Expression, GoodExpressions) {
  const Good cases[] = {
      {"b1+b2", 40, DataType::kInt32},
      {"(b2-b1)/(b2+b1)", 0.5, DataType::kFloat64},
      {"B2 - B1", 20, DataType::kInt32},  // case-insensitive, as rio-tiler lower-cases
      {"b1*2+b3**2", 36, DataType::kInt32},
      {"-b1", -10, DataType::kInt32},
      {"b3**3**2", 262144, DataType::kInt32},  // right-associative: 4 ** 9
      {"-b3**2", -16, DataType::kInt32},       // ** binds tighter than unary minus
      {"b2 % 7", 2, DataType::kInt32},
      {"b2 // 7", 4, DataType::kInt32},
      {"b1 * 1.5", 15, DataType::kFloat64},
      {"b1 * 1e1 + .5", 100.5, DataType::kFloat64},
      {"sqrt(b3)", 2, DataType::kFloat64},
      {"abs(b1 - b2)", 20, DataType::kInt32},
      {"where(b1 > b3, b1, b3)", 10, DataType::kInt32},
      {"where((b1 > 5) & (b2 < 20), 1, 0)", 0, DataType::kInt32},
      {"where((b1 > 5) | (b2 < 20), 1, 0)", 1, DataType::kInt32},
      {"b1 < b2 < b3", 0, DataType::kUInt8},  // chained: b1 < b2 and b2 < b3
      {"b1 == 10", 1, DataType::kUInt8},
      {"log10(b1)", 1, DataType::kFloat64},
      {"arctan2(b1, b1)", std::atan(1.0), DataType::kFloat64},
      {"minimum(b1, b3) + maximum(b1, b3)", 14, DataType::kInt32},
      {"  b1  ", 10, DataType::kInt32},
      {"b1/0", std::numeric_limits<double>::max(), DataType::kFloat64},  // nan_to_num(inf)
      {"sqrt(b1 - b2)", 0, DataType::kFloat64},                          // nan_to_num(nan)
  };
  for (const Good& c : cases) {
    auto expr = Expression::parse(c.text);
    ASSERT_TRUE(expr.ok()) << c.text << ": " << expr.error().client;
    auto out = expr->apply(pixel(DataType::kUInt8), {1, 2, 3});
    ASSERT_TRUE(out.ok()) << c.text;
    ASSERT_EQ(out->bands.size(), 1u);
    EXPECT_DOUBLE_EQ(out->bands[0][0], c.value) << c.text;
    EXPECT_EQ(out->type, c.type) << c.text;
  }
}

TEST(Expression, TypesFollowTheInput) {
  auto expr = Expression::parse("b1 * 0.5");
  ASSERT_TRUE(expr.ok());
  EXPECT_EQ(expr->apply(pixel(DataType::kFloat32), {1, 2, 3})->type, DataType::kFloat32);
  EXPECT_EQ(expr->apply(pixel(DataType::kFloat64), {1, 2, 3})->type, DataType::kFloat64);
  EXPECT_EQ(expr->apply(pixel(DataType::kUInt16), {1, 2, 3})->type, DataType::kFloat64);
  // int32 arithmetic wraps as numexpr's.
  auto big = Expression::parse("b1 * b2");
  ASSERT_TRUE(big.ok());
  auto wrapped = big->apply(pixel(DataType::kUInt16, 65535, 65535), {1, 2, 3});
  EXPECT_DOUBLE_EQ(wrapped->bands[0][0], static_cast<double>(static_cast<int32_t>(65535u * 65535u)));
}

TEST(Expression, SeveralBlocksGiveSeveralBands) {
  auto expr = Expression::parse("b1/b2;b2+b3;");
  ASSERT_TRUE(expr.ok());
  EXPECT_EQ(expr->bands(), (std::vector<int>{1, 2, 3}));
  ASSERT_EQ(expr->blocks().size(), 2u);
  auto out = expr->apply(pixel(DataType::kFloat32), {1, 2, 3});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->bands.size(), 2u);
  EXPECT_NEAR(out->bands[0][0], 1.0 / 3, 1e-7);
  EXPECT_DOUBLE_EQ(out->bands[1][0], 34);
}

struct Bad {
  const char* text;
  const char* message;  // a part of the 400 message
};

TEST(Expression, BadExpressionsNameThePosition) {
  const Bad cases[] = {
      {"b1 +", "position 5: expected a number, a band or '(' but found end of expression"},
      {"(b1 + b2", "position 9: expected ')'"},
      {"b1 + b2)", "position 8: unexpected ')'"},
      {"b1 ^ b2", "position 4: unexpected character '^'"},
      {"b1; b2 $", "position 8: unexpected character '$'"},
      {"x1 + b1", "position 1: unknown name 'x1'"},
      {"b0", "position 1: unknown name 'b0'"},
      {"__import__(b1)", "position 1: unknown function '__import__'"},
      {"open('x')", "position 6: unexpected character"},
      {"eval(b1)", "unknown function 'eval'"},
      {"b1.real", "unexpected character '.'"},
      {"sqrt(b1, b2)", "sqrt() takes 1 argument(s), 2 given"},
      {"where(b1 > 1, b1)", "where() takes 3 argument(s), 2 given"},
      {"b1 b2", "position 4: unexpected 'b2'"},
      {"lambda: b1", "position 7: unexpected character ':'"},
      {"1 + 2", "Could not find any valid bands"},
      {"", "empty expression"},
      {";;", "empty expression"},
  };
  for (const Bad& c : cases) {
    auto expr = Expression::parse(c.text);
    ASSERT_FALSE(expr.ok()) << c.text;
    EXPECT_EQ(expr.error().code, ErrorCode::kBadRequest);
    EXPECT_NE(expr.error().client.find(c.message), std::string::npos) << c.text << " -> " << expr.error().client;
  }
}

TEST(Expression, MaskIsTheInputsAndMissingBandsFail) {
  Image image = pixel(DataType::kUInt8);
  image.width = 2;
  image.bands = {{1, 2}, {3, 4}, {5, 6}};
  image.valid = {255, 0};
  auto expr = Expression::parse("b1+b3");
  ASSERT_TRUE(expr.ok());
  auto out = expr->apply(image, {1, 2, 3});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->valid, (std::vector<uint8_t>{255, 0}));
  EXPECT_EQ(expr->apply(image, {1, 2}).error().code, ErrorCode::kBadRequest);
}

TEST(Expression, DescriptionsReplaceBandNames) {
  auto expr = Expression::parse("(b2-b1)/(b2+b1);b10*2");
  ASSERT_TRUE(expr.ok());
  const auto d = expr->describe({"red", "nir"});
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], "(nir-red)/(nir+red)");
  EXPECT_EQ(d[1], "b10*2");  // no description: the name stays
}

}  // namespace
}  // namespace scigate::raster
