#include "arena/traces.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

namespace prescale::arena {
namespace {

struct Row {
  const char* policy;
  double sla, cost;
};

TournamentResult tournament_of(const std::vector<Row>& rows) {
  TournamentResult r;
  r.steps = 100;
  r.seeds = 5;
  for (const auto& row : rows) {
    PolicySummary p;
    p.policy = row.policy;
    p.sla_violation_pct.mean = row.sla;
    p.cost.mean = row.cost;
    r.results.push_back(p);
  }
  return r;
}

TEST(TracesTest, TheDevelopmentSetIsTheNineTracesOfTheReadme) {
  const auto& paths = development_trace_paths();
  const auto& names = development_trace_names();
  ASSERT_EQ(paths.size(), 9u);
  ASSERT_EQ(names.size(), 9u);
  EXPECT_EQ(paths.front(), "nab/realKnownCause/nyc_taxi.csv");
  EXPECT_EQ(paths.back(), "azure_llm_2023/conv_requests_per_second.csv");
  EXPECT_EQ(names.front(), "nyc_taxi.csv");
  EXPECT_EQ(names.back(), "conv_requests_per_second.csv");
}

TEST(TracesTest, TheRepositoryShipsTheDevelopmentTracesAndTheirLicences) {
  const std::filesystem::path dir = default_traces_dir();
  EXPECT_EQ(dir.filename(), "traces");
  EXPECT_EQ(dir.parent_path().filename(), "data");
  for (const auto& rel : development_trace_paths()) {
    EXPECT_TRUE(std::filesystem::is_regular_file(dir / rel)) << (dir / rel) << " is missing";
  }
  for (const char* f : {"README.md", "nab/LICENSE.txt", "azure_llm_2023/LICENSE_CC-BY-4.0.txt",
                        "azure_llm_2023/SOURCE.md"}) {
    EXPECT_TRUE(std::filesystem::is_regular_file(dir / f)) << (dir / f) << " is missing";
  }
}

TEST(TracesTest, TheTraceFilterTakesStemsFileNamesOrPathsInReportOrder) {
  struct Case {
    const char* name;
    std::vector<std::string> filter;
    std::vector<std::string> expect;  // empty = an error
    const char* error;
  } cases[] = {
      {"no filter keeps all nine", {}, development_trace_paths(), ""},
      {"a stem selects its trace", {"nyc_taxi"}, {"nab/realKnownCause/nyc_taxi.csv"}, ""},
      {"names and paths select in report order",
       {"azure_llm_2023/conv_requests_per_second.csv", "nyc_taxi.csv"},
       {"nab/realKnownCause/nyc_taxi.csv", "azure_llm_2023/conv_requests_per_second.csv"},
       ""},
      {"an unknown name is an error listing the known ones",
       {"nyc_taxi", "nyc_taxy"},
       {},
       "unknown development trace 'nyc_taxy'; expected one of: nyc_taxi, elb_request_count_8c0756"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = select_traces(c.filter);
    if (c.expect.empty()) {
      ASSERT_FALSE(r.ok());
      EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
    } else {
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(*r, c.expect);
    }
  }
}

TEST(TracesTest, TheVerdictAgainstHpaAllowsHalfAPointAtNoHigherCost) {
  struct Case {
    const char* name;
    std::vector<Row> rows;
    bool dominates;
    double gap;
    const char* best;
  } cases[] = {
      {"the same SLA for less dominates",
       {{"hpa", 2, 10}, {"keda", 3, 8}, {"rl", 2, 9}, {"rl-raw", 0, 20}, {"oracle", 0, 5}},
       true,
       0,
       "hpa"},
      {"half a point worse for less still dominates",
       {{"hpa", 2, 10}, {"rl", 2.5, 9}, {"rl-raw", 1, 9}, {"oracle", 0, 5}},
       true,
       0.5,
       "hpa"},
      {"more than half a point worse does not dominate",
       {{"hpa", 2, 10}, {"rl", 2.6, 9}, {"rl-raw", 1, 9}, {"oracle", 0, 5}},
       false,
       0.6,
       "hpa"},
      {"a better SLA at a higher cost does not dominate",
       {{"hpa", 2, 10}, {"rl", 1, 10.5}, {"rl-raw", 1, 9}, {"oracle", 0, 5}},
       false,
       -1,
       "hpa"},
      {"the best autoscaler has the lowest SLA, not a learned row",
       {{"hpa", 2, 10}, {"keda", 1, 30}, {"rl", 1, 9}, {"rl-raw", 0, 1}, {"oracle", 0, 5}},
       true,
       -1,
       "keda"},
      {"an SLA tie goes to the cheaper autoscaler",
       {{"hpa", 2, 10}, {"ds2", 2, 9.5}, {"rl", 5, 9}, {"rl-raw", 0, 1}, {"oracle", 0, 5}},
       false,
       3,
       "ds2"},
  };
  TracesOptions o;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = judge_case(tournament_of(c.rows), o);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->dominates, c.dominates);
    EXPECT_NEAR(r->sla_gap, c.gap, 1e-12);
    EXPECT_EQ(r->best.policy, c.best);
    EXPECT_EQ(r->hpa.policy, "hpa");
    EXPECT_EQ(r->judged.policy, "rl");
    ASSERT_EQ(r->compare.size(), 1u);
    EXPECT_EQ(r->compare[0].policy, "rl-raw");
    EXPECT_EQ(r->oracle_cost, 5);
    EXPECT_EQ(r->rows.size(), c.rows.size());
  }
}

TEST(TracesTest, AMissingRowIsAnError) {
  TracesOptions o;
  EXPECT_FALSE(judge_case(tournament_of({{"rl", 1, 1}, {"rl-raw", 1, 1}}), o).ok());
  EXPECT_FALSE(judge_case(tournament_of({{"hpa", 1, 1}, {"rl-raw", 1, 1}}), o).ok());
  const auto r = judge_case(tournament_of({{"hpa", 1, 1}, {"rl", 1, 1}}), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no row for rl-raw"), std::string::npos) << r.error().message;
}

TEST(TracesTest, TheSummaryCountsDominatedCasesAndNamesTheWorstGap) {
  TracesOptions o;
  auto a = judge_case(tournament_of({{"hpa", 2, 10}, {"rl", 1, 9}, {"rl-raw", 1, 9}}), o);
  auto b = judge_case(tournament_of({{"hpa", 2, 10}, {"rl", 5, 9}, {"rl-raw", 1, 9}}), o);
  ASSERT_TRUE(a.ok() && b.ok());
  a->trace = "nyc_taxi";
  b->trace = "elb_request_count_8c0756";
  b->speed = ReplaySpeed::kReal;
  const std::vector<TraceCase> cases = {*a, *b};
  EXPECT_EQ(traces_summary(cases),
            "rl dominates hpa in 1 of 2 cases; worst SLA gap vs hpa: +3.0 points "
            "(elb_request_count_8c0756, real)\n");
  const std::string table = format_traces_table(cases);
  for (const char* s : {"hpa SLA%/$", "best autoscaler SLA%/$", "rl SLA%/$", "rl-raw SLA%/$",
                        "oracle $", "dominates", "no: SLA", "+3.0"}) {
    EXPECT_NE(table.find(s), std::string::npos) << s << "\n" << table;
  }
  const std::string json = format_traces_json(cases);
  for (const char* s : {"\"dominates_hpa\": 1", "\"worst_trace\": \"elb_request_count_8c0756\"",
                        "\"speed\": \"real\"", "\"sla_gap_vs_hpa_points\": 3.0"}) {
    EXPECT_NE(json.find(s), std::string::npos) << s << "\n" << json;
  }
}

TEST(TracesTest, AMissingTracesDirectoryNamesTheFile) {
  TracesOptions o;
  o.policy = "keda";  // no learned model needed to reach the trace
  o.compare = {};
  o.dir = "/nonexistent/traces";
  o.traces = {"nyc_taxi"};
  o.speeds = {ReplaySpeed::kReal};
  o.seeds = 1;
  const auto r = evaluate_traces(sim::default_scenario(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/traces/nab/realKnownCause/nyc_taxi.csv"),
            std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace prescale::arena
