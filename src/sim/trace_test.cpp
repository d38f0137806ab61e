#include "sim/trace.h"
#include "sim/workload.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

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
      {"an unknown header names both accepted ones", "time,value\n0,1\n1,2\n",
       ":1: expected the header 'timestamp,value' or 't_seconds,value', got 'time,value'"},
      {"negative relative seconds are rejected", "t_seconds,value\n-1,1\n5,2\n",
       ":2: t_seconds: got '-1', expected seconds since the start, a finite number >= 0"},
      {"non-finite relative seconds are rejected", "t_seconds,value\n0,1\ninf,2\n",
       ":3: t_seconds: got 'inf'"},
      {"a word for relative seconds is rejected", "t_seconds,value\n0,1\nsoon,2\n",
       ":3: t_seconds: got 'soon'"},
      {"a timestamp in a t_seconds file is rejected",
       "t_seconds,value\n2014-07-01 00:00:00,1\n2014-07-01 00:05:00,2\n",
       ":2: t_seconds: got '2014-07-01 00:00:00'"},
      {"repeated relative seconds are rejected", "t_seconds,value\n0,1\n5,2\n5,3\n",
       ":4: t_seconds '5' is not after the previous row's; expected strictly increasing seconds"},
      {"a relative row without a comma is rejected", "t_seconds,value\n0 1\n",
       ":2: expected 'seconds,value'"},
      {"a bad value in a t_seconds file names its line", "t_seconds,value\n0,1\n5,-2\n",
       ":3: value: got '-2', expected a number >= 0"},
      {"a NaN value is rejected", "t_seconds,value\n0,1\n5,nan\n", ":3: value: got 'nan'"},
      {"an infinite value is rejected", "t_seconds,value\n0,1\n5,inf\n", ":3: value: got 'inf'"},
      {"an overflowing value is rejected", "t_seconds,value\n0,1\n5,1e999\n",
       ":3: value: got '1e999'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = load_trace(write_csv("bad", c.csv));
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.error().message.find(c.expect), std::string::npos) << t.error().message;
  }
}

TEST(TraceTest, ParsesRelativeSeconds) {
  const auto path = write_csv("rel", "t_seconds,value\r\n3,10\r\n3.5,20\r\n1e1,30.5\r\n");
  auto t = load_trace(path);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->points.size(), 3u);
  EXPECT_DOUBLE_EQ(t->points[0].t_s, 3);
  EXPECT_DOUBLE_EQ(t->points[1].t_s, 3.5);
  EXPECT_DOUBLE_EQ(t->points[2].t_s, 10);
  EXPECT_DOUBLE_EQ(t->points[2].value, 30.5);
  EXPECT_DOUBLE_EQ(t->span_s(), 7);
}

TEST(TraceTest, ResampleAveragesBucketsAndInterpolatesGaps) {
  Trace t;
  // Buckets of 10 s: [0,10): 1 and 3 -> 2; [10,20): empty; [20,30): empty; [30,40): 8.
  t.points = {{0, 1}, {5, 3}, {30, 8}};
  const auto r = resample(t, 10);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  EXPECT_DOUBLE_EQ((*r)[0], 2);
  EXPECT_DOUBLE_EQ((*r)[1], 4);  // 2 + (8 - 2) / 3
  EXPECT_DOUBLE_EQ((*r)[2], 6);
  EXPECT_DOUBLE_EQ((*r)[3], 8);
}

TEST(TraceTest, LinearResamplingAveragesTheInterpolantOverEachBucket) {
  struct Case {
    const char* name;
    std::vector<TracePoint> points;
    double bucket_s;
    size_t size;
    std::vector<std::pair<size_t, double>> expect;  // (bucket, value)
  };
  std::vector<TracePoint> per_second_ramp, per_second_zigzag, thirty_minutes;
  for (int i = 0; i <= 10; ++i) {
    per_second_ramp.push_back({1e9 + i, static_cast<double>(i)});
    per_second_zigzag.push_back({static_cast<double>(i), i % 2 == 0 ? 0.0 : 10.0});
  }
  for (int i = 0; i < 4; ++i) thirty_minutes.push_back({1800.0 * i, i % 2 == 0 ? 10.0 : 100.0});
  const Case cases[] = {
      {"a 30-minute series at real speed follows the line between samples",
       thirty_minutes,
       5,
       3 * 360,
       // bucket k covers [5k, 5k + 5]: its mean is the line at 5k + 2.5.
       {{0, 10 + 90 * 2.5 / 1800},
        {180, 10 + 90 * 902.5 / 1800},
        {359, 10 + 90 * 1797.5 / 1800},
        {360, 100 - 90 * 2.5 / 1800},
        {719, 10 + 90 * 2.5 / 1800},
        {1079, 100 - 90 * 2.5 / 1800}}},
      {"a per-second ramp is averaged over each 5 s step",
       per_second_ramp,
       5,
       2,
       {{0, 2.5}, {1, 7.5}}},
      {"a per-second zigzag averages to its mean", per_second_zigzag, 5, 2, {{0, 5}, {1, 5}}},
      {"a gap is interpolated between the samples around it",
       {{0, 0}, {5, 0}, {100, 95}, {105, 95}},
       5,
       21,
       {{0, 0}, {1, 2.5}, {10, 47.5}, {19, 92.5}, {20, 95}}},
      {"a partial last bucket is the mean over the part the trace covers",
       {{0, 0}, {7, 7}},
       5,
       2,
       {{0, 2.5}, {1, 6}}},
      {"one bucket longer than the trace is its mean", {{0, 0}, {2, 4}, {4, 0}}, 60, 1, {{0, 2}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Trace t;
    t.points = c.points;
    const auto r = resample_linear(t, c.bucket_s);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->size(), c.size);
    for (const auto& [k, v] : c.expect) EXPECT_NEAR((*r)[k], v, 1e-9) << "bucket " << k;
  }
}

TEST(TraceTest, ResamplingRefusesTooManyStepsBeforeAllocating) {
  Trace t;
  t.file = "big.csv";
  t.points = {{0, 1}, {1e9, 2}};  // 31.7 years
  using Resampler = core::Result<std::vector<double>> (*)(const Trace&, double, double);
  const struct {
    const char* name;
    Resampler fn;
    double bucket_s;
    const char* expect;
  } cases[] = {
      {"averaging into 1 s buckets is refused", &resample, 1,
       "big.csv: resampling the trace's span of 1000000000 s (11574.1 days) into buckets of 1 "
       "s would make 1000000001 steps; expected at most 20000000"},
      {"interpolating into 5 s buckets is refused", &resample_linear, 5,
       "into buckets of 5 s would make 200000000 steps; expected at most 20000000"},
      {"a zero bucket is refused", &resample, 0, "big.csv: bucket of 0 s; expected"},
      {"a zero linear bucket is refused", &resample_linear, 0, "bucket of 0 s; expected"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = c.fn(t, c.bucket_s, kMaxResampledSteps);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
}

TEST(TraceTest, ACallerMayBoundTheStepsLowerButNeverHigher) {
  // The fuzz harness bounds a replay at 100,000 steps so that each execution stays fast; no
  // caller may raise the bound past kMaxResampledSteps.
  Trace t;
  t.file = "day.csv";
  t.points = {{0, 1}, {86400, 2}};
  TraceSpec by_speed;
  by_speed.speedup = 1;  // 17,281 steps of 5 s
  EXPECT_EQ(replay_series(t, by_speed, 5.0, 17'280).ok(), true);
  const auto low = replay_series(t, by_speed, 5.0, 1'000);
  ASSERT_FALSE(low.ok());
  EXPECT_NE(low.error().message.find("would make 17280 steps; expected at most 1000"),
            std::string::npos)
      << low.error().message;
  const auto bucketed = resample(t, 1.0, 50'000);
  ASSERT_FALSE(bucketed.ok());  // 86,401 one-second buckets
  EXPECT_NE(bucketed.error().message.find("expected at most 50000"), std::string::npos);
  t.points.back().t_s = 1e9;
  for (const double bound : {1e12, std::nan("")}) {
    const auto high = resample_linear(t, 5.0, bound);
    ASSERT_FALSE(high.ok());
    EXPECT_NE(high.error().message.find("expected at most 20000000"), std::string::npos)
        << high.error().message;
  }
}

TEST(TraceTest, AHugeBadLineIsEchoedTruncated) {
  auto t = load_trace(write_csv("huge", "t_seconds,value\n0,1\n5," + std::string(5'000'000, 'x')));
  ASSERT_FALSE(t.ok());
  EXPECT_LT(t.error().message.size(), 300u);
  EXPECT_NE(t.error().message.find("(5000000 bytes)'"), std::string::npos) << t.error().message;
}

TEST(TraceTest, AFourRowTraceWithAWrongTimestampIsRefusedBeforeAllocating) {
  const struct {
    const char* name;
    const char* last_row;
    const char* expect;
  } cases[] = {
      {"9,999 years apart: more steps than any run may have", "9999-07-01 00:15:00,4",
       "span of 251982231300 s (2916461.0 days) into buckets of 300 s would make 839940772 "
       "steps; expected at most 20000000"},
      {"a year apart: 105,000 steps made up from 4 samples", "2015-07-01 00:15:00,4",
       "4 samples over a span of 31536900 s (365.0 days) would make "
       "105124 steps of 300 s, 26281 per sample; expected at most 1000"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto path = write_csv("sparse", std::string("timestamp,value\n2014-07-01 00:00:00,1\n"
                                                      "2014-07-01 00:05:00,2\n"
                                                      "2014-07-01 00:10:00,3\n") +
                                              c.last_row + "\n");
    auto t = load_trace(path);
    ASSERT_TRUE(t.ok()) << t.error().message;
    const auto r = resample(*t, t->median_gap_s());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(path + ": "), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
}

TEST(TraceTest, ScaleToPeakMapsTheMaximum) {
  std::vector<double> v = {1, 4, 2};
  scale_to_peak(v, 1000);
  EXPECT_DOUBLE_EQ(v[0], 250);
  EXPECT_DOUBLE_EQ(v[1], 1000);
}

TEST(TraceTest, LoadsARealNabTrace) {
  const std::string path =
      std::string(PRESCALE_SOURCE_DIR) + "/data/traces/nab/realKnownCause/nyc_taxi.csv";
  ASSERT_TRUE(std::filesystem::is_regular_file(path))
      << path << " is missing (the repository ships it)";
  auto t = load_trace(path);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_GT(t->points.size(), 10000u);
  EXPECT_DOUBLE_EQ(t->median_gap_s(), 1800);
}

// A daylight-saving change: NAB clamps the skipped hour to 03:00:00. Strict (a replay): an
// error naming the line. For a training corpus: the repeats left out and counted; a step back
// of an hour or more, or too many rows dropped, is still an error.
TEST(TraceTest, ClockChangesAreLeftOutOnlyWhenAskedAndOnlyWhenSmall) {
  std::string text = "timestamp,value\n";
  for (int m = 0; m < 60; m += 5)
    text += "2014-03-09 01:" + std::string(m < 10 ? "0" : "") + std::to_string(m) + ":00," +
            std::to_string(m) + "\n";
  const std::string dst = text +
                          "2014-03-09 03:00:00,1\n2014-03-09 03:00:00,2\n"
                          "2014-03-09 03:05:00,3\n";
  std::string long_text = dst;  // 180 more rows (04:00-18:55): 1 or 2 dropped are under 2%
  auto two = [](int v) { return std::string(v < 10 ? "0" : "") + std::to_string(v); };
  for (int h = 4; h < 19; ++h)
    for (int m = 0; m < 60; m += 5) long_text += "2014-03-09 " + two(h) + ":" + two(m) + ":00,7\n";
  auto strict = parse_trace(long_text, "dst.csv");
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.error().message.find("dst.csv:15: timestamp '2014-03-09 03:00:00' is not after"),
            std::string::npos)
      << strict.error().message;
  auto lenient = parse_trace(long_text, "dst.csv", TimeOrder::kDropClockChanges);
  ASSERT_TRUE(lenient.ok()) << lenient.error().message;
  EXPECT_EQ(lenient->dropped_rows, 1u);
  EXPECT_EQ(lenient->points.size(), 12u + 2u + 180u);
  EXPECT_DOUBLE_EQ(lenient->points[12].value, 1);  // the first 03:00 row is kept
  // Too many dropped (1 of 15 > 2%), or an hour back: errors.
  auto few = parse_trace(dst, "dst.csv", TimeOrder::kDropClockChanges);
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.error().message.find("1 of 15 rows are not after"), std::string::npos)
      << few.error().message;
  auto back =
      parse_trace(long_text + "2014-03-09 17:56:00,1\n", "dst.csv", TimeOrder::kDropClockChanges);
  EXPECT_TRUE(back.ok()) << back.error().message;  // 59 minutes back: left out
  auto hour =
      parse_trace(long_text + "2014-03-09 17:55:00,1\n", "dst.csv", TimeOrder::kDropClockChanges);
  ASSERT_FALSE(hour.ok());
  EXPECT_NE(hour.error().message.find("is not after the previous row's"), std::string::npos);
}

// The NAB files the training corpora used to skip load leniently.
TEST(TraceTest, TheNabFilesWithClockChangesLoadForTraining) {
  for (const char* f : {"realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv",
                        "realAWSCloudwatch/ec2_network_in_5abac7.csv",
                        "realKnownCause/ec2_request_latency_system_failure.csv",
                        "realTraffic/occupancy_t4013.csv", "realTraffic/speed_t4013.csv"}) {
    const std::string path = std::string(PRESCALE_SOURCE_DIR) + "/data/traces/nab/" + f;
    EXPECT_FALSE(load_trace(path).ok()) << f;
    auto t = load_trace(path, TimeOrder::kDropClockChanges);
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_GE(t->dropped_rows, 1u) << f;
    EXPECT_GT(t->points.size(), 1000u) << f;
  }
}

}  // namespace
}  // namespace prescale::sim
