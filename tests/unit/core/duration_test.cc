#include "core/duration.h"

#include <gtest/gtest.h>

namespace scigate {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(parse_duration("30s"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("10m"), milliseconds(600'000));
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("2d"), milliseconds(172'800'000));
  EXPECT_EQ(parse_duration("45"), milliseconds(45'000));
}

TEST(Duration, RejectsGarbage) {
  for (const char* bad : {"", "s", "10x", "1.5h", "-1s", "h1", "99999999999999999h"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(Duration, Formats) {
  EXPECT_EQ(format_duration(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(5)), "5ms");
}

}  // namespace
}  // namespace scigate
