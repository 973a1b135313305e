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

// Found reviewing what the config fuzz target reaches, confirmed under UBSan with
// fuzz/corpus/config/duration-overflow.yaml: a 12-digit count of days overflowed 64 bits,
// and so could long sums.
TEST(Duration, RefusesWhatClocksCannotHold) {
  for (const char* bad : {"999999999999d", "999999999999h", "5000000000s", "36500d1d", "999999999999"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
  EXPECT_EQ(parse_duration("36500d"), milliseconds(36500LL * 86'400'000));
  EXPECT_EQ(parse_duration("3153600000"), milliseconds(3'153'600'000'000LL));
}

TEST(Duration, Formats) {
  EXPECT_EQ(format_duration(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(5)), "5ms");
}

}  // namespace
}  // namespace scigate
