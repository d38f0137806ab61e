#include "arena/report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

namespace prescale::arena {
namespace {

TournamentResult tiny() {
  TournamentResult r;
  r.scenario = "t";
  r.workload = "synthetic";
  r.seeds = 2;
  r.steps = 3;
  r.step_s = 5;
  PolicySummary s;
  s.policy = "hpa";
  s.cost = {1.5, 0.1, 2};
  s.sla_violation_pct = {12.5, 1, 2};
  r.results.push_back(s);
  r.timeline.push_back(
      TimelineRow{"hpa", 1,
                  sim::StepRecord{0, 10, 9, 5, 2, 1, 3, core::Tier::kNvme, core::Compression::kLz4,
                                  500, 0.5, 0.01, false, true}});
  return r;
}

TEST(ReportTest, JsonCarriesTheDocumentedNames) {
  const auto j = nlohmann::json::parse(format_json(tiny()));
  EXPECT_EQ(j["scenario"], "t");
  EXPECT_EQ(j["seeds"], 2);
  EXPECT_EQ(j["results"][0]["policy"], "hpa");
  EXPECT_DOUBLE_EQ(j["results"][0]["cost"], 1.5);
  EXPECT_DOUBLE_EQ(j["results"][0]["sla_violation_pct"], 12.5);
  EXPECT_DOUBLE_EQ(j["results"][0]["ci95"]["cost"], 0.1);
}

TEST(ReportTest, TableAndCsvHaveOneRowPerPolicy) {
  const std::string table = format_table(tiny());
  EXPECT_NE(table.find("hpa"), std::string::npos);
  EXPECT_NE(table.find("1.500 ±0.100"), std::string::npos) << table;
  const std::string csv = format_csv(tiny());
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 2);
  EXPECT_NE(format_timeline_csv(tiny()).find("hpa,1,0,0,10,9,5,2,1,3,nvme,lz4,500,0.5,0.01,0,1"),
            std::string::npos);
}

TEST(ReportTest, OutputsAreWrittenWholeOrNotAtAll) {
  const auto dir = std::filesystem::temp_directory_path() / "prescale_report_out";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(write_outputs(dir.string(), tiny()).ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "results.csv"));
  EXPECT_TRUE(std::filesystem::exists(dir / "timeline.csv"));
  EXPECT_TRUE(std::filesystem::exists(dir / "report.html"));
  EXPECT_FALSE(std::filesystem::exists(dir / "results.csv.tmp"));
  EXPECT_FALSE(std::filesystem::exists(dir / "report.html.tmp"));
  // A directory that cannot be created: an error, nothing written.
  const auto st = write_outputs("/proc/prescale-cannot-create", tiny());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/proc/prescale-cannot-create"), std::string::npos);
}

}  // namespace
}  // namespace prescale::arena
