// prescale: the command line. A thin main: parsing and printing only; the work lives in
// the libraries under src/.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "arena_cmds.h"
#include "bench_cmds.h"
#include "calibrate_cmds.h"
#include "core/result.h"
#include "fail.h"
#include "forecast_cmds.h"
#include "live_cmds.h"
#include "model_cmds.h"
#include "tier_cmds.h"
#include "train_cmds.h"
#include "validate_cmds.h"

namespace {

using prescale::cli::kBadInput;

// CLI11 answers "A subcommand is required" both when a command is missing and when a word is
// not a command. Say which, and list the commands accepted at that point ("" when the
// command line names its commands properly; CLI11 then reports anything else).
std::string command_problem(CLI::App& app, int argc, char** argv) {
  CLI::App* at = &app;
  std::string path = "prescale";
  for (int i = 1;; ++i) {
    if (at->get_require_subcommand_min() == 0) return "";
    const std::string word = i < argc ? argv[i] : "";
    if (!word.empty() && word[0] == '-') return "";  // an option (--help, --version)
    std::string names;
    CLI::App* next = nullptr;
    for (CLI::App* s : at->get_subcommands([](CLI::App*) { return true; })) {
      names += (names.empty() ? "" : ", ") + s->get_name();
      if (!word.empty() && s->check_name(word)) next = s;
    }
    if (next == nullptr) {
      return (word.empty() ? path + ": a command is required"
                           : path + ": unknown command " + prescale::core::echo(word)) +
             "; expected one of: " + names + " (" + path + " --help)";
    }
    at = next;
    path += " " + word;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "prescale: a proactive, edge-aware autoscaler for IoT stream processing, and "
      "the arena that compares it with the autoscalers people use"};
  app.require_subcommand(1);

  prescale::cli::TournamentArgs tournament_args;
  auto* tournament = prescale::cli::add_tournament_command(app, &tournament_args);

  auto* list = prescale::cli::add_policies_command(app);
  std::string check_name;
  auto* check = prescale::cli::add_check_command(app, &check_name);
  prescale::cli::BenchArgs bench_args;
  auto* bench = prescale::cli::add_bench_command(app, &bench_args);
  prescale::cli::TrainArgs train_args;
  auto* train = prescale::cli::add_train_command(app, &train_args);

  prescale::cli::AblationArgs ablation_args;
  auto* ablation = prescale::cli::add_ablation_command(app, &ablation_args);
  prescale::cli::TracesArgs traces_args;
  auto* traces = prescale::cli::add_traces_command(app, &traces_args);

  prescale::cli::ForecastArgs forecast_args;
  auto* forecast = prescale::cli::add_forecast_command(app, &forecast_args);

  prescale::cli::PlaneBenchArgs plane_args;
  auto* bench_planes = prescale::cli::add_plane_bench_command(*bench, &plane_args);
  std::string controller_config;
  auto* controller_cmd = prescale::cli::add_controller_command(app, &controller_config);
  prescale::cli::EdgeArgs edge_args;
  auto* edge_cmd = prescale::cli::add_edge_command(app, &edge_args);
  prescale::cli::RaceArgs race_args;
  auto* race_cmd = prescale::cli::add_race_command(app, &race_args);
  prescale::cli::CalibrateArgs calibrate_args;
  auto* calibrate_cmd = prescale::cli::add_calibrate_command(app, &calibrate_args);
  prescale::cli::ValidateArgs validate_args;
  auto* validate_cmd = prescale::cli::add_validate_command(app, &validate_args);
  prescale::cli::ModelsArgs models_args;
  auto* models_cmd = prescale::cli::add_models_command(app, &models_args);
  auto* tier_args = prescale::cli::add_tier_command(app);

  if (const std::string problem = command_problem(app, argc, argv); !problem.empty()) {
    std::cerr << problem << "\n";
    return kBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kBadInput;
  }

  if (prescale::cli::tier_selected(tier_args))
    return prescale::cli::run_tier_cmd(tier_args, PRESCALE_SOURCE_DIR);
  if (*train) return prescale::cli::run_train_cmd(train_args);
  if (*controller_cmd) return prescale::cli::run_controller_cmd(controller_config);
  if (*edge_cmd) return prescale::cli::run_edge_cmd(std::move(edge_args));
  if (*race_cmd) return prescale::cli::run_race_cmd(std::move(race_args), PRESCALE_SOURCE_DIR);
  if (*calibrate_cmd) return prescale::cli::run_calibrate_cmd(calibrate_args);
  if (*validate_cmd) return prescale::cli::run_validate_cmd(validate_args);
  if (*models_cmd) return prescale::cli::run_models_cmd(models_args);
  if (*tournament) return prescale::cli::run_tournament_cmd(tournament_args);
  if (*list) return prescale::cli::run_policies_cmd();
  if (*check) return prescale::cli::run_check_cmd(check_name);
  if (*forecast) return prescale::cli::run_forecast_cmd(forecast_args);
  if (*traces) return prescale::cli::run_traces_cmd(traces_args);
  if (*ablation) return prescale::cli::run_ablation_cmd(ablation_args);
  if (*bench_planes) return prescale::cli::run_plane_bench_cmd(plane_args, PRESCALE_SOURCE_DIR);
  return prescale::cli::run_bench_cmd(bench_args);
}
