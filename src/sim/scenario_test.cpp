#include "sim/scenario.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace prescale::sim {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("prescale_" + name + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

TEST(ScenarioTest, SeedScenarioLoadsTheSeedsBenchmark) {
  auto s = load_scenario("seed");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "seed");
  EXPECT_EQ(s->steps, 500);
  EXPECT_EQ(s->step_s, 5);
  EXPECT_EQ(s->cluster.max_executors, 20);
  EXPECT_EQ(s->cluster.cold_start_s, 60);
  EXPECT_EQ(s->cold_start_steps(), 12);
  EXPECT_EQ(s->latency.sla_ms, 1000);
  EXPECT_EQ(s->synthetic.bursts, 4);
  EXPECT_EQ(s->synthetic.burst_factor, 4.0);
  EXPECT_EQ(s->shuffle.tiers[0].bandwidth_mb_s, 2400);
  EXPECT_EQ(s->shuffle.tiers[1].latency_ms, 20);
  EXPECT_EQ(s->shuffle.tiers[2].latency_ms, 200);
  ASSERT_TRUE(s->policies.count("fixed"));
}

struct BadCase {
  const char* name;
  const char* yaml;
  const char* expect;  // substring of the message
};

TEST(ScenarioTest, BadInputNamesFileLineFieldAndExpectation) {
  const BadCase cases[] = {
      {"an unknown top-level field is rejected", "name: x\nstepz: 5\n", ":2: stepz: unknown field"},
      {"an unknown nested field is rejected", "name: x\ncluster:\n  max_exec: 3\n",
       ":3: cluster.max_exec: unknown field"},
      {"a negative rate is out of range", "name: x\nworkload:\n  synthetic:\n    base_rps: -5\n",
       ":4: workload.synthetic.base_rps: got '-5', expected a number"},
      {"a word where a number belongs is rejected", "name: x\nsteps: many\n",
       ":2: steps: got 'many', expected an integer"},
      {"max below min is rejected", "name: x\ncluster:\n  min_executors: 5\n  max_executors: 2\n",
       "max_executors (2) is below cluster.min_executors (5)"},
      {"malformed YAML names the line", "name: x\ncluster: [1, 2\nsteps: 3\n", "malformed YAML"},
      {"an unknown tier name is rejected", "name: x\ndefault_tier: floppy\n",
       "default_tier: got 'floppy', expected redis|nvme|s3"},
      {"an unknown workload source is rejected", "name: x\nworkload:\n  source: radio\n",
       ":3: workload.source: got 'radio', expected synthetic|trace"},
      {"a trace source without a file is rejected", "name: x\nworkload:\n  source: trace\n",
       "workload.trace.file is empty"},
      {"a negative trace speedup is out of range",
       "name: x\nworkload:\n  trace:\n    speedup: -1\n",
       ":4: workload.trace.speedup: got '-1', expected a number in [0, 1e+06]"},
      {"a trace speedup and a bucket together are rejected",
       "name: x\nworkload:\n  trace:\n    bucket_s: 300\n    speedup: 1\n",
       "workload.trace.bucket_s (300) and workload.trace.speedup (1) are both set"},
      {"a duplicate key names both lines", "name: x\nsteps: 10\nsteps: 20\n",
       ":3: 'steps': duplicate key (first at line 2)"},
      {"a sequence used as a key is rejected", "name: x\n[a, b]: 1\n",
       ":2: expected a plain name as the key, got a sequence"},
      {"NaN is rejected", "name: x\nstep_s: .nan\n", ":2: step_s: got '.nan', expected a number"},
      {"infinity is rejected", "name: x\nedge:\n  miss_rate: .inf\n",
       ":3: edge.miss_rate: got '.inf'"},
      {"more executors than the bound are rejected", "name: x\ncluster:\n  max_executors: 100000\n",
       ":3: cluster.max_executors: got '100000', expected an integer in [1, 500]"},
      {"a policy table that is not a mapping is rejected", "name: x\npolicies:\n  hpa: [1]\n",
       ":3: policies.hpa: got a sequence, expected a mapping"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = write_temp("bad", c.yaml);
    auto s = load_scenario_file(path);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find(c.expect), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;
  }
}

TEST(ScenarioTest, TraceSpeedupIsReadAndOffByDefault) {
  EXPECT_EQ(default_scenario().trace.speedup, 0);
  auto s =
      load_scenario_file(write_temp("speedup", "name: x\nworkload:\n  trace:\n    speedup: 60\n"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->trace.speedup, 60);
}

TEST(ScenarioTest, AHugeBadValueIsEchoedTruncated) {
  const std::string path = write_temp("huge", "name: x\nsteps: " + std::string(5'000'000, '9'));
  auto s = load_scenario_file(path);
  ASSERT_FALSE(s.ok());
  EXPECT_LT(s.error().message.size(), 400u);
  EXPECT_NE(s.error().message.find("(5000000 bytes)'"), std::string::npos) << s.error().message;
}

TEST(ScenarioTest, ProgrammaticBoundsAreValidatedToo) {
  Scenario s = default_scenario();
  s.cluster.max_executors = kMaxExecutors + 1;
  EXPECT_FALSE(validate(s).ok());
  // --steps sets the field after the file's own check: 2 billion steps of synthetic load
  // once died on std::bad_alloc.
  Scenario many = default_scenario();
  many.steps = kMaxSteps + 1;
  const core::Status st = validate(many);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("expected at most 10000000"), std::string::npos) << st.message();
}

TEST(ScenarioTest, MissingFileIsAClearError) {
  auto s = load_scenario_file("/nonexistent/dir/x.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("cannot open scenario file"), std::string::npos);
  auto n = load_scenario("no-such-scenario");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("unknown scenario 'no-such-scenario'"), std::string::npos);
}

TEST(ScenarioTest, PolicyParametersKeepTheirLine) {
  const std::string path =
      write_temp("params", "name: x\npolicies:\n  hpa:\n    target_cpu: 0.7\n");
  auto s = load_scenario_file(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->policies.at("hpa").origin(), path + ":3");  // for "unknown policy" errors
  core::ParamTable t = s->policies.at("hpa");
  EXPECT_DOUBLE_EQ(t.get_double("target_cpu", 0.8, 0, 1), 0.7);
  EXPECT_TRUE(t.finish().ok());
  core::ParamTable u = s->policies.at("hpa");
  const auto st = u.finish();  // nobody asked for target_cpu
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(path + ":4: policies.hpa.target_cpu: unknown parameter"),
            std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace prescale::sim
