#include "control/dashboard.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "control/web_assets.h"
#include "control/web_page.h"

namespace prescale::control {
namespace {

using nlohmann::json;

// Finite numbers only (JSON has no NaN); rounded to what a chart shows.
json num(double v) {
  if (!std::isfinite(v)) return nullptr;
  return std::round(v * 1000.0) / 1000.0;
}

json counters_json(const ControllerStats& s) {
  json signals = json::object();
  for (int v = 0; v < bus::kNumVerdicts; ++v)
    signals[bus::to_string(static_cast<bus::Verdict>(v))] = s.signals[v];
  signals["malformed"] = s.signals_malformed;
  return {{"ticks", s.ticks},
          {"decisions", s.decisions},
          {"holds", s.holds_stale},
          {"commands", s.commands},
          {"progress_accepted", s.progress_accepted},
          {"progress_rejected", s.progress_rejected},
          {"signals", signals}};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == ':')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

}  // namespace

TickView tick_view(const Controller& c, const bus::ScaleTo& cmd, std::int64_t now_ms) {
  const core::Observation& o = c.last_observation();
  const ControllerConfig& cfg = c.config();
  TickView v;
  v.t_ms = now_ms;
  v.seq = cmd.seq;
  v.metrics_fresh = o.metrics_available;
  v.input_rps = o.input_rps;
  v.processed_rps = o.processed_rps;
  v.forecast_rps = o.forecast_rps;
  v.burst = o.burst_signal;
  v.target = cmd.target_executors;
  v.active = o.active_executors;
  v.pending = std::max(0, cmd.target_executors - o.active_executors);
  v.latency_ms = o.latency_ms;
  v.batch_ms = o.batch_duration_ms;
  v.busy = o.busy_fraction;
  v.sla_ms = o.sla_ms;
  v.tier = std::string(core::to_string(cmd.shuffle_tier));
  v.reason = cmd.reason;
  // A hold ignores the policy's decision, and with it its guards.
  v.guards = o.metrics_available ? c.last_decision().guards : 0;
  for (const auto& [device, entry] : c.gateway_signals()) {
    const auto& [s, at] = entry;
    GatewayView g;
    g.device = device;
    g.forecast_rps = s.forecast;
    g.baseline_rps = s.baseline;
    g.horizon_s = s.horizon_s;
    g.confidence = s.confidence;
    g.burst = s.burst;
    g.fresh = now_ms - at <= cfg.signal_stale_ms;
    g.age_s = static_cast<double>(std::max<std::int64_t>(0, now_ms - at)) / 1000.0;
    v.gateways.push_back(std::move(g));
  }
  v.counters = c.stats();
  return v;
}

std::string to_json(const TickView& v) {
  json gateways = json::array();
  for (const auto& g : v.gateways) {
    gateways.push_back({{"device", g.device},
                        {"forecast_rps", num(g.forecast_rps)},
                        {"baseline_rps", num(g.baseline_rps)},
                        {"horizon_s", num(g.horizon_s)},
                        {"confidence", num(g.confidence)},
                        {"burst", g.burst},
                        {"fresh", g.fresh},
                        {"age_s", num(g.age_s)}});
  }
  const ReasonParts parts = split_reason(v.reason, v.guards);
  json j = {{"t_ms", v.t_ms},
            {"seq", v.seq},
            {"metrics_fresh", v.metrics_fresh},
            {"input_rps", num(v.input_rps)},
            {"processed_rps", num(v.processed_rps)},
            {"forecast_rps", num(v.forecast_rps)},
            {"burst", v.burst},
            {"target", v.target},
            {"active", v.active},
            {"pending", v.pending},
            {"latency_ms", num(v.latency_ms)},
            {"batch_ms", num(v.batch_ms)},
            {"busy", num(v.busy)},
            {"sla_ms", num(v.sla_ms)},
            {"tier", v.tier},
            {"reason", v.reason},
            {"policy_reason", parts.policy},
            {"envelope", parts.envelope},
            {"controller", parts.controller},
            {"gateways", gateways},
            {"counters", counters_json(v.counters)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

ReasonParts split_reason(std::string_view reason, std::uint8_t guards) {
  ReasonParts p;
  if (reason.rfind("hold:", 0) == 0) {
    p.controller = std::string(reason);
    return p;
  }
  constexpr std::string_view kStabilised = " (scale-down stabilised at ";
  if (const size_t at = reason.find(kStabilised); at != std::string_view::npos) {
    std::string_view note = reason.substr(at + 2);  // "scale-down stabilised at N)"
    if (!note.empty() && note.back() == ')') note.remove_suffix(1);
    p.controller = std::string(note);
    reason = reason.substr(0, at);
  }
  constexpr std::string_view kGuard = "guard: ";
  if (const size_t at = reason.find(kGuard); at != std::string_view::npos) {
    p.envelope = std::string(trim(reason.substr(at + kGuard.size())));
    reason = reason.substr(0, at);
  }
  // The guard bits name every guard that applied, the reason only the first.
  if (guards != 0) {
    std::string all;
    const std::pair<std::uint8_t, const char*> names[] = {{core::kGuardFloor, "floor"},
                                                          {core::kGuardStabilise, "stabilise"},
                                                          {core::kGuardDwell, "dwell"}};
    for (const auto& [bit, name] : names)
      if (guards & bit) all += (all.empty() ? "" : ", ") + std::string(name);
    p.envelope = all;
  }
  p.policy = std::string(trim(reason));
  return p;
}

std::string to_json(const DecisionEntry& e) {
  json j = {{"t_ms", e.t_ms},
            {"from", e.from},
            {"to", e.to},
            {"reason", e.reason},
            {"policy", e.parts.policy},
            {"envelope", e.parts.envelope},
            {"controller", e.parts.controller}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<DecisionEntry> DecisionLog::on_tick(const TickView& v) {
  const ReasonParts parts = split_reason(v.reason, v.guards);
  const std::string kind = parts.controller.rfind("hold:", 0) == 0 ? "hold"
                           : parts.controller.empty()              ? ""
                                                                   : "stabilised";
  const std::string key = parts.envelope + "|" + kind;
  const bool changed = first_ || v.target != target_ || key != override_;
  DecisionEntry e{v.t_ms, first_ ? v.target : target_, v.target, v.reason, parts};
  first_ = false;
  target_ = v.target;
  override_ = key;
  if (!changed) return std::nullopt;
  return e;
}

core::Result<std::vector<PromSample>> parse_prometheus(const std::string& text) {
  std::vector<PromSample> out;
  size_t line_no = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + at, end - at);
    at = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    auto bad = [&](const char* what) {
      return core::Error{"metrics line " + std::to_string(line_no) + ": " + what + ": '" +
                         std::string(line.substr(0, 120)) + "'"};
    };
    PromSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ' && line[i] != '\t') ++i;
    s.name = std::string(line.substr(0, i));
    if (s.name.empty()) return bad("expected a metric name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        const size_t eq = line.find('=', i);
        if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"')
          return bad("expected label=\"value\"");
        std::string key(trim(line.substr(i, eq - i)));
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) return bad("unterminated label value");
        s.labels[key] = value;
        i = j + 1;
      }
    }
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::string value(line.substr(i, line.find_first_of(" \t", i) - i));
    char* stop = nullptr;
    s.value = std::strtod(value.c_str(), &stop);
    if (value.empty() || stop != value.c_str() + value.size()) return bad("expected a value");
    out.push_back(std::move(s));
  }
  return out;
}

core::Result<TierView> parse_tier_metrics(const std::string& prometheus_text) {
  auto samples = parse_prometheus(prometheus_text);
  if (!samples.ok()) return samples.error();
  TierView v;
  bool any = false;
  auto usage = [&](const std::string& tier) -> TierUsage& {
    for (auto& t : v.tiers)
      if (t.tier == tier) return t;
    v.tiers.push_back(TierUsage{tier, 0, 0});
    return v.tiers.back();
  };
  for (const auto& s : *samples) {
    if (s.name.rfind("prescale_tier_", 0) == 0) any = true;
    const auto tier = s.labels.find("tier");
    if (s.name == "prescale_tier_objects" && tier != s.labels.end())
      usage(tier->second).objects = s.value;
    else if (s.name == "prescale_tier_stored_bytes" && tier != s.labels.end())
      usage(tier->second).bytes = s.value;
    else if (s.name == "prescale_tier_burst")
      v.burst = s.value != 0;
  }
  if (!any) return core::Error{"no prescale_tier_* metrics (is this a tier server's /metrics?)"};
  v.ok = true;
  return v;
}

std::string to_json(const TierView& v) {
  json tiers = json::array();
  for (const auto& t : v.tiers)
    tiers.push_back({{"tier", t.tier}, {"objects", num(t.objects)}, {"bytes", num(t.bytes)}});
  json j = {{"t_ms", v.t_ms},   {"url", v.url},   {"ok", v.ok},
            {"error", v.error}, {"tiers", tiers}, {"burst", v.burst}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string config_json(const ControllerConfig& cfg, std::int64_t started_ms) {
  json j = {{"policy", cfg.policy},
            {"scenario", cfg.scenario},
            {"context", std::string(core::to_string(cfg.context))},
            {"tick_ms", cfg.tick_ms},
            {"min_executors", cfg.min_executors},
            {"max_executors", cfg.max_executors},
            {"initial_executors", cfg.initial_executors},
            {"sla_ms", num(cfg.sla_ms)},
            {"metrics_stale_ms", cfg.metrics_stale_ms},
            {"signal_stale_ms", cfg.signal_stale_ms},
            {"scale_down_stabilization_ms", cfg.scale_down_stabilization_ms},
            {"topics",
             {{"metadata", cfg.metadata_topic},
              {"metrics", cfg.metrics_topic},
              {"control", cfg.control_topic}}},
            {"tier_metrics_url", cfg.tier_metrics_url},
            {"tick_history", kTickHistory},
            {"started_ms", started_ms}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Dashboard::Dashboard(const ControllerConfig& cfg, EventHub::Options options)
    : cfg_(cfg), hub_(options) {
  hub_.keep("config", 1);
  hub_.keep("status", 1);
  hub_.keep("tick", kTickHistory);
  hub_.keep("decision", kDecisionHistory);
  hub_.keep("tier", kTierHistory);
}

void Dashboard::start(std::int64_t now_ms) { hub_.publish("config", config_json(cfg_, now_ms)); }

void Dashboard::on_tick(const TickView& v) {
  hub_.publish("tick", to_json(v));
  if (auto e = log_.on_tick(v)) hub_.publish("decision", to_json(*e));
}

void Dashboard::on_tier(const TierView& v) { hub_.publish("tier", to_json(v)); }

void Dashboard::on_status(const std::string& state, const std::string& detail,
                          const std::string& role, const std::string& lease) {
  json j = {{"state", state}, {"detail", detail}};
  if (!role.empty()) {
    j["role"] = role;
    j["lease"] = lease;
  }
  hub_.publish("status", j.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string dashboard_page(const ControllerConfig& cfg) {
  PageSpec p;
  p.title = "prescale controller: " + cfg.policy;
  p.subtitle = "live dashboard: policy " + cfg.policy + ", scenario " + cfg.scenario + ", tick " +
               std::to_string(cfg.tick_ms) + " ms, executors [" +
               std::to_string(cfg.min_executors) + ", " + std::to_string(cfg.max_executors) + "]";
  p.script = assets::dashboard_js();
  p.data_json = config_json(cfg, 0);
  p.connect_self = true;
  p.noscript =
      "This dashboard needs JavaScript. The same figures are on /metrics (Prometheus text).";
  return web_page(p);
}

}  // namespace prescale::control
