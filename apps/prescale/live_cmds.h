// The commands that talk to live servers: `prescale edge` (the gateway agent, src/edge) and
// `prescale controller` (src/control), `prescale bench dualplane` (src/bus/plane_bench.h)
// and `prescale race` (src/live).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "bus/plane_bench.h"
#include "control/daemon.h"
#include "edge/agent.h"
#include "live/race.h"

namespace prescale::cli {

struct EdgeArgs {
  edge::AgentOptions opts;
  std::string brokers = "127.0.0.1:9092";
  std::vector<std::string> kafka;  // KEY=VALUE
  std::string kafka_file;          // key=value lines (secrets: sasl.password, ...)
  bool stdin_input = false;
  std::string mqtt;  // HOST:PORT
  // --horizon, to tell whether it was given (--forecaster global: left out = the model's).
  CLI::Option* horizon = nullptr;
};

CLI::App* add_edge_command(CLI::App& app, EdgeArgs* a);
int run_edge_cmd(EdgeArgs a);

struct PlaneBenchArgs {
  bus::PlaneBenchOptions opts;
  std::string brokers;  // empty: start a private broker (scripts/stack/kafka.sh)
  std::vector<std::string> kafka;
  std::string format = "json";
};

CLI::App* add_controller_command(CLI::App& app, std::string* config);
int run_controller_cmd(const std::string& config);

CLI::App* add_plane_bench_command(CLI::App& bench, PlaneBenchArgs* a);
int run_plane_bench_cmd(const PlaneBenchArgs& a, const std::string& source_dir);

struct RaceArgs {
  live::RaceOptions opts;
  std::string policies = "rl,hpa";
  std::string format = "table";    // table | json
  std::string out;                 // also write the JSON (with the timelines) here
  std::string report;              // and the HTML report (live/race_report.h) here
  CLI::Option* horizon = nullptr;  // --horizon, as for EdgeArgs
  // --shape (live/shapes.h) fixes the trace, --speedup, --scale, --horizon and
  // --burst-threshold: given with it, they are an error.
  CLI::Option *trace = nullptr, *shape = nullptr, *speedup = nullptr, *scale = nullptr,
              *burst_threshold = nullptr;
  std::string scenario = "live";  // the arena's side after the runs (src/validate)
  bool no_validate = false;
};

CLI::App* add_race_command(CLI::App& app, RaceArgs* a);
int run_race_cmd(RaceArgs a, const std::string& source_dir);

}  // namespace prescale::cli
