// The `prescale` binary as a user runs it: outputs, exit codes, and bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

struct Outcome {
  int code;
  std::string out;  // stdout and stderr
};

// Runs `prescale ARGS` with optional environment assignments ("A=b C=d").
Outcome run(const std::string& args, const std::string& env = "") {
  const std::string cmd =
      (env.empty() ? "" : "env " + env + " ") + std::string(PRESCALE_BIN) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  Outcome r{-1, ""};
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("prescale_cli_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST(CliTest, TournamentPrintsOneRowPerPolicy) {
  const Outcome r = run("tournament --scenario seed --seeds 2 --policies fixed,hpa,oracle");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("fixed"), std::string::npos);
  EXPECT_NE(r.out.find("hpa"), std::string::npos);
  EXPECT_NE(r.out.find("oracle"), std::string::npos);
  EXPECT_NE(r.out.find("SLA viol %"), std::string::npos);
}

TEST(CliTest, JsonHasTheDocumentedFields) {
  const Outcome r = run("tournament --scenario seed --seeds 2 --policies hpa,oracle --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* key :
       {"\"scenario\"", "\"seeds\"", "\"results\"", "\"policy\"", "\"cost\"", "\"cost_vs_oracle\"",
        "\"p95_latency_ms\"", "\"sla_violation_pct\"", "\"violation_minutes\"", "\"stability\"",
        "\"mean_executors\"", "\"rescales\"", "\"reversals\"", "\"throughput_mb_s\"",
        "\"cpu_util_pct\""}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key;
  }
}

TEST(CliTest, OutWritesResultsTimelineAndReport) {
  const std::string dir = temp_dir("out");
  const Outcome r = run("tournament --scenario seed --seeds 1 --policies fixed,hpa --out " + dir);
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream results(dir + "/results.csv"), timeline(dir + "/timeline.csv");
  ASSERT_TRUE(results.good());
  ASSERT_TRUE(timeline.good());
  EXPECT_GT(std::filesystem::file_size(dir + "/report.html"), 50'000u);  // uPlot is inlined
  std::string header;
  std::getline(timeline, header);
  EXPECT_EQ(header.rfind("policy,seed,step,t_s,load_rps", 0), 0u) << header;
  int rows = 0;
  for (std::string line; std::getline(timeline, line);) ++rows;
  EXPECT_EQ(rows, 2 * 500);
}

TEST(CliTest, ReplaysARealTrace) {
  const std::string trace =
      std::string(PRESCALE_SOURCE_DIR) + "/data/traces/nab/realKnownCause/nyc_taxi.csv";
  ASSERT_TRUE(std::filesystem::is_regular_file(trace))
      << trace << " is missing (the repository ships it)";
  const Outcome r = run("tournament --scenario seed --trace " + trace +
                        " --steps 300 --seeds 2 --policies hpa,oracle --format csv");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("hpa,2,"), std::string::npos) << r.out;
}

// A relative-time trace: one hour sampled every 30 s, a slow ramp with a burst.
std::string relative_trace() {
  const auto path = std::filesystem::temp_directory_path() / "prescale_cli_relative.csv";
  std::ofstream out(path);
  out << "t_seconds,value\n";
  for (int i = 0; i <= 120; ++i)
    out << i * 30 << "," << (i >= 60 && i < 70 ? 400 : 100 + i) << "\n";
  return path.string();
}

TEST(CliTest, ReplaysATraceAtRealSpeedInASeededWindow) {
  // At 1x the hour is 720 steps of 5 s (121 without --speedup); --steps takes a window.
  const Outcome r = run("tournament --trace " + relative_trace() +
                        " --speedup 1 --steps 200 --seeds 1 --policies hpa --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"steps\": 200"), std::string::npos) << r.out;
}

TEST(CliTest, AnUnknownOrMissingCommandIsNamedWithTheChoices) {
  Outcome r = run("nonsense");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("prescale: unknown command 'nonsense'; expected one of: tournament,"),
            std::string::npos)
      << r.out;
  r = run("");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("prescale: a command is required; expected one of:"), std::string::npos)
      << r.out;
  r = run("bench nonsense");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("prescale bench: unknown command 'nonsense'; expected one of: tournament, "
                       "decision, dualplane"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(run("--help").code, 0);
  EXPECT_EQ(run("bench --help").code, 0);
}

TEST(CliTest, TracesRejectsUnknownTracesAndSpeeds) {
  Outcome r = run("traces --traces nyc_taxy --seeds 1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("unknown development trace 'nyc_taxy'"), std::string::npos) << r.out;
  r = run("traces --speeds slow --seeds 1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("slow"), std::string::npos) << r.out;
}

struct BadCase {
  const char* name;
  std::string args;
  const char* expect;
};

TEST(CliTest, BadInputExitsTwoWithAClearMessageAndNoFiles) {
  const std::string dir = temp_dir("bad");
  const auto bad_yaml = std::filesystem::temp_directory_path() / "prescale_cli_bad.yaml";
  std::ofstream(bad_yaml) << "name: x\ncluster:\n  max_executors: -3\n";
  const auto bad_csv = std::filesystem::temp_directory_path() / "prescale_cli_bad.csv";
  std::ofstream(bad_csv) << "timestamp,value\n2014-07-01 00:00:00,1\n2014-07-01 00:05:00,oops\n";
  const auto bad_param = std::filesystem::temp_directory_path() / "prescale_cli_param.yaml";
  std::ofstream(bad_param) << "name: x\npolicies:\n  hpa:\n    target_cpu_percentt: 70\n";
  const auto unknown_policy = std::filesystem::temp_directory_path() / "prescale_cli_pol.yaml";
  std::ofstream(unknown_policy) << "name: x\npolicies:\n  hpaa:\n    target_cpu_percent: 70\n";
  const auto bucketed = std::filesystem::temp_directory_path() / "prescale_cli_bucket.yaml";
  std::ofstream(bucketed) << "name: x\nworkload:\n  trace:\n    bucket_s: 300\n";
  const std::string trace = relative_trace();
  const BadCase cases[] = {
      {"an unknown policy is named", "tournament --policies hpa,magic", "unknown policy 'magic'"},
      {"a missing scenario is named", "tournament --scenario nope", "unknown scenario 'nope'"},
      {"an out-of-range field names file and line", "tournament --scenario " + bad_yaml.string(),
       "prescale_cli_bad.yaml:3: cluster.max_executors"},
      {"a bad trace row names file and line", "tournament --trace " + bad_csv.string(),
       "prescale_cli_bad.csv:3: value: got 'oops'"},
      {"a missing trace file is named", "tournament --trace /no/such.csv", "/no/such.csv"},
      {"an unknown policy parameter names file and line",
       "tournament --scenario " + bad_param.string(),
       "prescale_cli_param.yaml:4: policies.hpa.target_cpu_percentt: unknown parameter"},
      {"parameters for an unknown policy are rejected",
       "tournament --scenario " + unknown_policy.string(), "policies.hpaa: unknown policy"},
      {"an unknown format is rejected", "tournament --format xml", "xml"},
      {"--speedup without a trace is rejected", "tournament --speedup 1",
       "--speedup needs a trace"},
      {"a negative --speedup is rejected", "tournament --trace " + trace + " --speedup -1",
       "--speedup"},
      {"a word for --speedup is rejected", "tournament --trace " + trace + " --speedup fast",
       "--speedup"},
      {"--speedup with a scenario's bucket_s names both fields",
       "tournament --scenario " + bucketed.string() + " --trace " + trace + " --speedup 1",
       "workload.trace.bucket_s (300) and workload.trace.speedup (1) are both set"},
      {"--edge lstm with --speedup is rejected",
       "tournament --trace " + trace + " --speedup 1 --edge lstm --policies hpa", "drop --speedup"},
      {"a replay of too many steps is refused before it starts",
       "tournament --trace " + trace + " --speedup 0.000001 --policies hpa",
       "steps; expected at most 20000000"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Outcome r = run(c.args + " --out " + dir);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(dir + "/results.csv"));
    EXPECT_FALSE(std::filesystem::exists(dir + "/timeline.csv"));
    EXPECT_FALSE(std::filesystem::exists(dir + "/report.html"));
  }
}

// `prescale race --shape` and `prescale validate`: bad input exits 2 before any server.
TEST(CliTest, RaceShapesAndValidateRefuseBadInput) {
  const auto keys = std::filesystem::temp_directory_path() / "prescale_cli_keys.txt";
  std::ofstream(keys) << "gw-1 " << std::string(64, 'a') << "\n";
  const std::string race = "race --config " + std::string(PRESCALE_SOURCE_DIR) +
                           "/scenarios/race/controller.yaml --key-file " + keys.string();
  const BadCase cases[] = {
      {"an unknown shape lists the shapes", race + " --shape sine",
       "unknown shape 'sine'; expected one of: burst, diurnal, llm"},
      {"a shape and a trace are exclusive",
       race + " --shape burst --trace " + std::string(PRESCALE_SOURCE_DIR) +
           "/scenarios/race/burst.csv",
       "--trace excludes --shape"},
      {"a shape fixes the speed-up", race + " --shape diurnal --speedup 10",
       "--speedup: fixed by --shape diurnal"},
      {"no traffic at all", race, "--trace FILE or --shape NAME"},
      {"the arena's scenario is checked first", race + " --shape llm --scenario nope",
       "--scenario: unknown scenario 'nope'"},
      {"validate needs a recorded race", "validate --from /no/such/run",
       "/no/such/run/replay.json"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Outcome r = run(c.args);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << r.out;
  }
}

// One development trace at one speed, judged without rl (quick; no models needed).
const char* kOneTraceCase =
    "traces --traces nyc_taxi --speeds compressed --seeds 1 --policy ds2 --compare none";

TEST(CliTest, TracesOutWritesTheTableAndOnePagePerCase) {
  const std::string dir = temp_dir("traces_out");
  const Outcome r = run(std::string(kOneTraceCase) + " --out " + dir);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir + "/traces.csv"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/report.html"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/timelines/nyc_taxi-compressed.html"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/timelines/nyc_taxi-compressed.html.tmp"));
  std::ifstream csv(dir + "/traces.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("trace,speed,speedup,steps,seeds,policy,sla_violation_pct", 0), 0u);
}

TEST(CliTest, TracesThatFailWriteNothing) {
  const std::string dir = temp_dir("traces_fail");
  const Outcome r = run(std::string(kOneTraceCase) + " --dir /no/such/traces --out " + dir);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace

namespace {

TEST(CliRl, AblationOutWritesItsReport) {
  const std::string dir = temp_dir("ablation_out");
  const Outcome r = run("ablation --scenario seed --seeds 2 --out " + dir);
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : {"/results.csv", "/timeline.csv", "/report.html"}) {
    EXPECT_TRUE(std::filesystem::exists(dir + f)) << f;
  }
}

TEST(CliRl, AblationShowsFourPhasesAsTableAndJson) {
  Outcome r = run("ablation --scenario seed --seeds 2");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* p : {"hpa", "rl-basic", "rl-shuffle", "rl-full", "peak MB/s", "CPU %"}) {
    EXPECT_NE(r.out.find(p), std::string::npos) << p;
  }
  r = run("ablation --scenario seed --seeds 2 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* key : {"\"phase\"", "\"sla_violation_pct\"", "\"p95_latency_ms\"",
                          "\"throughput_mb_s\"", "\"cpu_util_pct\"", "\"cost\""}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key;
  }
}

TEST(CliRl, TournamentContextReachesTheRlRow) {
  const Outcome h = run("tournament --seeds 2 --policies rl --context healthcare --format csv");
  const Outcome b = run("tournament --seeds 2 --policies rl --context budget --format csv");
  ASSERT_EQ(h.code, 0) << h.out;
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_NE(h.out, b.out);  // the manager steers the worker differently
}

TEST(CliRl, BenchDecisionPrintsLatencyJson) {
  const Outcome r = run("bench decision --policy rl --decisions 2000");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* key : {"\"p50_us\"", "\"p99_us\"", "\"max_us\"", "\"mean_us\""}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key;
  }
}

TEST(CliRl, CorruptModelsGiveAClearErrorNotACrash) {
  const std::string dir = temp_dir("models");
  std::filesystem::create_directories(dir);
  for (const char* f : {"worker-rl-full.json", "manager.json"}) {
    std::ofstream(std::filesystem::path(dir) / f)
        << "{\"format\": \"prescale-model\", \"version\": 1";
  }
  const Outcome r = run("tournament --seeds 1 --policies rl-full");
  ASSERT_EQ(r.code, 0) << r.out;  // the shipped models
  const Outcome bad = run("tournament --seeds 1 --policies rl-full", "PRESCALE_MODELS_DIR=" + dir);
  const std::string& out = bad.out;
  EXPECT_EQ(bad.code, 2) << out;
  EXPECT_NE(out.find("worker-rl-full.json"), std::string::npos) << out;
  EXPECT_NE(out.find("not JSON"), std::string::npos) << out;
}

TEST(CliRl, TrainRejectsBadArguments) {
  Outcome r = run("train --context nightly");
  EXPECT_EQ(r.code, 2) << r.out;
  r = run("train --steps -5");
  EXPECT_EQ(r.code, 2) << r.out;
  r = run("train --variants rl-turbo");
  EXPECT_EQ(r.code, 2) << r.out;
}

TEST(CliRl, TrainSmallRunWritesLoadableModels) {
  const std::string dir = temp_dir("train");
  Outcome r = run("train --steps 4096 --manager-episodes 2 --traces none --no-eval --out " + dir);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("steps/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ETA"), std::string::npos) << r.out;
  for (const char* f : {"worker-rl-basic.json", "worker-rl-shuffle.json", "worker-rl-full.json",
                        "manager.json", "training.json"}) {
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir) / f)) << f;
  }
  r = run("tournament --seeds 1 --policies rl,rl-basic", "PRESCALE_MODELS_DIR=" + dir);
  EXPECT_EQ(r.code, 0) << r.out;
}

}  // namespace

namespace {

TEST(CliForecast, EvalPrintsTheDocumentedJsonRows) {
  const std::string trace =
      std::string(PRESCALE_SOURCE_DIR) + "/data/traces/nab/realKnownCause/nyc_taxi.csv";
  ASSERT_TRUE(std::filesystem::is_regular_file(trace))
      << trace << " is missing (the repository ships it)";
  const Outcome r = run("forecast eval --trace " + trace + " --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* key :
       {"\"trace\"", "\"model\"", "\"mae\"", "\"rmse\"", "\"smape\"", "\"burst_precision\"",
        "\"burst_recall\"", "\"burst_f1\"", "\"lead_time_steps\""}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key;
  }
  for (const char* model :
       {"\"last\"", "\"seasonal\"", "\"ewma\"", "\"holt-winters\"", "\"linreg\""}) {
    EXPECT_NE(r.out.find(model), std::string::npos) << model;
  }
  EXPECT_EQ(run("forecast eval --trace /nonexistent.csv").code, 2);
}

}  // namespace

namespace {

TEST(CliForecast, TournamentEdgeLstmDrivesTheSignalFromTheForecaster) {
  const std::string trace = std::string(PRESCALE_SOURCE_DIR) +
                            "/data/traces/nab/realAWSCloudwatch/ec2_network_in_257a54.csv";
  ASSERT_TRUE(std::filesystem::is_regular_file(trace))
      << trace << " is missing (the repository ships it)";
  const Outcome r =
      run("tournament --trace " + trace + " --seeds 1 --policies hpa,rl --edge lstm --format csv");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("rl,"), std::string::npos) << r.out;
  Outcome bad = run("tournament --seeds 1 --policies hpa --edge lstm");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("--edge lstm needs --trace"), std::string::npos) << bad.out;
  bad = run("tournament --trace " + trace + " --steps 100 --seeds 1 --policies hpa --edge lstm");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("drop --steps"), std::string::npos) << bad.out;
}

// The global forecaster: its rows in forecast eval (the documented keys), and the edge it
// drives in the arena on synthetic load, which differs from no edge and from the synthetic
// signal (phpa provisions for the edge's forecast), and in traces, whose JSON names it.
TEST(CliForecast, GlobalModelRowsAndTheEdgeItDrives) {
  const std::string trace = std::string(PRESCALE_SOURCE_DIR) +
                            "/data/traces/nab/realAWSCloudwatch/ec2_network_in_257a54.csv";
  Outcome r = run("forecast eval --model global --trace " + trace + " --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"model\": \"global\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"model\": \"lstm\""), std::string::npos) << r.out;
  std::string phpa[3];
  const char* edges[] = {"forecast", "none", "synthetic"};
  for (int i = 0; i < 3; ++i) {
    r = run(std::string("tournament --seeds 1 --policies phpa --format csv --edge ") + edges[i]);
    ASSERT_EQ(r.code, 0) << r.out;
    phpa[i] = r.out.substr(r.out.find("phpa,"));
  }
  EXPECT_NE(phpa[0], phpa[1]);
  EXPECT_NE(phpa[0], phpa[2]);
  r =
      run("traces --traces ec2_network_in_257a54 --speeds compressed --seeds 1 "
          "--compare none --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"edge\": \"forecast\""), std::string::npos) << r.out;
  r = run("forecast eval --model global --global-file /nonexistent.json --trace " + trace);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("/nonexistent.json"), std::string::npos) << r.out;
}

}  // namespace
