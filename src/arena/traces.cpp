#include "arena/traces.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "policy/registry.h"

namespace prescale::arena {

const std::vector<std::string>& development_trace_paths() {
  static const std::vector<std::string> kPaths = {
      "realKnownCause/nyc_taxi.csv",
      "realAWSCloudwatch/elb_request_count_8c0756.csv",
      "realTweets/Twitter_volume_AAPL.csv",
      "realTweets/Twitter_volume_GOOG.csv",
      "realTraffic/occupancy_6005.csv",
      "realTraffic/TravelTime_387.csv",
      "realKnownCause/cpu_utilization_asg_misconfiguration.csv",
      "realAWSCloudwatch/ec2_network_in_257a54.csv"};
  return kPaths;
}

core::Result<std::vector<TraceVerdict>> evaluate_traces(const sim::Scenario& scenario,
                                                        const std::string& nab_dir,
                                                        const std::string& policy, int seeds) {
  std::vector<TraceVerdict> out;
  for (const auto& rel : development_trace_paths()) {
    sim::Scenario s = scenario;
    s.source = sim::WorkloadSource::kTrace;
    s.trace.file = nab_dir + "/" + rel;
    s.steps = 0;  // the whole trace
    TournamentOptions o;
    o.seeds = seeds;
    for (const auto& info : policy::known_policies()) {
      if (info.name.rfind("rl", 0) == 0 && info.name != policy) continue;
      o.policies.push_back(info.name);
    }
    auto r = run_tournament(s, o);
    if (!r.ok()) return core::Error{rel + ": " + r.error().message};
    TraceVerdict v;
    v.trace = std::filesystem::path(rel).filename().string();
    v.steps = r->steps;
    v.policy = policy;
    bool have_best = false, have_any = false;
    auto improves = [](double sla, double cost, double best_sla, double best_cost) {
      return sla < best_sla || (sla == best_sla && cost < best_cost);
    };
    for (const auto& p : r->results) {
      if (p.policy == policy) {
        v.policy_sla = p.sla_violation_pct.mean;
        v.policy_cost = p.cost.mean;
      } else if (p.policy == "oracle") {
        v.oracle_cost = p.cost.mean;
      } else {
        const double sla = p.sla_violation_pct.mean, cost = p.cost.mean;
        ++v.baselines;
        if (!have_any || improves(sla, cost, v.best_any_sla, v.best_any_cost)) {
          v.best_any = p.policy;
          v.best_any_sla = sla;
          v.best_any_cost = cost;
          have_any = true;
        }
        const bool autoscaler = p.policy != "fixed" && p.policy != "seer";
        if (autoscaler && (!have_best || improves(sla, cost, v.best_sla, v.best_cost))) {
          v.best_baseline = p.policy;
          v.best_sla = sla;
          v.best_cost = cost;
          have_best = true;
        }
      }
    }
    v.beats = v.policy_sla < v.best_sla && v.policy_cost <= v.best_cost;
    v.beats_any = v.policy_sla < v.best_any_sla && v.policy_cost <= v.best_any_cost;
    for (const auto& p : r->results) {
      if (p.policy == policy || p.policy == "oracle") continue;
      const double sla = p.sla_violation_pct.mean, cost = p.cost.mean;
      const bool no_worse = sla <= v.policy_sla && cost <= v.policy_cost;
      const bool better = sla < v.policy_sla || cost < v.policy_cost;
      if (no_worse && better) v.dominated_by.push_back(p.policy);
      if (v.policy_sla <= sla && v.policy_cost <= cost &&
          (v.policy_sla < sla || v.policy_cost < cost)) {
        ++v.dominates;
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

namespace {
std::string t_summary(size_t n, int wins, int wins_any) {
  return "beats the best autoscaler (lower SLA violations at no higher cost) on " +
         std::to_string(wins) + " of " + std::to_string(n) +
         " traces; the best of all rows (incl. fixed, seer) on " + std::to_string(wins_any) +
         " of " + std::to_string(n) + "\n";
}
}  // namespace

std::string format_traces_table(const std::vector<TraceVerdict>& v) {
  std::string out;
  char line[640];
  std::snprintf(line, sizeof line, "%-40s %6s  %-15s  %-24s  %-5s  %-24s  %-5s  %8s  %s\n", "trace",
                "steps", "policy SLA%/$", "best autoscaler SLA%/$", "beats",
                "best of all rows SLA%/$", "beats", "oracle $", "pareto");
  out += line;
  int wins = 0, wins_any = 0;
  auto cell = [](const std::string& name, double sla, double cost) {
    char b[64];
    std::snprintf(b, sizeof b, "%s %.1f%%/%.2f", name.c_str(), sla, cost);
    return std::string(b);
  };
  for (const auto& t : v) {
    std::string by;
    for (const auto& b : t.dominated_by) by += (by.empty() ? "" : ",") + b;
    const std::string pareto = "dominates " + std::to_string(t.dominates) + "/" +
                               std::to_string(t.baselines) +
                               (by.empty() ? ", undominated" : ", dominated by " + by);
    char p[64];
    std::snprintf(p, sizeof p, "%.1f%%/%.2f", t.policy_sla, t.policy_cost);
    std::snprintf(line, sizeof line, "%-40s %6d  %-15s  %-24s  %-5s  %-24s  %-5s  %8.2f  %s\n",
                  t.trace.c_str(), t.steps, p,
                  cell(t.best_baseline, t.best_sla, t.best_cost).c_str(), t.beats ? "yes" : "no",
                  cell(t.best_any, t.best_any_sla, t.best_any_cost).c_str(),
                  t.beats_any ? "yes" : "no", t.oracle_cost, pareto.c_str());
    out += line;
    wins += t.beats ? 1 : 0;
    wins_any += t.beats_any ? 1 : 0;
  }
  out += t_summary(v.size(), wins, wins_any);
  return out;
}

std::string format_traces_json(const std::vector<TraceVerdict>& v) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& t : v) {
    rows.push_back({{"trace", t.trace},
                    {"steps", t.steps},
                    {"policy", t.policy},
                    {"sla_violation_pct", t.policy_sla},
                    {"cost", t.policy_cost},
                    {"best_baseline", t.best_baseline},
                    {"best_baseline_sla_violation_pct", t.best_sla},
                    {"best_baseline_cost", t.best_cost},
                    {"oracle_cost", t.oracle_cost},
                    {"beats", t.beats},
                    {"best_of_all_rows", t.best_any},
                    {"best_of_all_rows_sla_violation_pct", t.best_any_sla},
                    {"best_of_all_rows_cost", t.best_any_cost},
                    {"beats_best_of_all_rows", t.beats_any},
                    {"dominated_by", t.dominated_by},
                    {"dominates", t.dominates},
                    {"baselines", t.baselines}});
  }
  return rows.dump(2) + "\n";
}

}  // namespace prescale::arena
