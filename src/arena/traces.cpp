#include "arena/traces.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "arena/html_report.h"
#include "arena/output_dir.h"

namespace prescale::arena {
namespace {

std::string stem_of(const std::string& path) { return std::filesystem::path(path).stem().string(); }

std::string name_of(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

PolicyFigures figures_of(const PolicySummary& p) {
  return {p.policy, p.sla_violation_pct.mean, p.cost.mean, p.cost_vs_oracle.mean,
          p.p95_latency_ms.mean};
}

// Lower SLA violations, ties to the cheaper.
bool better(const PolicyFigures& a, const PolicyFigures& b) {
  return a.sla < b.sla || (a.sla == b.sla && a.cost < b.cost);
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

std::string default_traces_dir() { return std::string(PRESCALE_SOURCE_DIR) + "/data/traces"; }

const std::vector<std::string>& development_trace_paths() {
  static const std::vector<std::string> kPaths = {
      "nab/realKnownCause/nyc_taxi.csv",
      "nab/realAWSCloudwatch/elb_request_count_8c0756.csv",
      "nab/realTweets/Twitter_volume_AAPL.csv",
      "nab/realTweets/Twitter_volume_GOOG.csv",
      "nab/realTraffic/occupancy_6005.csv",
      "nab/realTraffic/TravelTime_387.csv",
      "nab/realKnownCause/cpu_utilization_asg_misconfiguration.csv",
      "nab/realAWSCloudwatch/ec2_network_in_257a54.csv",
      "azure_llm_2023/conv_requests_per_second.csv"};
  return kPaths;
}

const std::vector<std::string>& development_trace_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    for (const auto& p : development_trace_paths()) out.push_back(name_of(p));
    return out;
  }();
  return kNames;
}

std::string_view to_string(ReplaySpeed speed) {
  return speed == ReplaySpeed::kReal ? "real" : "compressed";
}

std::optional<ReplaySpeed> parse_replay_speed(std::string_view text) {
  if (text == "compressed") return ReplaySpeed::kCompressed;
  if (text == "real") return ReplaySpeed::kReal;
  return std::nullopt;
}

core::Result<std::vector<std::string>> select_traces(const std::vector<std::string>& names) {
  const auto& all = development_trace_paths();
  if (names.empty()) return all;
  for (const auto& n : names) {
    const bool known = std::any_of(all.begin(), all.end(), [&](const std::string& p) {
      return n == p || n == name_of(p) || n == stem_of(p);
    });
    if (!known) {
      std::string list;
      for (const auto& p : all) list += (list.empty() ? "" : ", ") + stem_of(p);
      return core::Error{"unknown development trace '" + n + "'; expected one of: " + list};
    }
  }
  std::vector<std::string> out;
  for (const auto& p : all) {
    if (contains(names, p) || contains(names, name_of(p)) || contains(names, stem_of(p))) {
      out.push_back(p);
    }
  }
  return out;
}

core::Result<TraceCase> judge_case(const TournamentResult& result, const TracesOptions& options) {
  TraceCase c;
  c.steps = result.steps;
  c.seeds = result.seeds;
  bool have_hpa = false, have_best = false, have_judged = false;
  for (const auto& p : result.results) {
    const PolicyFigures f = figures_of(p);
    c.rows.push_back(f);
    if (p.policy == "oracle") c.oracle_cost = f.cost;
    if (p.policy == options.policy) {
      c.judged = f;
      have_judged = true;
    }
    if (p.policy == "hpa") {
      c.hpa = f;
      have_hpa = true;
    }
    if (contains(options.baselines, p.policy) && (!have_best || better(f, c.best))) {
      c.best = f;
      have_best = true;
    }
  }
  if (!have_hpa) return core::Error{"the tournament has no hpa row to judge against"};
  if (!have_judged) return core::Error{"the tournament has no row for " + options.policy};
  for (const auto& name : options.compare) {
    auto it = std::find_if(c.rows.begin(), c.rows.end(),
                           [&](const PolicyFigures& f) { return f.policy == name; });
    if (it == c.rows.end()) return core::Error{"the tournament has no row for " + name};
    c.compare.push_back(*it);
  }
  c.sla_gap = c.judged.sla - c.hpa.sla;
  c.dominates = c.sla_gap <= kSlaTolerancePoints && c.judged.cost <= c.hpa.cost;
  return c;
}

core::Result<std::vector<TraceCase>> evaluate_traces(const sim::Scenario& scenario,
                                                     const TracesOptions& options) {
  auto paths = select_traces(options.traces);
  if (!paths.ok()) return paths.error();
  if (!contains(options.baselines, "hpa")) {
    return core::Error{"the baselines must include hpa (the verdict is against it)"};
  }
  if (options.speeds.empty()) return core::Error{"no replay speed selected"};
  TournamentOptions t;
  t.seeds = options.seeds;
  t.timeline = options.timeline;
  t.edge = options.edge;
  for (const auto& group : {options.baselines, std::vector<std::string>{options.policy},
                            options.compare, std::vector<std::string>{"oracle"}}) {
    for (const auto& name : group) {
      if (!contains(t.policies, name)) t.policies.push_back(name);
    }
  }
  std::vector<TraceCase> out;
  for (const auto& rel : *paths) {
    for (const ReplaySpeed speed : options.speeds) {
      const auto start = std::chrono::steady_clock::now();
      sim::Scenario s = scenario;
      s.source = sim::WorkloadSource::kTrace;
      s.trace.file = (std::filesystem::path(options.dir) / rel).string();
      if (speed == ReplaySpeed::kReal) {
        s.trace.speedup = 1;
        s.trace.bucket_s = 0;
        s.steps = options.real_window_steps;  // a seeded window; the whole trace if shorter
      } else {
        s.trace.speedup = 0;  // one sample per step (or the scenario's bucket_s), as before
        s.steps = 0;          // the whole trace
      }
      if (auto st = sim::validate(s); !st.ok()) return st.error();
      auto r = run_tournament(s, t);
      const std::string where = rel + " (" + std::string(to_string(speed)) + "): ";
      if (!r.ok()) return core::Error{where + r.error().message};
      auto c = judge_case(*r, options);
      if (!c.ok()) return core::Error{where + c.error().message};
      c->trace = stem_of(rel);
      c->file = rel;
      c->speed = speed;
      c->speedup = s.trace.speedup;
      c->wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (options.on_tournament) {
        if (auto st = options.on_tournament(*c, *r); !st.ok()) return st.error();
      }
      if (options.on_case) options.on_case(*c);
      out.push_back(std::move(*c));
    }
  }
  return out;
}

std::string verdict_of(const TraceCase& c) {
  if (c.dominates) return "dominates";
  const bool sla = c.sla_gap > kSlaTolerancePoints, cost = c.judged.cost > c.hpa.cost;
  return std::string("no: ") + (sla && cost ? "SLA, cost" : sla ? "SLA" : "cost");
}

std::string case_page_name(const TraceCase& c) {
  return "timelines/" + c.trace + "-" + std::string(to_string(c.speed)) + ".html";
}

core::Result<std::vector<TraceCase>> evaluate_traces_into(const std::string& dir,
                                                          const sim::Scenario& scenario,
                                                          TracesOptions options) {
  StagedFiles out(dir);
  options.timeline = true;
  auto chained = options.on_tournament;
  options.on_tournament = [&](const TraceCase& c, const TournamentResult& r) -> core::Status {
    if (chained) {
      if (auto st = chained(c, r); !st.ok()) return st;
    }
    return out.stage(case_page_name(c), trace_case_page(c, r, "../report.html"));
  };
  auto cases = evaluate_traces(scenario, options);
  if (!cases.ok()) return cases.error();
  std::vector<std::string> links;
  for (const auto& c : *cases) links.push_back(case_page_name(c));
  if (auto st = out.stage("traces.csv", format_traces_csv(*cases)); !st.ok()) return st.error();
  if (auto st = out.stage("report.html", traces_page(*cases, links)); !st.ok()) return st.error();
  if (auto st = out.commit(); !st.ok()) return st.error();
  return cases;
}

std::string format_traces_csv(const std::vector<TraceCase>& cases) {
  std::string out =
      "trace,speed,speedup,steps,seeds,policy,sla_violation_pct,cost,cost_vs_oracle,"
      "p95_latency_ms\n";
  char line[512];
  for (const auto& c : cases) {
    for (const auto& p : c.rows) {
      std::snprintf(line, sizeof line, "%s,%s,%.10g,%d,%d,%s,%.10g,%.10g,%.10g,%.10g\n",
                    c.trace.c_str(), std::string(to_string(c.speed)).c_str(), c.speedup, c.steps,
                    c.seeds, p.policy.c_str(), p.sla, p.cost, p.cost_vs_oracle, p.p95_latency_ms);
      out += line;
    }
  }
  return out;
}

std::string traces_summary(const std::vector<TraceCase>& cases) {
  if (cases.empty()) return "no cases\n";
  int wins = 0;
  const TraceCase* worst = &cases.front();
  for (const auto& c : cases) {
    wins += c.dominates ? 1 : 0;
    if (c.sla_gap > worst->sla_gap) worst = &c;
  }
  char line[512];
  std::snprintf(
      line, sizeof line,
      "%s dominates hpa in %d of %zu cases; worst SLA gap vs hpa: %+.1f points (%s, %s)\n",
      worst->judged.policy.c_str(), wins, cases.size(), worst->sla_gap, worst->trace.c_str(),
      std::string(to_string(worst->speed)).c_str());
  return line;
}

std::string format_traces_table(const std::vector<TraceCase>& cases) {
  if (cases.empty()) return traces_summary(cases);
  auto cell = [](double sla, double cost) {
    char b[64];
    std::snprintf(b, sizeof b, "%.1f%%/%.2f", sla, cost);
    return std::string(b);
  };
  const TraceCase& first = cases.front();
  std::string out;
  char line[1024];
  std::snprintf(line, sizeof line, "%-36s %-10s %6s  %-16s  %-28s  %-16s", "trace", "speed",
                "steps", "hpa SLA%/$", "best autoscaler SLA%/$",
                (first.judged.policy + " SLA%/$").c_str());
  out += line;
  for (const auto& p : first.compare) {
    std::snprintf(line, sizeof line, "  %-16s", (p.policy + " SLA%/$").c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "  %9s  %-14s  %s\n", "oracle $", "vs hpa", "SLA gap");
  out += line;
  for (const auto& c : cases) {
    const std::string verdict = verdict_of(c);
    std::snprintf(line, sizeof line, "%-36s %-10s %6d  %-16s  %-28s  %-16s", c.trace.c_str(),
                  std::string(to_string(c.speed)).c_str(), c.steps,
                  cell(c.hpa.sla, c.hpa.cost).c_str(),
                  (c.best.policy + " " + cell(c.best.sla, c.best.cost)).c_str(),
                  cell(c.judged.sla, c.judged.cost).c_str());
    out += line;
    for (const auto& p : c.compare) {
      std::snprintf(line, sizeof line, "  %-16s", cell(p.sla, p.cost).c_str());
      out += line;
    }
    std::snprintf(line, sizeof line, "  %9.2f  %-14s  %+.1f\n", c.oracle_cost, verdict.c_str(),
                  c.sla_gap);
    out += line;
  }
  out += traces_summary(cases);
  return out;
}

std::string format_traces_json(const std::vector<TraceCase>& cases) {
  using nlohmann::json;
  auto fig = [](const PolicyFigures& f) {
    return json{{"policy", f.policy},
                {"sla_violation_pct", f.sla},
                {"cost", f.cost},
                {"cost_vs_oracle", f.cost_vs_oracle},
                {"p95_latency_ms", f.p95_latency_ms}};
  };
  json rows = json::array();
  int wins = 0;
  const TraceCase* worst = nullptr;
  for (const auto& c : cases) {
    json compare = json::array(), all = json::array();
    for (const auto& p : c.compare) compare.push_back(fig(p));
    for (const auto& p : c.rows) all.push_back(fig(p));
    rows.push_back({{"trace", c.trace},
                    {"file", c.file},
                    {"speed", std::string(to_string(c.speed))},
                    {"speedup", c.speedup},
                    {"steps", c.steps},
                    {"seeds", c.seeds},
                    {"hpa", fig(c.hpa)},
                    {"best_autoscaler", fig(c.best)},
                    {"policy", fig(c.judged)},
                    {"compare", compare},
                    {"oracle_cost", c.oracle_cost},
                    {"dominates_hpa", c.dominates},
                    {"sla_gap_vs_hpa_points", c.sla_gap},
                    {"wall_s", c.wall_s},
                    {"rows", all}});
    wins += c.dominates ? 1 : 0;
    if (worst == nullptr || c.sla_gap > worst->sla_gap) worst = &c;
  }
  json summary = {{"cases", cases.size()},
                  {"dominates_hpa", wins},
                  {"sla_tolerance_points", kSlaTolerancePoints}};
  if (worst != nullptr) {
    summary["policy"] = worst->judged.policy;
    summary["worst_sla_gap_points"] = worst->sla_gap;
    summary["worst_trace"] = worst->trace;
    summary["worst_speed"] = std::string(to_string(worst->speed));
  }
  return json{{"cases", rows}, {"summary", summary}}.dump(2) + "\n";
}

}  // namespace prescale::arena
