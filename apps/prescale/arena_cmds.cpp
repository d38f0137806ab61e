#include "arena_cmds.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "arena/ablation.h"
#include "arena/report.h"
#include "arena/tournament.h"
#include "arena/traces.h"
#include "core/progress.h"
#include "fail.h"
#include "forecast/edge.h"
#include "forecast/evaluate.h"
#include "forecast_cmds.h"
#include "policy/registry.h"
#include "policy/rl_policy.h"

namespace prescale::cli {
namespace {

// `--edge lstm`: the trace's shipped LSTM (models/forecast/<stem>.json) drives the edge
// signal. Whole-trace replay only: the model's time-of-day input needs sample numbers that
// start at the trace's first sample.
core::Status set_lstm_edge(const WorkloadArgs& wa, const sim::Scenario& scenario,
                           arena::TournamentOptions* options) {
  if (wa.trace.empty())
    return core::Error{"--edge lstm needs --trace FILE (the LSTM is per trace)"};
  if (wa.steps > 0) return core::Error{"--edge lstm replays the whole trace; drop --steps"};
  if (scenario.trace.speedup > 0)
    return core::Error{
        "--edge lstm replays one trace sample per step (the model's clock); drop --speedup"};
  const std::string path = policy::default_models_dir() + "/forecast/" +
                           std::filesystem::path(wa.trace).stem().string() + ".json";
  auto model = forecast::load_lstm(path);
  if (!model.ok()) return model.error();
  auto raw = forecast::prepare_trace(wa.trace);
  if (!raw.ok()) return raw.error();
  double raw_max = 0;
  for (double v : raw->series) raw_max = std::max(raw_max, v);
  if (!(raw_max > 0)) return core::Error{wa.trace + ": an all-zero trace has no load to forecast"};
  const double raw_per_rps = raw_max / scenario.trace.peak_rps;
  auto shared = std::make_shared<forecast::LstmModel>(std::move(*model));
  options->edge = [shared, raw_per_rps](sim::Workload* w) {
    forecast::drive_edge_signal(*shared, raw_per_rps, forecast::DetectorParams{}, w);
  };
  return core::Status::Ok();
}

// `--edge none`: no edge at all (no signal, no forecast): what the proactive half adds is
// measured against this.
void set_no_edge(std::function<void(sim::Workload*)>* edge) {
  *edge = [](sim::Workload* w) {
    w->signal.assign(w->arrivals_rps.size(), 0);
    w->forecast_rps.assign(w->arrivals_rps.size(), 0.0);
    w->confidence.assign(w->arrivals_rps.size(), 0.0);
  };
}

constexpr const char* kForecastEdgeHelp =
    "forecast (the global forecaster, models/forecast/global.json, and its burst head: any load, "
    "any speed) or none (no signal, no forecast)";

void add_out_arg(CLI::App* cmd, std::string* out, const std::string& what) {
  cmd->add_option("--out", *out,
                  "also write " + what +
                      " here (created if missing; all files or none): report.html opens "
                      "offline in a browser (docs/report.md)");
}

}  // namespace

// `--edge forecast`: the global forecaster (models/forecast/global.json) drives the edge
// signal, on any load and at any speed.
core::Status set_forecast_edge(std::function<void(sim::Workload*)>* edge) {
  const std::string path = default_global_model();
  auto model = forecast::load_global(path);
  if (!model.ok()) return model.error();
  auto shared = std::make_shared<forecast::GlobalModel>(std::move(*model));
  *edge = [shared](sim::Workload* w) { forecast::drive_edge_signal(*shared, w); };
  return core::Status::Ok();
}

void add_workload_args(CLI::App* cmd, WorkloadArgs* a) {
  cmd->add_option("--scenario", a->scenario, "scenario name (scenarios/NAME.yaml) or YAML path")
      ->capture_default_str();
  cmd->add_option("--trace", a->trace,
                  "replay a timestamp,value or t_seconds,value CSV instead of the synthetic load "
                  "(scaled to workload.trace.peak_rps)");
  cmd->add_option("--steps", a->steps,
                  "steps per run (with --trace: a seeded window of the trace; default whole)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--context", a->context, "business context: balanced|healthcare|budget")
      ->check(CLI::IsMember({"balanced", "healthcare", "budget"}));
}

void add_speedup_arg(CLI::App* cmd, WorkloadArgs* a) {
  cmd->add_option("--speedup", a->speedup,
                  "replay the trace at this speed: trace seconds per simulated second (1 = real "
                  "time, linear interpolation between samples; each step = the mean over "
                  "step_s x X trace seconds). Default: one trace sample per step. Needs a trace")
      ->check(CLI::Range(0.0, 1e6));
}

core::Result<sim::Scenario> resolve_scenario(const WorkloadArgs& a) {
  auto s = sim::load_scenario(a.scenario);
  if (!s.ok()) return s;
  if (!a.trace.empty()) {
    s->source = sim::WorkloadSource::kTrace;
    s->trace.file = a.trace;
    s->steps = 0;  // whole trace unless --steps
  }
  if (a.speedup >= 0) {
    if (s->source != sim::WorkloadSource::kTrace) {
      return core::Error{
          "--speedup needs a trace (--trace FILE, or a scenario with workload.source: trace)"};
    }
    s->trace.speedup = a.speedup;
  }
  if (a.steps > 0) s->steps = a.steps;
  if (!a.context.empty()) s->context = *core::parse_context(a.context);
  if (auto st = sim::validate(*s); !st.ok()) return st.error();
  return s;
}

CLI::App* add_tournament_command(CLI::App& app, TournamentArgs* a) {
  auto* c = app.add_subcommand(
      "tournament", "run every policy on identical traffic and print one row per policy");
  add_workload_args(c, &a->workload);
  c->add_option("--seeds", a->seeds, "number of seeds (default: the scenario's)")
      ->check(CLI::PositiveNumber);
  c->add_option("--policies", a->policies, "comma-separated policies, or all")
      ->capture_default_str();
  c->add_option("--format", a->format, "table|json|csv")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  add_out_arg(c, &a->out, "results.csv, timeline.csv (the first seed) and report.html");
  add_speedup_arg(c, &a->workload);
  c->add_option("--edge", a->edge,
                std::string("edge signal: synthetic (the model of docs/model.md: an upper bound, "
                            "it reads the future), lstm (the trace's shipped forecaster + burst "
                            "detector; needs --trace) or ") +
                    kForecastEdgeHelp)
      ->check(CLI::IsMember({"synthetic", "lstm", "forecast", "none"}))
      ->capture_default_str();
  return c;
}

int run_tournament_cmd(const TournamentArgs& a) {
  auto scenario = resolve_scenario(a.workload);
  if (!scenario.ok()) return fail(scenario.error().message);
  auto names = policy::parse_policy_list(a.policies);
  if (!names.ok()) return fail(names.error().message);
  arena::TournamentOptions options;
  options.policies = *names;
  options.seeds = a.seeds;
  if (a.edge == "lstm") {
    if (auto st = set_lstm_edge(a.workload, *scenario, &options); !st.ok())
      return fail(st.message());
  } else if (a.edge == "forecast") {
    if (auto st = set_forecast_edge(&options.edge); !st.ok()) return fail(st.message());
  } else if (a.edge == "none") {
    set_no_edge(&options.edge);
  }
  options.timeline = !a.out.empty();
  auto result = arena::run_tournament(*scenario, options);
  if (!result.ok()) return fail(result.error().message);
  if (!a.out.empty()) {
    if (auto st = arena::write_outputs(a.out, *result); !st.ok()) return fail(st.message());
  }
  if (a.format == "json") {
    std::cout << arena::format_json(*result);
  } else if (a.format == "csv") {
    std::cout << arena::format_csv(*result);
  } else {
    std::cout << arena::format_table(*result);
    if (!a.out.empty())
      std::cout << "wrote " << a.out << "/results.csv, timeline.csv, report.html\n";
  }
  return 0;
}

CLI::App* add_ablation_command(CLI::App& app, AblationArgs* a) {
  auto* c = app.add_subcommand(
      "ablation", "the incremental analysis: hpa, rl-basic, rl-shuffle, rl-full, phase by phase");
  add_workload_args(c, &a->workload);
  c->add_option("--seeds", a->seeds, "number of seeds (default: the scenario's)")
      ->check(CLI::PositiveNumber);
  c->add_option("--format", a->format, "table|json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  add_out_arg(c, &a->out, "results.csv, timeline.csv (the first seed) and report.html");
  return c;
}

int run_ablation_cmd(const AblationArgs& a) {
  auto scenario = resolve_scenario(a.workload);
  if (!scenario.ok()) return fail(scenario.error().message);
  auto r = arena::run_ablation(*scenario, a.seeds, !a.out.empty());
  if (!r.ok()) return fail(r.error().message);
  if (!a.out.empty()) {
    if (auto st = arena::write_ablation_outputs(a.out, *r); !st.ok()) return fail(st.message());
  }
  std::cout << (a.format == "json" ? arena::format_ablation_json(*r)
                                   : arena::format_ablation_table(*r));
  if (!a.out.empty() && a.format != "json") {
    std::cout << "wrote " << a.out << "/results.csv, timeline.csv, report.html\n";
  }
  return 0;
}

CLI::App* add_traces_command(CLI::App& app, TracesArgs* a) {
  auto* c = app.add_subcommand(
      "traces",
      "a policy against hpa, the best autoscaler and the oracle on each of the 9 development "
      "traces, replayed compressed (one sample per step, whole trace) and at real speed "
      "(--speedup 1, a seeded window of 17280 steps = one day)");
  add_workload_args(c, &a->workload);
  c->add_option("--dir", a->dir, "traces directory (default: data/traces/ of the source tree)");
  c->add_option("--policy", a->policy, "policy to judge")->capture_default_str();
  c->add_option("--compare", a->compare,
                "more policies shown beside it, comma-separated ('none' for none)")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--speeds", a->speeds, "replay speeds: compressed,real")
      ->delimiter(',')
      ->check(CLI::IsMember({"compressed", "real"}))
      ->capture_default_str();
  c->add_option("--traces", a->traces,
                "only these development traces, comma-separated (e.g. nyc_taxi)")
      ->delimiter(',');
  c->add_option("--seeds", a->seeds, "seeds per case (window, jitter and edge draws)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  c->add_option("--format", a->format, "table|json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  add_out_arg(c, &a->out,
              "traces.csv, report.html (the table) and timelines/<trace>-<speed>.html (each "
              "case's first seed)");
  c->add_option("--edge", a->edge,
                std::string("edge signal: ") + kForecastEdgeHelp +
                    ", or synthetic (the model of docs/model.md: an upper bound, it reads the "
                    "future)")
      ->check(CLI::IsMember({"synthetic", "forecast", "none"}))
      ->capture_default_str();
  return c;
}

int run_traces_cmd(const TracesArgs& a) {
  auto scenario = resolve_scenario(a.workload);
  if (!scenario.ok()) return fail(scenario.error().message);
  arena::TracesOptions o;
  o.dir = a.dir.empty() ? arena::default_traces_dir() : a.dir;
  o.policy = a.policy;
  o.compare.clear();
  for (const auto& c : a.compare) {
    if (c != "none") o.compare.push_back(c);
  }
  o.speeds.clear();
  for (const auto& sp : a.speeds) o.speeds.push_back(*arena::parse_replay_speed(sp));
  o.traces = a.traces;
  o.seeds = a.seeds;
  if (a.edge == "forecast") {
    if (auto st = set_forecast_edge(&o.edge); !st.ok()) return fail(st.message());
  } else if (a.edge == "none") {
    set_no_edge(&o.edge);
  }
  auto sel = arena::select_traces(o.traces);
  if (!sel.ok()) return fail(sel.error().message);
  std::vector<std::string> names = {o.policy};
  names.insert(names.end(), o.compare.begin(), o.compare.end());
  for (const auto& n : names) {
    std::string known;
    bool found = false;
    for (const auto& info : policy::known_policies()) {
      found = found || info.name == n;
      known += (known.empty() ? "" : ", ") + info.name;
    }
    if (!found) {
      return fail("--policy/--compare: unknown policy '" + n + "'; expected one of: " + known);
    }
  }
  // Progress: the cases run trace by trace, each at every speed (arena/traces.cpp); on a
  // terminal a status line names the running case, elsewhere one line per finished case.
  std::vector<std::string> labels;
  for (const auto& path : *sel)
    for (const auto speed : o.speeds)
      labels.push_back(std::filesystem::path(path).stem().string() + " (" +
                       std::string(arena::to_string(speed)) + ")");
  core::Progress::Options po;
  po.what = "traces";
  po.total = static_cast<int>(labels.size());
  auto progress = std::make_unique<core::Progress>(po);
  int finished = 0;
  if (!labels.empty()) progress->begin(1, labels[0]);
  o.on_case = [&](const arena::TraceCase& c) {
    ++finished;
    char line[256];
    std::snprintf(line, sizeof line, "traces [%d/%zu] %s (%s): %d steps x %d seeds, %.1f s",
                  finished, labels.size(), c.trace.c_str(),
                  std::string(arena::to_string(c.speed)).c_str(), c.steps, c.seeds, c.wall_s);
    progress->done(line);
    if (finished < static_cast<int>(labels.size()))
      progress->begin(finished + 1, labels[static_cast<size_t>(finished)]);
  };
  auto v = a.out.empty() ? arena::evaluate_traces(*scenario, o)
                         : arena::evaluate_traces_into(a.out, *scenario, o);
  progress.reset();  // the status line goes before the table
  if (!v.ok()) return fail(v.error().message);
  if (a.format == "json") {
    // Which edge signal the figures were made with: the same policy differs by it.
    auto j = nlohmann::json::parse(arena::format_traces_json(*v));
    j["edge"] = a.edge;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "edge signal: " << a.edge
              << (a.edge == "synthetic" ? " (reads the future: an upper bound)" : "") << "\n"
              << arena::format_traces_table(*v);
  }
  if (!a.out.empty() && a.format != "json") {
    std::cout << "wrote " << a.out << "/traces.csv, report.html, timelines/ (" << v->size()
              << " case pages)\n";
  }
  return 0;
}

CLI::App* add_policies_command(CLI::App& app) {
  return app.add_subcommand("policies", "list the policies");
}

int run_policies_cmd() {
  for (const auto& info : policy::known_policies()) {
    std::printf("%-12s %s\n", info.name.c_str(), info.summary.c_str());
  }
  return 0;
}

CLI::App* add_check_command(CLI::App& app, std::string* scenario) {
  auto* cmd = app.add_subcommand("check", "validate a scenario file (exit 2 on errors)");
  cmd->add_option("scenario", *scenario, "scenario name or YAML path")->required();
  return cmd;
}

int run_check_cmd(const std::string& name) {
  auto s = sim::load_scenario(name);
  if (!s.ok()) return fail(s.error().message);
  std::vector<std::string> all;
  for (const auto& info : policy::known_policies()) all.push_back(info.name);
  if (auto st = policy::check_policies(*s, all); !st.ok()) return fail(st.message());
  std::printf("%s: ok (%d steps of %g s, %s)\n", s->source_file.c_str(), s->steps, s->step_s,
              s->source == sim::WorkloadSource::kTrace ? "trace" : "synthetic");
  return 0;
}

}  // namespace prescale::cli
