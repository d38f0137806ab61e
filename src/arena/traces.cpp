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
    bool have_best = false;
    for (const auto& p : r->results) {
      if (p.policy == policy) {
        v.policy_sla = p.sla_violation_pct.mean;
        v.policy_cost = p.cost.mean;
      } else if (p.policy == "oracle") {
        v.oracle_cost = p.cost.mean;
      } else {
        const double sla = p.sla_violation_pct.mean, cost = p.cost.mean;
        ++v.baselines;
        if (!have_best || sla < v.best_sla || (sla == v.best_sla && cost < v.best_cost)) {
          v.best_baseline = p.policy;
          v.best_sla = sla;
          v.best_cost = cost;
          have_best = true;
        }
      }
    }
    v.beats = v.policy_sla < v.best_sla && v.policy_cost <= v.best_cost;
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

std::string format_traces_table(const std::vector<TraceVerdict>& v) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-42s %6s  %-16s %8s  %-12s %8s  %8s  %-5s  %s\n", "trace",
                "steps", "policy SLA% / $", "", "best baseline", "SLA% / $", "oracle $", "beats",
                "pareto");
  out += line;
  int wins = 0;
  for (const auto& t : v) {
    std::string by;
    for (const auto& b : t.dominated_by) by += (by.empty() ? "" : ",") + b;
    const std::string pareto = "dominates " + std::to_string(t.dominates) + "/" +
                               std::to_string(t.baselines) +
                               (by.empty() ? ", undominated" : ", dominated by " + by);
    std::snprintf(line, sizeof line,
                  "%-42s %6d  %-5s %6.1f%% %8.3f  %-12s %6.1f%% %8.3f  %8.3f  %-5s  %s\n",
                  t.trace.c_str(), t.steps, t.policy.c_str(), t.policy_sla, t.policy_cost,
                  t.best_baseline.c_str(), t.best_sla, t.best_cost, t.oracle_cost,
                  t.beats ? "yes" : "no", pareto.c_str());
    out += line;
    wins += t.beats ? 1 : 0;
  }
  out += "beats the best baseline (lower SLA violations at no higher cost) on " +
         std::to_string(wins) + " of " + std::to_string(v.size()) + " traces\n";
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
                    {"dominated_by", t.dominated_by},
                    {"dominates", t.dominates},
                    {"baselines", t.baselines}});
  }
  return rows.dump(2) + "\n";
}

}  // namespace prescale::arena
