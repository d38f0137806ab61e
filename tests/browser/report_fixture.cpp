// Writes the report pages the browser test needs that no command produces on purpose: bad
// input (an empty run, a policy with no steps, a traces run with no cases) and runs long
// enough to stress the page (150,000 steps: every step drawn; 300,000: decimated).
//
//   report_fixture OUT_DIR   ->   OUT_DIR/{empty,no-steps,no-cases,ablation,dense,long}/report.html
#include <cmath>
#include <cstdio>
#include <string>

#include "arena/html_report.h"
#include "arena/output_dir.h"

namespace arena = prescale::arena;
namespace core = prescale::core;
namespace sim = prescale::sim;

namespace {

arena::TournamentResult run_named(const std::string& scenario, int steps) {
  arena::TournamentResult r;
  r.scenario = scenario;
  r.workload = "synthetic";
  r.seeds = 1;
  r.steps = steps;
  r.step_s = 5;
  r.sla_ms = 1000;
  r.base_seed = 1;
  return r;
}

void add_policy(arena::TournamentResult* r, const std::string& name, double cost, double sla,
                int steps) {
  arena::PolicySummary s;
  s.policy = name;
  s.cost = {cost, cost * 0.05, 1};
  s.sla_violation_pct = {sla, 1, 1};
  r->results.push_back(s);
  for (int i = 0; i < steps; ++i) {
    // A daily wave with a burst every 5,000 steps; the executors follow the load.
    const double load =
        300'000 + 200'000 * std::sin(i * 2 * M_PI / 17'280) + (i % 5000 < 300 ? 400'000 : 0);
    sim::StepRecord x{};
    x.step = i;
    x.load_rps = load;
    x.processed_rps = load * (name == "oracle" ? 1.0 : 0.97);
    x.active = static_cast<int>(load / 60'000) + (name == "oracle" ? 0 : 1);
    x.pending = i % 5000 < 12 ? 2 : 0;
    x.target = x.active + x.pending;
    x.tier = i % 20'000 < 10'000 ? core::Tier::kNvme : core::Tier::kRedis;
    x.codec = i % 7000 < 3000 ? core::Compression::kLz4 : core::Compression::kNone;
    x.latency_ms = 600 + 400 * std::sin(i * 0.01) + (i % 5000 < 300 ? 5000 : 0);
    x.signal = i % 5000 >= 4988 || i % 5000 < 300;
    x.guards = name != "oracle" && i % 997 == 0 ? core::kGuardFloor : 0;
    r->timeline.push_back(arena::TimelineRow{name, 1, x});
  }
}

arena::TournamentResult long_run(int steps) {
  arena::TournamentResult r = run_named("long", steps);
  add_policy(&r, "hpa", 2.2, 35, steps);
  add_policy(&r, "oracle", 1.5, 0, steps);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: report_fixture OUT_DIR\n");
    return 2;
  }
  arena::StagedFiles out(argv[1]);
  // An empty run: no policy ran, nothing recorded.
  core::Status st = out.stage("empty/report.html", arena::tournament_page(run_named("empty", 0)));
  // A policy with no steps: hpa has results but no timeline rows; the oracle has both.
  arena::TournamentResult no_steps = run_named("no-steps", 60);
  add_policy(&no_steps, "oracle", 1.5, 0, 60);
  arena::PolicySummary hpa;
  hpa.policy = "hpa";
  hpa.cost = {2, 0.1, 1};
  hpa.sla_violation_pct = {30, 2, 1};
  no_steps.results.insert(no_steps.results.begin(), hpa);
  if (st.ok()) st = out.stage("no-steps/report.html", arena::tournament_page(no_steps));
  if (st.ok()) st = out.stage("no-cases/report.html", arena::traces_page({}, {}));
  // An ablation's phases (the page does not care which policies they are).
  arena::AblationResult ablation;
  ablation.tournament = run_named("ablation", 100);
  add_policy(&ablation.tournament, "hpa", 2.2, 35, 100);
  add_policy(&ablation.tournament, "ds2", 1.9, 40, 100);
  add_policy(&ablation.tournament, "keda", 3.1, 12, 100);
  const char* adds[] = {"baseline", "+ one thing", "+ another"};
  for (int i = 0; i < 3; ++i) {
    ablation.phases.push_back({i, ablation.tournament.results[static_cast<size_t>(i)].policy,
                               adds[i], &ablation.tournament.results[static_cast<size_t>(i)]});
  }
  if (st.ok()) st = out.stage("ablation/report.html", arena::ablation_page(ablation));
  if (st.ok()) st = out.stage("dense/report.html", arena::tournament_page(long_run(150'000)));
  if (st.ok()) st = out.stage("long/report.html", arena::tournament_page(long_run(300'000)));
  if (st.ok()) st = out.commit();
  if (!st.ok()) {
    std::fprintf(stderr, "report_fixture: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}
