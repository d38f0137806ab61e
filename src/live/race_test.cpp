#include "live/race.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "live/race_report.h"

namespace prescale::live {
namespace {

TEST(Race, BurstsAreRunsAtOrAboveThresholdTimesTheMedian) {
  EXPECT_EQ(trace_bursts({1, 1, 1, 4, 5, 1, 1, 3, 1}, 2.0),
            (std::vector<std::pair<int, int>>{{3, 5}, {7, 8}}));
  EXPECT_EQ(trace_bursts({1, 1, 1, 5, 5}, 2.0), (std::vector<std::pair<int, int>>{{3, 5}}));
  EXPECT_TRUE(trace_bursts({2, 2, 2}, 2.0).empty());
  EXPECT_TRUE(trace_bursts({}, 2.0).empty());
  EXPECT_TRUE(trace_bursts({0, 0, 5}, 2.0).empty());  // median 0: no baseline to compare with
}

RunResult sample_run() {
  RunResult r;
  r.policy = "rl";
  r.min_executors = 1;
  r.burst_start_s = 10;
  r.burst_end_s = 20;
  r.executors = {{0, 1}, {4, 1}, {6, 3}, {12, 3}, {22, 3}, {26, 1}, {30, 1}};
  r.commands = {{2, 1, "hold"}, {3, 3, "burst"}, {24, 1, "down"}};
  for (int i = 0; i < 20; ++i) {
    BatchRecord b;
    b.t_s = i * 1.5;
    b.batch_id = i;
    b.input_rps = i == 0 ? 0 : 1000;              // the first is idle: not counted
    b.latency_ms = i == 0 ? 99'999 : 1000.0 * i;  // 1 .. 19 s
    r.batches.push_back(b);
  }
  return r;
}

TEST(Race, SummaryCountsWhatSparkAndTheJobReported) {
  RunResult r = sample_run();
  r.summarise(/*sla_ms=*/10'000);
  EXPECT_DOUBLE_EQ(r.first_scale_up_command_s, 3);
  EXPECT_DOUBLE_EQ(r.first_scale_up_serving_s, 6);
  EXPECT_EQ(r.executors_at_burst_start, 3);  // the 6 s sample is the last before +10 s
  EXPECT_DOUBLE_EQ(r.back_to_min_s, 26);
  EXPECT_EQ(r.max_executors_seen, 3);
  EXPECT_EQ(r.batches_with_rows, 19);
  EXPECT_EQ(r.violations, 9);                  // 11 .. 19 s
  EXPECT_DOUBLE_EQ(r.p95_latency_ms, 19'000);  // nearest rank: ceil(0.95 x 19) = 19th
  EXPECT_DOUBLE_EQ(r.max_latency_ms, 19'000);
  // 1x4 + 1x2 + 3x6 + 3x10 + 3x4 + 1x4 = 70
  EXPECT_DOUBLE_EQ(r.executor_seconds, 70);
  const auto j = nlohmann::json::parse(r.to_json());
  EXPECT_EQ(j["policy"], "rl");
  EXPECT_EQ(j["violations"], 9);
  EXPECT_EQ(j["sla_ms"], 10'000);  // what the run was judged by, beside what it scored
  EXPECT_EQ(j["executors"].size(), 7u);
  EXPECT_EQ(j["commands"][1]["target"], 3);
}

TEST(Race, NeverScaledIsSaidSo) {
  RunResult r = sample_run();
  for (auto& s : r.executors) s.executors = 1;
  r.commands = {{2, 1, "hold"}};
  r.summarise(10'000);
  EXPECT_EQ(r.first_scale_up_command_s, -1);
  EXPECT_EQ(r.first_scale_up_serving_s, -1);
  EXPECT_EQ(r.back_to_min_s, -1);  // it never left the minimum
  const std::string t = summary_table({r}, 10'000);
  EXPECT_NE(t.find("| rl | +10..+20 s | 1 | never | never | never | 9 / 19 |"), std::string::npos)
      << t;
}

// The page's data document, read back from report.html.
nlohmann::json page_data(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"page-data\">";
  const size_t at = page.find(open);
  EXPECT_NE(at, std::string::npos);
  const size_t from = at + open.size();
  return nlohmann::json::parse(page.substr(from, page.find("</script>", from) - from));
}

TEST(RaceReport, CarriesEveryRunsTimelinesAndSummary) {
  RunResult rl = sample_run();
  rl.signals = {{1, false, 600}, {8, true, 2400}, {22, false, 600}};
  rl.summarise(10'000);
  RunResult hpa = sample_run();
  hpa.policy = "hpa";
  hpa.commands = {{2, 1, "hpa: within tolerance or stabilised"},
                  {14, 2, "hpa: cpu above target </script><b>"}};
  hpa.summarise(10'000);
  const std::string page = race_page({rl, hpa}, 10'000);
  EXPECT_NE(page.find("<title>prescale race: rl vs hpa</title>"), std::string::npos);
  const auto d = page_data(page);
  EXPECT_EQ(d["kind"], "race");
  EXPECT_EQ(d["sla_ms"], 10'000);
  ASSERT_EQ(d["runs"].size(), 2u);
  EXPECT_EQ(d["runs"][0]["policy"], "rl");
  EXPECT_EQ(d["runs"][0]["batches"].size(), 20u);
  EXPECT_EQ(d["runs"][0]["executors"].size(), 7u);
  EXPECT_EQ(d["runs"][0]["signals"].size(), 3u);
  EXPECT_EQ(d["runs"][0]["signals"][1]["burst"], true);
  EXPECT_EQ(d["runs"][0]["violations"], 9);
  EXPECT_EQ(d["runs"][1]["commands"][1]["reason"], "hpa: cpu above target </script><b>");
  // Markup in a reason cannot end the data block early.
  EXPECT_EQ(page.find("</script><b>"), std::string::npos);
  // Self-contained: uPlot and the page's script inlined, nothing to fetch or connect to.
  EXPECT_NE(page.find("default-src 'none'; script-src"), std::string::npos);
  EXPECT_EQ(page.find("connect-src"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_NE(page.find("window.prescaleRace"), std::string::npos);
}

TEST(RaceReport, NoRunsIsAPageThatSaysSo) {
  const std::string page = race_page({}, 12'000);
  EXPECT_NE(page.find("<title>prescale race: no runs</title>"), std::string::npos);
  const auto d = page_data(page);
  EXPECT_TRUE(d["runs"].empty());
  EXPECT_NE(page.find("No runs: the race stopped"), std::string::npos);  // in race.js
}

TEST(Race, NoSparkIsNoAnswer) {
  // A port nothing listens on (the REST client times out quickly on loopback).
  EXPECT_FALSE(spark_executors(1).has_value());
}

}  // namespace
}  // namespace prescale::live
