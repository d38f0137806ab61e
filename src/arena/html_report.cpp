#include "arena/html_report.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arena/report_assets.h"
#include "core/html.h"

namespace prescale::arena {
namespace {

using nlohmann::json;

// About four significant digits, as the shortest decimal: the timeline is drawn, not
// recomputed, and this keeps a 100,000-step series to a few hundred kB.
json compact(double v) {
  if (!std::isfinite(v)) return nullptr;
  const double a = std::fabs(v);
  const int decimals = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : a >= 1 ? 3 : 4;
  static constexpr double kPow10[] = {1, 10, 100, 1000, 10000};
  const double r = std::round(v * kPow10[decimals]) / kPow10[decimals];
  if (r == std::floor(r) && std::fabs(r) < 9e15) return static_cast<std::int64_t>(r);
  return r;
}

json dense(const std::vector<double>& v) {
  json out = json::array();
  for (double x : v) out.push_back(compact(x));
  return out;
}

// Run-length pairs [value, count, value, count, ...]: executor counts, tiers, codecs and
// guard bits change rarely.
json runs(const std::vector<int>& v) {
  json out = json::array();
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j] == v[i]) ++j;
    out.push_back(v[i]);
    out.push_back(j - i);
    i = j;
  }
  return out;
}

json stat(const Stat& s) { return {{"mean", s.mean}, {"ci95", s.ci95}, {"n", s.n}}; }

json results_of(const TournamentResult& r) {
  json out = json::array();
  for (const auto& s : r.results) {
    out.push_back({{"policy", s.policy},
                   {"runs", s.runs.size()},
                   {"cost", stat(s.cost)},
                   {"cost_vs_oracle", stat(s.cost_vs_oracle)},
                   {"p95_latency_ms", stat(s.p95_latency_ms)},
                   {"sla_violation_pct", stat(s.sla_violation_pct)},
                   {"violation_minutes", stat(s.violation_minutes)},
                   {"stability", stat(s.stability)},
                   {"mean_executors", stat(s.mean_executors)},
                   {"rescales", stat(s.rescales)},
                   {"reversals", stat(s.reversals)},
                   {"switches", stat(s.switches)},
                   {"guard_overrides", stat(s.guard_overrides)},
                   {"guard_floor", stat(s.guard_floor)},
                   {"guard_stabilise", stat(s.guard_stabilise)},
                   {"guard_dwell", stat(s.guard_dwell)},
                   {"guard_shuffle", stat(s.guard_shuffle)},
                   {"throughput_mb_s", stat(s.throughput_mb_s)},
                   {"cpu_util_pct", stat(s.cpu_util_pct)}});
  }
  return out;
}

json timeline_of(const TournamentResult& r, int max_points) {
  const TimelineColumns c = timeline_columns(r, max_points);
  json t = {{"seed", c.seed},
            {"steps", c.steps},
            {"step_s", r.step_s},
            {"points", c.t_s.size()},
            {"bucket_steps", c.bucket_steps},
            {"max_points", max_points},
            {"load", dense(c.load_rps)},
            {"signal", runs(c.signal)}};
  // Undecimated points are one per step: the page computes x = i * step_s.
  if (c.bucket_steps > 1) t["x"] = dense(c.t_s);
  json policies = json::array();
  for (const auto& p : c.policies) {
    policies.push_back({{"policy", p.policy},
                        {"steps", p.steps},
                        {"points", p.latency_ms.size()},
                        {"processed", dense(p.processed_rps)},
                        {"latency", dense(p.latency_ms)},
                        {"active", runs(p.active)},
                        {"pending", runs(p.pending)},
                        {"target", runs(p.target)},
                        {"tier", runs(p.tier)},
                        {"codec", runs(p.codec)},
                        {"guards", runs(p.guards)},
                        {"hold", dense(p.hold_s)}});
  }
  t["policies"] = std::move(policies);
  return t;
}

json run_of(const TournamentResult& r) {
  return {{"scenario", r.scenario},
          {"workload", r.workload},
          {"seeds", r.seeds},
          {"steps", r.steps},
          {"step_s", r.step_s},
          {"sla_ms", r.sla_ms},
          {"base_seed", r.base_seed},
          {"oracle_exact", r.oracle_exact},
          {"oracle_lower_bound_cost", r.oracle_lower_bound_cost.mean}};
}

// The names the page shows for enum values and guard bits.
json labels() {
  json tiers = json::array(), codecs = json::array();
  for (int i = 0; i < core::kNumTiers; ++i) {
    tiers.push_back(std::string(core::to_string(static_cast<core::Tier>(i))));
  }
  for (int i = 0; i < core::kNumCompressions; ++i) {
    codecs.push_back(std::string(core::to_string(static_cast<core::Compression>(i))));
  }
  return {{"tiers", tiers},
          {"codecs", codecs},
          {"guards", json::array({json::array({core::kGuardFloor, "floor"}),
                                  json::array({core::kGuardStabilise, "stabilise"}),
                                  json::array({core::kGuardDwell, "dwell"}),
                                  json::array({core::kGuardShuffle, "shuffle"})})}};
}

json tournament_data(const char* kind, const TournamentResult& r, int max_points) {
  return {{"kind", kind},
          {"run", run_of(r)},
          {"labels", labels()},
          {"results", results_of(r)},
          {"timeline", timeline_of(r, max_points)}};
}

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string file_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::string plural(long long n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string tournament_subtitle(const TournamentResult& r) {
  return plural(r.seeds, "seed") + " x " + plural(r.steps, "step") + " of " + fmt(r.step_s) +
         " s, SLA " + fmt(r.sla_ms) + " ms, workload " +
         (r.workload == "synthetic" ? r.workload : file_name(r.workload)) + "; first seed's " +
         "timeline; mean and 95% interval over seeds";
}

using core::comment_safe;
using core::escape_html;
using core::script_safe;

std::string page(const std::string& title, const std::string& subtitle, const json& data) {
  const std::string data_text =
      script_safe(data.dump(-1, ' ', false, json::error_handler_t::replace));
  std::string out;
  out.reserve(data_text.size() + assets::uplot_js().size() + assets::report_js().size() + 8192);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing may load from anywhere: the page is complete as written.
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n";
  out += "<title>" + escape_html(title) + "</title>\n";
  out += "<!--\nWritten by prescale (docs/report.md). Charts: uPlot ";
  out += assets::uplot_version();
  out += " (https://github.com/leeoniya/uPlot), inlined below under its licence:\n\n";
  out += comment_safe(assets::uplot_license());
  out += "-->\n<style>\n";
  out += assets::uplot_css();
  out += "\n</style>\n<style>\n";
  out += assets::report_css();
  out += "\n</style>\n</head>\n<body>\n<header><h1>" + escape_html(title) +
         "</h1>\n<p class=\"sub\">" + escape_html(subtitle) + "</p></header>\n";
  out +=
      "<main id=\"app\"><noscript><p class=\"notice\">This report draws its tables and charts "
      "with JavaScript, which is off. The same figures are in the CSV files beside this "
      "page.</p></noscript></main>\n";
  out += "<script type=\"application/json\" id=\"report-data\">" + data_text + "</script>\n";
  out += "<script>\n";
  out += assets::uplot_js();
  out += "\n</script>\n<script>\n";
  out += assets::report_js();
  out += "\n</script>\n</body>\n</html>\n";
  return out;
}

json figures(const PolicyFigures& f) {
  return {{"policy", f.policy},
          {"sla_violation_pct", f.sla},
          {"cost", f.cost},
          {"cost_vs_oracle", f.cost_vs_oracle},
          {"p95_latency_ms", f.p95_latency_ms}};
}

json case_of(const TraceCase& c) {
  json compare = json::array();
  for (const auto& p : c.compare) compare.push_back(figures(p));
  return {{"trace", c.trace},
          {"file", c.file},
          {"speed", std::string(to_string(c.speed))},
          {"speedup", c.speedup},
          {"steps", c.steps},
          {"seeds", c.seeds},
          {"hpa", figures(c.hpa)},
          {"best", figures(c.best)},
          {"judged", figures(c.judged)},
          {"compare", compare},
          {"oracle_cost", c.oracle_cost},
          {"dominates", c.dominates},
          {"sla_gap", c.sla_gap},
          {"verdict", verdict_of(c)}};
}

}  // namespace

std::string tournament_page(const TournamentResult& r, int max_points) {
  return page("prescale tournament: " + r.scenario, tournament_subtitle(r),
              tournament_data("tournament", r, max_points));
}

std::string ablation_page(const AblationResult& r, int max_points) {
  json data = tournament_data("ablation", r.tournament, max_points);
  json phases = json::array();
  for (const auto& p : r.phases) {
    phases.push_back({{"phase", p.phase}, {"policy", p.policy}, {"adds", p.adds}});
  }
  data["phases"] = std::move(phases);
  return page("prescale ablation: " + r.tournament.scenario, tournament_subtitle(r.tournament),
              data);
}

std::string trace_case_page(const TraceCase& c, const TournamentResult& r, const std::string& back,
                            int max_points) {
  json data = tournament_data("case", r, max_points);
  data["case"] = case_of(c);
  data["back"] = back;
  const std::string title =
      "prescale traces: " + c.trace + " (" + std::string(to_string(c.speed)) + ")";
  return page(title, tournament_subtitle(r), data);
}

std::string traces_page(const std::vector<TraceCase>& cases,
                        const std::vector<std::string>& links) {
  json rows = json::array();
  for (size_t i = 0; i < cases.size(); ++i) {
    json row = case_of(cases[i]);
    row["link"] = i < links.size() ? links[i] : "";
    rows.push_back(std::move(row));
  }
  json data = {{"kind", "traces"},
               {"cases", rows},
               {"summary", traces_summary(cases)},
               {"sla_tolerance_points", kSlaTolerancePoints}};
  const std::string subtitle =
      cases.empty() ? std::string("no cases")
                    : plural(static_cast<long long>(cases.size()), "case") +
                          " (trace x replay speed), " + plural(cases.front().seeds, "seed") +
                          " each; each case links to its first seed's timeline";
  return page("prescale traces: " + (cases.empty() ? std::string("no cases")
                                                   : cases.front().judged.policy + " vs hpa"),
              subtitle, data);
}

}  // namespace prescale::arena
