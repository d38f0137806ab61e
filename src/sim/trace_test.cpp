#include "sim/trace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace prescale::sim {
namespace {

std::string write_csv(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("prescale_" + name + ".csv");
  std::ofstream(path) << text;
  return path.string();
}

TEST(TraceTest, ParsesNabCsv) {
  const auto path = write_csv("ok",
                              "timestamp,value\n2014-07-01 00:00:00,10\n2014-07-01 00:05:00,20\n"
                              "2014-07-01 00:10:00,30.5\n");
  auto t = load_trace(path);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->points.size(), 3u);
  EXPECT_DOUBLE_EQ(t->points[1].t_s - t->points[0].t_s, 300);
  EXPECT_DOUBLE_EQ(t->points[2].value, 30.5);
  EXPECT_DOUBLE_EQ(t->median_gap_s(), 300);
}

TEST(TraceTest, BadRowsNameTheLine) {
  struct Case {
    const char* name;
    const char* csv;
    const char* expect;
  } cases[] = {
      {"a missing header is rejected", "2014-07-01 00:00:00,1\n", ":1: expected the header"},
      {"a bad timestamp names its line",
       "timestamp,value\n2014-07-01 00:00:00,1\n2014-13-01 00:00:00,2\n",
       ":3: timestamp: got '2014-13-01 00:00:00'"},
      {"a negative value is rejected",
       "timestamp,value\n2014-07-01 00:00:00,-1\n2014-07-01 00:05:00,2\n",
       ":2: value: got '-1', expected a number >= 0"},
      {"time going backwards is rejected",
       "timestamp,value\n2014-07-01 00:05:00,1\n2014-07-01 00:00:00,2\n", ":3: timestamp"},
      {"a row without a comma is rejected", "timestamp,value\n2014-07-01 00:00:00 1\n",
       ":2: expected 'YYYY-MM-DD HH:MM:SS,value'"},
      {"a single row is not a trace", "timestamp,value\n2014-07-01 00:00:00,1\n",
       "expected at least 2"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = load_trace(write_csv("bad", c.csv));
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.error().message.find(c.expect), std::string::npos) << t.error().message;
  }
}

TEST(TraceTest, ResampleAveragesBucketsAndInterpolatesGaps) {
  Trace t;
  // Buckets of 10 s: [0,10): 1 and 3 -> 2; [10,20): empty; [20,30): empty; [30,40): 8.
  t.points = {{0, 1}, {5, 3}, {30, 8}};
  const auto r = resample(t, 10);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_DOUBLE_EQ(r[0], 2);
  EXPECT_DOUBLE_EQ(r[1], 4);  // 2 + (8 - 2) / 3
  EXPECT_DOUBLE_EQ(r[2], 6);
  EXPECT_DOUBLE_EQ(r[3], 8);
}

TEST(TraceTest, ScaleToPeakMapsTheMaximum) {
  std::vector<double> v = {1, 4, 2};
  scale_to_peak(v, 1000);
  EXPECT_DOUBLE_EQ(v[0], 250);
  EXPECT_DOUBLE_EQ(v[1], 1000);
}

TEST(TraceTest, LoadsARealNabTrace) {
  const std::string path = "../shared/traces/nab/realKnownCause/nyc_taxi.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not present";
  auto t = load_trace(path);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_GT(t->points.size(), 10000u);
  EXPECT_DOUBLE_EQ(t->median_gap_s(), 1800);
}

}  // namespace
}  // namespace prescale::sim
