#include "core/time_util.h"

#include <gtest/gtest.h>

namespace scigate {
namespace {

using namespace std::chrono_literals;

TEST(ParseIso8601, FormatsOfAwsEarthdataAndAirflow) {
  auto a = parse_iso8601("2021-01-27 00:50:09+00:00");  // Earthdata
  auto b = parse_iso8601("2021-01-27T00:50:09Z");       // STS, IMDS
  auto c = parse_iso8601("2021-01-27T00:50:09.123Z");   // S3 LastModified
  auto d = parse_iso8601("2021-01-27T02:50:09+02:00");
  auto e = parse_iso8601("2021-01-27T00:50:09.123456+00:00");  // Airflow
  auto f = parse_iso8601("2021-01-27T00:50:09");
  ASSERT_TRUE(a && b && c && d && e && f);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *d);
  EXPECT_EQ(*a, *f);
  EXPECT_EQ(*c, *a + 123ms);
  EXPECT_EQ(*e, *a + 123456us);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*a), 1611708609);
  EXPECT_EQ(parse_iso8601(format_iso8601(*e)), *e);
  for (const char* bad : {"", "tomorrow", "2021-01-27", "2021-01-27T00:50", "2021-01-27T00:50:09 junk",
                          "2021-01-27T00:50:09.Z", "2021-01-27T00:50:09+0"}) {
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
  }
}

TEST(FormatIso8601, MicrosecondsAndTheCachedSecond) {
  auto t = SystemTime(std::chrono::microseconds(1'800'000'000'123'456LL));
  EXPECT_EQ(format_iso8601(t), "2027-01-15T08:00:00.123456Z");
  EXPECT_EQ(format_iso8601(t + std::chrono::microseconds(1)), "2027-01-15T08:00:00.123457Z");
  EXPECT_EQ(format_iso8601(t + std::chrono::seconds(61)), "2027-01-15T08:01:01.123456Z");
  EXPECT_EQ(format_iso8601(SystemTime(std::chrono::microseconds(-1))), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_iso8601(SystemTime{}), "1970-01-01T00:00:00.000000Z");
}

// A far year overflowed SystemTime (found by fuzzing, fuzz/corpus/credentials/
// iso8601-far-year.json); a zone that is not exactly "hh:mm" was read past the end of the
// text (found reading the function, confirmed under ASan: iso8601-loose-zone.json).
TEST(ParseIso8601, RefusesLooseZonesAndUnrepresentableYears) {
  for (const char* bad : {"2021-01-27T00:50:09+1:23", "2021-01-27T00:50:09+ 1:00", "2021-01-27T00:50:09+01:2",
                          "2021-01-27T00:50:09-01:", "2021-01-27T00:50:09+24:00", "2021-01-27T00:50:09+01:60",
                          "4052-11-23T15:00:00Z", "2262-04-12T00:00:00Z", "1014-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
  }
  auto late = parse_iso8601("2261-12-31T23:59:59-05:30");
  ASSERT_TRUE(late);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*late), 9214646399 + 5 * 3600 + 1800);
  ASSERT_TRUE(parse_iso8601("1700-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace scigate
