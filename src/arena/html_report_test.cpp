#include "arena/html_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "arena/report_assets.h"

namespace prescale::arena {
namespace {

// The page's data document: the text of <script type="application/json" id="report-data">.
nlohmann::json data_of(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const size_t from = page.find(open);
  EXPECT_NE(from, std::string::npos);
  const size_t begin = from + open.size();
  const size_t end = page.find("</script>", begin);
  return nlohmann::json::parse(page.substr(begin, end - begin));
}

sim::StepRecord record(int i, int target, std::uint8_t guards) {
  sim::StepRecord r{};
  r.step = i;
  r.load_rps = 1234.5678;
  r.processed_rps = 1000;
  r.active = 4;
  r.pending = i < 2 ? 1 : 0;
  r.target = target;
  r.tier = core::Tier::kNvme;
  r.codec = core::Compression::kLz4;
  r.latency_ms = 812.345;
  r.guards = guards;
  r.hold_s = i == 2 ? 120.0f : 60.0f;
  r.signal = i == 1;
  return r;
}

TournamentResult two_policies() {
  TournamentResult r;
  r.scenario = "seed";
  r.workload = "synthetic";
  r.seeds = 2;
  r.steps = 3;
  r.step_s = 5;
  r.sla_ms = 1000;
  for (const char* name : {"hpa", "oracle"}) {
    PolicySummary s;
    s.policy = name;
    s.cost = {1.5, 0.25, 2};
    s.sla_violation_pct = {12.5, 1, 2};
    r.results.push_back(s);
    for (int i = 0; i < 3; ++i) {
      r.timeline.push_back(TimelineRow{name, 1, record(i, 5, i == 2 ? core::kGuardFloor : 0)});
    }
  }
  return r;
}

TEST(HtmlReportTest, ThePageIsSelfContained) {
  const std::string page = tournament_page(two_policies());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find(std::string(assets::uplot_js().substr(0, 200))), std::string::npos);
  EXPECT_NE(page.find(std::string(assets::report_js().substr(0, 200))), std::string::npos);
  // uPlot's licence is in the page, and nothing is loaded from anywhere.
  EXPECT_NE(page.find("The MIT License"), std::string::npos);
  EXPECT_NE(page.find("uPlot " + std::string(assets::uplot_version())), std::string::npos);
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
}

TEST(HtmlReportTest, TheDataCarriesResultsAndCompactTimelines) {
  const auto d = data_of(tournament_page(two_policies()));
  EXPECT_EQ(d["kind"], "tournament");
  EXPECT_EQ(d["run"]["sla_ms"], 1000);
  EXPECT_EQ(d["results"][0]["policy"], "hpa");
  EXPECT_DOUBLE_EQ(d["results"][0]["cost"]["ci95"], 0.25);
  const auto& t = d["timeline"];
  EXPECT_EQ(t["points"], 3);
  EXPECT_FALSE(t.contains("x"));  // one point per step: x = i * step_s
  EXPECT_EQ(t["load"][0], 1235);  // about four significant digits
  EXPECT_EQ(t["signal"], nlohmann::json::parse("[0,1,1,1,0,1]"));  // run-length pairs
  const auto& hpa = t["policies"][0];
  EXPECT_EQ(hpa["policy"], "hpa");
  EXPECT_DOUBLE_EQ(hpa["latency"][0], 812.3);
  EXPECT_EQ(hpa["pending"], nlohmann::json::parse("[1,2,0,1]"));
  EXPECT_EQ(hpa["guards"], nlohmann::json::parse("[0,2,1,1]"));
  EXPECT_EQ(hpa["hold"], nlohmann::json::parse("[60,60,120]"));  // the scale-down window, s
  EXPECT_EQ(d["labels"]["tiers"][1], "nvme");
}

TEST(HtmlReportTest, AnEmptyRunStillGivesAPageWithItsData) {
  const std::string page = tournament_page(TournamentResult{});
  const auto d = data_of(page);
  EXPECT_TRUE(d["results"].empty());
  EXPECT_EQ(d["timeline"]["points"], 0);
  EXPECT_NE(page.find("<noscript>"), std::string::npos);
}

TEST(HtmlReportTest, TextThatLooksLikeMarkupCannotEndTheDataEarly) {
  TournamentResult r = two_policies();
  r.scenario = "</script><script>alert(1)</script>";
  const std::string page = tournament_page(r);
  EXPECT_EQ(page.find("</script><script>alert"), std::string::npos);
  EXPECT_EQ(data_of(page)["run"]["scenario"], r.scenario);  // the same text after parsing
}

TEST(HtmlReportTest, TheAblationPageCarriesItsPhases) {
  AblationResult a;
  a.tournament = two_policies();
  a.phases.push_back({0, "hpa", "baseline", &a.tournament.results[0]});
  const auto d = data_of(ablation_page(a));
  EXPECT_EQ(d["kind"], "ablation");
  EXPECT_EQ(d["phases"][0]["policy"], "hpa");
  EXPECT_EQ(d["phases"][0]["adds"], "baseline");
  EXPECT_EQ(d["results"].size(), 2u);
}

TEST(HtmlReportTest, TheTracesPageLinksEachCase) {
  TraceCase c;
  c.trace = "nyc_taxi";
  c.speed = ReplaySpeed::kReal;
  c.seeds = 5;
  c.judged.policy = "rl";
  c.hpa.policy = "hpa";
  c.dominates = true;
  const auto d = data_of(traces_page({c}, {case_page_name(c)}));
  EXPECT_EQ(d["kind"], "traces");
  EXPECT_EQ(d["cases"][0]["link"], "timelines/nyc_taxi-real.html");
  EXPECT_EQ(d["cases"][0]["verdict"], "dominates");
  const auto empty = data_of(traces_page({}, {}));
  EXPECT_TRUE(empty["cases"].empty());
}

TEST(HtmlReportTest, ACasePageLinksBackToTheTracesPage) {
  TraceCase c;
  c.trace = "nyc_taxi";
  const auto d = data_of(trace_case_page(c, two_policies(), "../report.html"));
  EXPECT_EQ(d["kind"], "case");
  EXPECT_EQ(d["back"], "../report.html");
  EXPECT_EQ(d["case"]["trace"], "nyc_taxi");
  EXPECT_EQ(d["timeline"]["policies"].size(), 2u);
}

}  // namespace
}  // namespace prescale::arena
