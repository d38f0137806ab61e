#include "calibrate_cmds.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "calibrate/calibrate.h"
#include "core/files.h"
#include "fail.h"
#include "sim/scenario.h"

namespace prescale::cli {
namespace {

nlohmann::json to_json(const calibrate::Estimate& e) {
  return {{"value", e.value}, {"se", e.se},         {"lo", e.lo},    {"hi", e.hi},
          {"n", e.n},         {"fitted", e.fitted}, {"note", e.note}};
}

}  // namespace

CLI::App* add_calibrate_command(CLI::App& app, CalibrateArgs* a) {
  auto* c = app.add_subcommand(
      "calibrate",
      "fit the arena's parameters (per-executor capacity, per-batch overhead, cold start, "
      "latency against backlog) from a live run's records (prescale race --record-dir) and "
      "write a scenario with them (docs/sim2real.md)");
  c->add_option("--from", a->from,
                "the run directory (runs, batches, executors, commands.jsonl); repeat it to fit "
                "several runs as one")
      ->required();
  c->add_option("--base", a->base, "the scenario the other values come from (name or file)")
      ->capture_default_str();
  c->add_option("--out", a->out, "write the calibrated scenario YAML here (default: stdout)");
  c->add_option("--name", a->name, "the calibrated scenario's name (default: BASE-calibrated)");
  c->add_option("--capacity", a->capacity,
                "cluster.capacity_rps as the marginal rate (1000 / slope) or as the input per "
                "executor that fills a trigger (the arena pays the per-batch overhead in latency "
                "only; docs/sim2real.md, \"Validation\")")
      ->check(CLI::IsMember({"marginal", "trigger"}))
      ->capture_default_str();
  c->add_flag("--warmup", a->warmup,
              "also write cluster.warmup_s (fitted and reported either way; off by default: it "
              "lowered the leave-one-shape-out validation, docs/sim2real.md)");
  c->add_option("--format", a->format, "the fit on stderr (--out: stdout): table|json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  return c;
}

int run_calibrate_cmd(const CalibrateArgs& a) {
  auto base = sim::load_scenario(a.base);
  if (!base.ok()) return fail("--base: " + base.error().message);
  std::vector<calibrate::RunRecords> parts;
  std::string froms;
  for (const auto& dir : a.from) {
    auto part = calibrate::load_run_dir(dir);
    if (!part.ok()) return fail(part.error().message);
    parts.push_back(std::move(*part));
    froms += " --from " + dir;
  }
  const calibrate::RunRecords records = calibrate::merge_runs(parts);
  calibrate::Fit f = calibrate::fit(records, *base);
  if (a.capacity == "trigger") f = calibrate::trigger_capacity(f);
  f.use_warmup = a.warmup;

  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const std::string stamp = std::string(when) + " by `prescale calibrate" + froms + " --base " +
                            a.base + (a.capacity == "marginal" ? "" : " --capacity " + a.capacity) +
                            (a.warmup ? " --warmup" : "") + "`";
  const std::string name = a.name.empty() ? base->name + "-calibrated" : a.name;
  auto yaml = calibrate::scenario_yaml(f, records, *base, name, stamp);
  if (!yaml.ok()) return fail(yaml.error().message);

  std::string report;
  if (a.format == "json") {
    nlohmann::json j = {{"from", a.from},
                        {"base", base->source_file},
                        {"capacity_from", a.capacity},
                        {"batches_used", f.batches_used},
                        {"batch_residual_sd_ms", f.batch_residual_sd_ms},
                        {"capacity_rps", to_json(f.capacity_rps)},
                        {"overhead_ms", to_json(f.overhead_ms)},
                        {"contention", to_json(f.contention)},
                        {"warmup_s", to_json(f.warmup_s)},
                        {"trigger_fill_rps", to_json(f.trigger_fill_rps)},
                        {"cold_start_s", to_json(f.cold_start_s)},
                        {"cold_start_live_s", to_json(f.cold_start_live_s)},
                        {"backlog_ms_per_reading_per_executor", to_json(f.backlog_ms_per_rpe)},
                        {"backlog_intercept_ms", to_json(f.backlog_intercept_ms)}};
    report = j.dump() + "\n";
  } else {
    report = calibrate::summary(f, *base);
  }
  if (a.out.empty()) {
    std::cerr << report;
    std::cout << *yaml;
    return 0;
  }
  if (auto st = core::write_file_atomic(a.out, *yaml); !st.ok()) return fail(st.message());
  std::cout << report;
  std::cerr << "calibrate: wrote " << a.out << "\n";
  return 0;
}

}  // namespace prescale::cli
