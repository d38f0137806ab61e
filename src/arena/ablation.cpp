#include "arena/ablation.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "arena/html_report.h"
#include "arena/output_dir.h"
#include "arena/report.h"

namespace prescale::arena {

core::Result<AblationResult> run_ablation(const sim::Scenario& scenario, int seeds, bool timeline) {
  static const struct {
    const char* policy;
    const char* adds;
  } kPhases[] = {{"hpa", "baseline: reactive HPA on CPU"},
                 {"rl-basic", "learned executor scaling (NVMe, no compression, no edge)"},
                 {"rl-shuffle", "+ adaptive shuffle: tier and codec per step"},
                 {"rl-full", "+ edge burst signal: scale before the burst"},
                 {"rl-raw", "reference: hierarchical rl without the safety envelope"}};
  TournamentOptions o;
  for (const auto& p : kPhases) o.policies.push_back(p.policy);
  o.seeds = seeds;
  o.timeline = timeline;
  auto t = run_tournament(scenario, o);
  if (!t.ok()) return t.error();
  AblationResult r;
  r.tournament = std::move(*t);
  for (size_t i = 0; i < std::size(kPhases); ++i) {
    r.phases.push_back(
        {static_cast<int>(i), kPhases[i].policy, kPhases[i].adds, &r.tournament.results[i]});
  }
  return r;
}

std::string format_ablation_table(const AblationResult& r) {
  std::string out = "incremental analysis on scenario " + r.tournament.scenario + " (" +
                    std::to_string(r.tournament.seeds) + " seeds x " +
                    std::to_string(r.tournament.steps) + " steps; mean ±95% CI)\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-7s %-11s %14s %9s %9s %10s %7s %13s  %s\n", "phase", "policy",
                "SLA viol %", "p95 ms", "MB/s", "peak MB/s", "CPU %", "cost $", "adds");
  out += line;
  for (const auto& p : r.phases) {
    const PolicySummary& s = *p.summary;
    std::snprintf(line, sizeof line,
                  "%-7d %-11s %7.1f ±%4.1f %9.0f %9.0f %10.0f %7.1f %6.3f ±%5.3f  %s\n", p.phase,
                  p.policy.c_str(), s.sla_violation_pct.mean, s.sla_violation_pct.ci95,
                  s.p95_latency_ms.mean, s.throughput_mb_s.mean, s.peak_throughput_mb_s.mean,
                  s.cpu_util_pct.mean, s.cost.mean, s.cost.ci95, p.adds.c_str());
    out += line;
  }
  return out;
}

std::string format_ablation_json(const AblationResult& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& p : r.phases) {
    const PolicySummary& s = *p.summary;
    rows.push_back(
        {{"phase", p.phase},
         {"policy", p.policy},
         {"adds", p.adds},
         {"sla_violation_pct", s.sla_violation_pct.mean},
         {"p95_latency_ms", s.p95_latency_ms.mean},
         {"throughput_mb_s", s.throughput_mb_s.mean},
         {"peak_throughput_mb_s", s.peak_throughput_mb_s.mean},
         {"cpu_util_pct", s.cpu_util_pct.mean},
         {"cost", s.cost.mean},
         {"ci95", {{"sla_violation_pct", s.sla_violation_pct.ci95}, {"cost", s.cost.ci95}}}});
  }
  nlohmann::json j = {{"scenario", r.tournament.scenario},
                      {"seeds", r.tournament.seeds},
                      {"steps", r.tournament.steps},
                      {"phases", rows}};
  return j.dump(2) + "\n";
}

core::Status write_ablation_outputs(const std::string& dir, const AblationResult& r) {
  StagedFiles out(dir);
  for (const auto& [name, content] :
       {std::pair<const char*, std::string>{"results.csv", format_csv(r.tournament)},
        {"timeline.csv", format_timeline_csv(r.tournament)},
        {"report.html", ablation_page(r)}}) {
    if (auto st = out.stage(name, content); !st.ok()) return st;
  }
  return out.commit();
}

}  // namespace prescale::arena
