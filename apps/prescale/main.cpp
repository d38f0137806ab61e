// prescale: the command line. A thin main: parsing and printing only; the work lives in
// the libraries under src/.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "arena/report.h"
#include "arena/tournament.h"
#include "policy/registry.h"
#include "sim/scenario.h"

namespace {

using prescale::core::Result;
using prescale::sim::Scenario;

constexpr int kBadInput = 2;

int fail(const std::string& message) {
  std::cerr << "prescale: error: " << message << "\n";
  return kBadInput;
}

struct WorkloadArgs {
  std::string scenario = "seed";
  std::string trace;
  int steps = -1;
  std::string context;
};

void add_workload_args(CLI::App* cmd, WorkloadArgs* a) {
  cmd->add_option("--scenario", a->scenario, "scenario name (scenarios/NAME.yaml) or YAML path")
      ->capture_default_str();
  cmd->add_option("--trace", a->trace,
                  "replay a timestamp,value CSV instead of the synthetic load (scaled to "
                  "workload.trace.peak_rps)");
  cmd->add_option("--steps", a->steps,
                  "steps per run (with --trace: a seeded window of the trace; default whole)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--context", a->context, "business context: balanced|healthcare|budget")
      ->check(CLI::IsMember({"balanced", "healthcare", "budget"}));
}

Result<Scenario> resolve_scenario(const WorkloadArgs& a) {
  auto s = prescale::sim::load_scenario(a.scenario);
  if (!s.ok()) return s;
  if (!a.trace.empty()) {
    s->source = prescale::sim::WorkloadSource::kTrace;
    s->trace.file = a.trace;
    s->steps = 0;  // whole trace unless --steps
  }
  if (a.steps > 0) s->steps = a.steps;
  if (!a.context.empty()) s->context = *prescale::core::parse_context(a.context);
  if (auto st = prescale::sim::validate(*s); !st.ok()) return st.error();
  return s;
}

int run_tournament_cmd(const WorkloadArgs& wa, int seeds, const std::string& policies,
                       const std::string& format, const std::string& out_dir) {
  auto scenario = resolve_scenario(wa);
  if (!scenario.ok()) return fail(scenario.error().message);
  auto names = prescale::policy::parse_policy_list(policies);
  if (!names.ok()) return fail(names.error().message);
  prescale::arena::TournamentOptions options;
  options.policies = *names;
  options.seeds = seeds;
  options.timeline = !out_dir.empty();
  auto result = prescale::arena::run_tournament(*scenario, options);
  if (!result.ok()) return fail(result.error().message);
  if (!out_dir.empty()) {
    if (auto st = prescale::arena::write_outputs(out_dir, *result); !st.ok()) {
      return fail(st.message());
    }
  }
  if (format == "json") {
    std::cout << prescale::arena::format_json(*result);
  } else if (format == "csv") {
    std::cout << prescale::arena::format_csv(*result);
  } else {
    std::cout << prescale::arena::format_table(*result);
    if (!out_dir.empty()) std::cout << "wrote " << out_dir << "/results.csv, timeline.csv\n";
  }
  return 0;
}

// `prescale bench tournament`: wall time of a whole tournament, as JSON.
int run_bench_tournament(const WorkloadArgs& wa, int seeds, const std::string& policies) {
  auto scenario = resolve_scenario(wa);
  if (!scenario.ok()) return fail(scenario.error().message);
  auto names = prescale::policy::parse_policy_list(policies);
  if (!names.ok()) return fail(names.error().message);
  prescale::arena::TournamentOptions options;
  options.policies = *names;
  options.seeds = seeds;
  const auto start = std::chrono::steady_clock::now();
  auto result = prescale::arena::run_tournament(*scenario, options);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) return fail(result.error().message);
  const double policy_steps =
      static_cast<double>(result->seeds) * result->steps * result->results.size();
  nlohmann::json j = {{"bench", "tournament"},
                      {"scenario", result->scenario},
                      {"seeds", result->seeds},
                      {"steps", result->steps},
                      {"policies", result->results.size()},
                      {"wall_s", secs},
                      {"policy_steps_per_s", policy_steps / secs}};
  std::cout << j.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "prescale: a proactive, edge-aware autoscaler for IoT stream processing, and "
      "the arena that compares it with the autoscalers people use"};
  app.require_subcommand(1);

  WorkloadArgs tw;
  int seeds = 0;
  std::string policies = "all";
  std::string format = "table";
  std::string out_dir;
  auto* tournament = app.add_subcommand(
      "tournament", "run every policy on identical traffic and print one row per policy");
  add_workload_args(tournament, &tw);
  tournament->add_option("--seeds", seeds, "number of seeds (default: the scenario's)")
      ->check(CLI::PositiveNumber);
  tournament->add_option("--policies", policies, "comma-separated policies, or all")
      ->capture_default_str();
  tournament->add_option("--format", format, "table|json|csv")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  tournament->add_option("--out", out_dir, "also write results.csv and timeline.csv here");

  auto* list = app.add_subcommand("policies", "list the policies");

  std::string check_name;
  auto* check = app.add_subcommand("check", "validate a scenario file (exit 2 on errors)");
  check->add_option("scenario", check_name, "scenario name or YAML path")->required();

  auto* bench = app.add_subcommand("bench", "benchmarks that print JSON");
  bench->require_subcommand(1);
  WorkloadArgs bw;
  int bench_seeds = 20;
  std::string bench_policies = "all";
  auto* bench_t = bench->add_subcommand("tournament", "wall time of a whole tournament");
  add_workload_args(bench_t, &bw);
  bench_t->add_option("--seeds", bench_seeds, "seeds")->capture_default_str();
  bench_t->add_option("--policies", bench_policies, "policies")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kBadInput;
  }

  if (*tournament) return run_tournament_cmd(tw, seeds, policies, format, out_dir);
  if (*list) {
    for (const auto& info : prescale::policy::known_policies()) {
      std::printf("%-12s %s\n", info.name.c_str(), info.summary.c_str());
    }
    return 0;
  }
  if (*check) {
    auto s = prescale::sim::load_scenario(check_name);
    if (!s.ok()) return fail(s.error().message);
    for (const auto& info : prescale::policy::known_policies()) {
      auto p = prescale::policy::make_policy(info.name, *s, nullptr);
      if (!p.ok()) return fail(p.error().message);
    }
    for (const auto& [name, table] : s->policies) {
      bool known = false;
      for (const auto& info : prescale::policy::known_policies()) known |= info.name == name;
      if (!known) return fail(s->source_file + ": policies." + name + ": unknown policy");
    }
    std::printf("%s: ok (%d steps of %g s, %s)\n", s->source_file.c_str(), s->steps, s->step_s,
                s->source == prescale::sim::WorkloadSource::kTrace ? "trace" : "synthetic");
    return 0;
  }
  if (*bench_t) return run_bench_tournament(bw, bench_seeds, bench_policies);
  return 0;
}
