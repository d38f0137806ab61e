#include "arena/report.h"

#include <cstdio>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arena/html_report.h"
#include "arena/output_dir.h"

namespace prescale::arena {
namespace {

std::string fmt(double v, int precision) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

std::string with_ci(const Stat& s, int precision) {
  return fmt(s.mean, precision) + " ±" + fmt(s.ci95, precision);
}

// A reason is free text: quoted when it holds a comma or a quote (RFC 4180).
std::string csv_field(const char* text) {
  const std::string s = text != nullptr ? text : "";
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

struct Column {
  const char* header;
  std::string (*cell)(const PolicySummary&);
};

const Column kColumns[] = {
    {"policy", [](const PolicySummary& s) { return s.policy; }},
    {"cost $", [](const PolicySummary& s) { return with_ci(s.cost, 3); }},
    {"x oracle", [](const PolicySummary& s) { return fmt(s.cost_vs_oracle.mean, 2); }},
    {"p95 ms", [](const PolicySummary& s) { return fmt(s.p95_latency_ms.mean, 0); }},
    {"SLA viol %", [](const PolicySummary& s) { return with_ci(s.sla_violation_pct, 1); }},
    {"viol-min", [](const PolicySummary& s) { return fmt(s.violation_minutes.mean, 1); }},
    {"stability", [](const PolicySummary& s) { return fmt(s.stability.mean, 2); }},
    {"mean exec", [](const PolicySummary& s) { return fmt(s.mean_executors.mean, 1); }},
    {"rescales", [](const PolicySummary& s) { return fmt(s.rescales.mean, 1); }},
    {"reversals", [](const PolicySummary& s) { return fmt(s.reversals.mean, 1); }},
    {"switches", [](const PolicySummary& s) { return fmt(s.switches.mean, 1); }},
    {"overrides", [](const PolicySummary& s) { return fmt(s.guard_overrides.mean, 0); }},
    {"MB/s", [](const PolicySummary& s) { return fmt(s.throughput_mb_s.mean, 0); }},
    {"CPU %", [](const PolicySummary& s) { return fmt(s.cpu_util_pct.mean, 1); }},
};

// Display width in code points (the table has a few non-ASCII characters).
size_t width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80 ? 1 : 0;
  return w;
}

void pad(std::ostringstream& out, const std::string& s, size_t w, bool left) {
  const size_t fill = w > width(s) ? w - width(s) : 0;
  if (!left) out << std::string(fill, ' ');
  out << s;
  if (left) out << std::string(fill, ' ');
}

const char* kCsvHeader =
    "policy,seeds,cost,cost_ci95,cost_vs_oracle,cost_vs_oracle_ci95,p95_latency_ms,"
    "p95_latency_ms_ci95,sla_violation_pct,sla_violation_pct_ci95,violation_minutes,"
    "stability,mean_executors,rescales,reversals,throughput_mb_s,cpu_util_pct,"
    "executor_seconds,lag_integral,switches,guard_overrides,guard_floor,guard_stabilise,"
    "guard_dwell,guard_shuffle,regrets\n";

}  // namespace

std::string format_table(const TournamentResult& r) {
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths;
  for (const auto& c : kColumns) widths.push_back(width(c.header));
  for (const auto& s : r.results) {
    std::vector<std::string> row;
    for (size_t i = 0; i < std::size(kColumns); ++i) {
      row.push_back(kColumns[i].cell(s));
      widths[i] = std::max(widths[i], width(row.back()));
    }
    cells.push_back(std::move(row));
  }
  std::ostringstream out;
  out << "scenario " << r.scenario << " (" << r.workload << "): " << r.seeds << " seeds x "
      << r.steps << " steps of " << r.step_s << " s; mean ±95% CI over seeds\n";
  for (size_t i = 0; i < std::size(kColumns); ++i) {
    if (i) out << "  ";
    pad(out, kColumns[i].header, widths[i], i == 0);
  }
  out << "\n";
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) out << "  ";
      pad(out, row[i], widths[i], i == 0);
    }
    out << "\n";
  }
  if (r.oracle_lower_bound_cost.n > 0 && r.oracle_exact) {
    out << "oracle: a proven lower bound on its cost is $" << fmt(r.oracle_lower_bound_cost.mean, 4)
        << " (mean over seeds)\n";
  }
  if (!r.oracle_exact) {
    out << "note: an oracle Pareto front was truncated; its plan is feasible but may not be "
           "the cheapest\n";
  }
  return out.str();
}

std::string format_json(const TournamentResult& r) {
  nlohmann::json j;
  j["scenario"] = r.scenario;
  j["workload"] = r.workload;
  j["seeds"] = r.seeds;
  j["steps"] = r.steps;
  j["step_s"] = r.step_s;
  j["base_seed"] = r.base_seed;
  j["oracle_exact"] = r.oracle_exact;
  j["oracle_lower_bound_cost"] = r.oracle_lower_bound_cost.mean;
  nlohmann::json results = nlohmann::json::array();
  for (const auto& s : r.results) {
    results.push_back({
        {"policy", s.policy},
        {"cost", s.cost.mean},
        {"cost_vs_oracle", s.cost_vs_oracle.mean},
        {"p95_latency_ms", s.p95_latency_ms.mean},
        {"sla_violation_pct", s.sla_violation_pct.mean},
        {"violation_minutes", s.violation_minutes.mean},
        {"stability", s.stability.mean},
        {"mean_executors", s.mean_executors.mean},
        {"rescales", s.rescales.mean},
        {"reversals", s.reversals.mean},
        {"throughput_mb_s", s.throughput_mb_s.mean},
        {"peak_throughput_mb_s", s.peak_throughput_mb_s.mean},
        {"cpu_util_pct", s.cpu_util_pct.mean},
        {"executor_seconds", s.executor_seconds.mean},
        {"lag_integral", s.lag_integral.mean},
        {"switches", s.switches.mean},
        {"guard_overrides",
         {{"total", s.guard_overrides.mean},
          {"floor", s.guard_floor.mean},
          {"stabilise", s.guard_stabilise.mean},
          {"dwell", s.guard_dwell.mean},
          {"shuffle", s.guard_shuffle.mean}}},
        {"regrets", s.regrets.mean},
        {"ci95",
         {{"cost", s.cost.ci95},
          {"cost_vs_oracle", s.cost_vs_oracle.ci95},
          {"p95_latency_ms", s.p95_latency_ms.ci95},
          {"sla_violation_pct", s.sla_violation_pct.ci95},
          {"violation_minutes", s.violation_minutes.ci95},
          {"stability", s.stability.ci95},
          {"mean_executors", s.mean_executors.ci95},
          {"throughput_mb_s", s.throughput_mb_s.ci95},
          {"cpu_util_pct", s.cpu_util_pct.ci95}}},
    });
  }
  j["results"] = std::move(results);
  return j.dump(2) + "\n";
}

std::string format_csv(const TournamentResult& r) {
  std::ostringstream out;
  out << kCsvHeader;
  out << std::setprecision(10);
  for (const auto& s : r.results) {
    out << s.policy << ',' << r.seeds << ',' << s.cost.mean << ',' << s.cost.ci95 << ','
        << s.cost_vs_oracle.mean << ',' << s.cost_vs_oracle.ci95 << ',' << s.p95_latency_ms.mean
        << ',' << s.p95_latency_ms.ci95 << ',' << s.sla_violation_pct.mean << ','
        << s.sla_violation_pct.ci95 << ',' << s.violation_minutes.mean << ',' << s.stability.mean
        << ',' << s.mean_executors.mean << ',' << s.rescales.mean << ',' << s.reversals.mean << ','
        << s.throughput_mb_s.mean << ',' << s.cpu_util_pct.mean << ',' << s.executor_seconds.mean
        << ',' << s.lag_integral.mean << ',' << s.switches.mean << ',' << s.guard_overrides.mean
        << ',' << s.guard_floor.mean << ',' << s.guard_stabilise.mean << ',' << s.guard_dwell.mean
        << ',' << s.guard_shuffle.mean << ',' << s.regrets.mean << '\n';
  }
  return out.str();
}

std::string format_timeline_csv(const TournamentResult& r) {
  std::ostringstream out;
  out << "policy,seed,step,t_s,load_rps,processed_rps,backlog,active,pending,target,tier,"
         "compression,latency_ms,cpu_util,cost,violation,signal,guards,reason,hold_s\n";
  out << std::setprecision(10);
  for (const auto& row : r.timeline) {
    const auto& x = row.record;
    out << row.policy << ',' << row.seed << ',' << x.step << ',' << x.step * r.step_s << ','
        << x.load_rps << ',' << x.processed_rps << ',' << x.backlog << ',' << x.active << ','
        << x.pending << ',' << x.target << ',' << core::to_string(x.tier) << ','
        << core::to_string(x.codec) << ',' << x.latency_ms << ',' << x.cpu_util << ',' << x.cost
        << ',' << (x.violation ? 1 : 0) << ',' << (x.signal ? 1 : 0) << ','
        << static_cast<int>(x.guards) << ',' << csv_field(x.reason) << ',' << x.hold_s << '\n';
  }
  return out.str();
}

core::Status write_outputs(const std::string& dir, const TournamentResult& r) {
  StagedFiles out(dir);
  for (const auto& [name, content] :
       {std::pair<const char*, std::string>{"results.csv", format_csv(r)},
        {"timeline.csv", format_timeline_csv(r)},
        {"report.html", tournament_page(r)}}) {
    if (auto st = out.stage(name, content); !st.ok()) return st;
  }
  return out.commit();
}

}  // namespace prescale::arena
