#include "validate_cmds.h"

#include <cstdio>
#include <iostream>

#include "core/files.h"
#include "fail.h"
#include "forecast/evaluate.h"
#include "live/race_report.h"
#include "sim/scenario.h"

namespace prescale::cli {

CLI::App* add_validate_command(CLI::App& app, ValidateArgs* a) {
  auto* c = app.add_subcommand(
      "validate",
      "the arena against a recorded live race: the same traffic (RUN_DIR/trace.csv, "
      "replay.json) through the arena with a (calibrated) scenario, each policy as the live "
      "controller ran it; per policy executors MAE, p95 latency, violations and cost side by "
      "side (docs/sim2real.md)");
  c->add_option("--from", a->from, "the run directory (prescale race --record-dir)")->required();
  c->add_option("--scenario", a->scenario,
                "the arena's scenario, name or file (a calibrated one: prescale calibrate --out)")
      ->capture_default_str();
  c->add_option("--config", a->config,
                "the controller YAML whose policy settings the arena uses (default: the race's)");
  c->add_option("--format", a->format, "table|json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  c->add_option("--out", a->out, "write the JSON (with the arena's timelines) to this file too");
  c->add_option("--report", a->report,
                "write report.html: the live runs with the arena's executors and latency on the "
                "same charts");
  return c;
}

core::Result<validate::Report> validate_run_dir(const std::string& dir, const std::string& scenario,
                                                const std::string& controller_config) {
  auto s = sim::load_scenario(scenario);
  if (!s.ok()) return core::Error{"--scenario: " + s.error().message};
  auto replay = validate::load_replay(dir);
  if (!replay.ok()) return replay.error();
  auto records = calibrate::load_run_dir(dir);
  if (!records.ok()) return records.error();
  validate::Options o;
  o.controller_config = controller_config;
  return validate::validate(*records, *replay, *s, o);
}

std::vector<live::RunResult> runs_from_records(const calibrate::RunRecords& rec,
                                               const validate::Replay& replay) {
  std::pair<int, int> burst{0, 0};
  if (auto t = forecast::prepare_trace(replay.trace_file); t.ok()) {
    const auto b = live::trace_bursts(t->series, replay.burst_threshold);
    if (!b.empty()) burst = b.front();
  }
  std::vector<live::RunResult> runs;
  for (const auto& info : rec.runs) {
    live::RunResult r;
    r.policy = info.policy;
    r.min_executors = info.min_executors;
    r.duration_s = info.duration_s;
    r.burst_start_s = burst.first * replay.interval_s;
    r.burst_end_s = burst.second * replay.interval_s;
    // Each row is the record the race wrote, plus its run and line.
    for (const auto& e : rec.executors)
      if (e.run == info.run) r.executors.push_back(e);
    for (const auto& b : rec.batches)
      if (b.run == info.run) r.batches.push_back(b);
    for (const auto& c : rec.commands)
      if (c.run == info.run) r.commands.push_back(c);
    r.summarise(info.sla_ms);
    runs.push_back(std::move(r));
  }
  return runs;
}

int run_validate_cmd(const ValidateArgs& a) {
  auto rep = validate_run_dir(a.from, a.scenario, a.config);
  if (!rep.ok()) return fail(rep.error().message);
  const std::string j = rep->to_json(true);
  if (!a.out.empty()) {
    if (auto st = core::write_file_atomic(a.out, j + "\n"); !st.ok()) return fail(st.message());
  }
  if (!a.report.empty()) {
    auto replay = validate::load_replay(a.from);
    auto records = calibrate::load_run_dir(a.from);
    if (!replay.ok() || !records.ok()) return fail("--report: the records changed while read");
    const auto runs = runs_from_records(*records, *replay);
    const std::string page = live::race_page(runs, rep->sla_ms, j);
    if (auto st = core::write_file_atomic(a.report, page); !st.ok()) return fail(st.message());
    std::cerr << "validate: report " << a.report << "\n";
  }
  if (a.format == "json")
    std::printf("%s\n", rep->to_json(false).c_str());
  else
    std::printf("%s", rep->table().c_str());
  return 0;
}

}  // namespace prescale::cli
