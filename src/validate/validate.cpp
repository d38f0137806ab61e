#include "validate/validate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "control/controller.h"
#include "core/files.h"
#include "core/format.h"
#include "core/percentile.h"
#include "edge/agent.h"
#include "edge/gateway.h"
#include "forecast/evaluate.h"
#include "policy/envelope.h"
#include "policy/registry.h"

namespace prescale::validate {
namespace {

using nlohmann::json;

using core::fmt;

}  // namespace

core::Result<Replay> load_replay(const std::string& dir) {
  const std::string path = dir + "/replay.json";
  auto text = core::read_file(path);
  if (!text.ok())
    return core::Error{text.error().message +
                       " (written by prescale race --record-dir since the validation; an older "
                       "run directory cannot be replayed)"};
  const json j = json::parse(*text, nullptr, false);
  if (!j.is_object()) return core::Error{path + ":1: expected a JSON object"};
  Replay r;
  auto str = [&](const char* key, std::string* out) -> core::Status {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string())
      return core::Error{path + ": field '" + key + "': expected a string"};
    *out = it->get<std::string>();
    return {};
  };
  auto num = [&](const char* key, double* out, double lo) -> core::Status {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number() || !std::isfinite(it->get<double>()) ||
        it->get<double>() < lo)
      return core::Error{path + ": field '" + key + "': expected a number >= " + fmt("%g", lo)};
    *out = it->get<double>();
    return {};
  };
  double sensors = 0, horizon = 0;
  for (const auto& st :
       {str("shape", &r.shape), str("trace_file", &r.trace_file), str("forecaster", &r.forecaster),
        str("controller_config", &r.controller_config), num("speedup", &r.speedup, 0),
        num("scale", &r.scale, 0), num("sensors", &sensors, 1), num("interval_s", &r.interval_s, 0),
        num("horizon", &horizon, 0), num("burst_threshold", &r.burst_threshold, 0)}) {
    if (!st.ok()) return st.error();
  }
  if (!(r.interval_s > 0)) return core::Error{path + ": field 'interval_s': expected > 0"};
  if (!(r.scale > 0)) return core::Error{path + ": field 'scale': expected > 0"};
  r.sensors = static_cast<int>(sensors);
  r.horizon = static_cast<int>(horizon);
  if (!r.trace_file.empty() && std::filesystem::path(r.trace_file).is_relative())
    r.trace_file = dir + "/" + r.trace_file;
  return r;
}

std::vector<double> spread(const std::vector<double>& readings_per_interval, double interval_s,
                           double step_s, int steps) {
  std::vector<double> out(static_cast<size_t>(std::max(0, steps)), 0.0);
  for (size_t i = 0; i < readings_per_interval.size(); ++i) {
    const double a = static_cast<double>(i) * interval_s, b = a + interval_s;
    const double rate = readings_per_interval[i] / interval_s;  // readings/s in the interval
    for (auto k = static_cast<long>(std::floor(a / step_s)); k < steps; ++k) {
      const double lo = std::max(a, static_cast<double>(k) * step_s);
      const double hi = std::min(b, static_cast<double>(k + 1) * step_s);
      if (hi <= lo) {
        if (static_cast<double>(k) * step_s >= b) break;
        continue;
      }
      out[static_cast<size_t>(k)] += rate * (hi - lo) / step_s;
    }
  }
  return out;
}

core::Result<Traffic> replay_traffic(const Replay& replay, double step_s, int steps) {
  // The agent's series and forecaster, exactly as edge::prepare_agent makes them.
  auto trace = forecast::prepare_trace(replay.trace_file);
  if (!trace.ok()) return trace.error();
  edge::AgentOptions a;
  a.input = edge::Input::kTrace;
  a.trace_file = replay.trace_file;
  a.speedup = replay.speedup;
  a.forecaster = replay.forecaster;
  a.gateway.scale = replay.scale;
  a.gateway.horizon = replay.horizon;
  Traffic t;
  auto f = edge::make_forecaster(a, trace->baseline_period(), replay.horizon, &*trace,
                                 &t.forecaster_label);
  if (!f.ok()) return f.error();
  auto source = edge::make_signal_source(std::move(*f), replay.horizon, a.gateway.detector);
  const double interval = replay.interval_s;
  t.horizon_s = source->horizon() * interval;
  const size_t n = trace->series.size();
  t.replay_s = static_cast<double>(n) * interval;
  std::vector<double> readings(n);
  std::vector<edge::IntervalSignal> sent(n);
  for (size_t i = 0; i < n; ++i) {
    readings[i] = static_cast<double>(std::llround(trace->series[i] * replay.scale));
    t.readings += readings[i];
    // The gateway's load: the interval's readings in the forecaster's units.
    sent[i] = source->update(readings[i] / replay.scale);
    t.signal_raised_samples += sent[i].burst;
  }
  t.arrivals_rps = spread(readings, interval, step_s, steps);
  t.signal.assign(static_cast<size_t>(steps), 0);
  t.forecast_rps.assign(static_cast<size_t>(steps), 0.0);
  t.confidence.assign(static_cast<size_t>(steps), 0.0);
  for (int k = 0; k < steps; ++k) {
    // Interval i's signal leaves at (i + 1) x interval: the last one sent by k x step_s.
    const long i = std::min(static_cast<long>(n) - 1,
                            static_cast<long>(std::floor(k * step_s / interval + 1e-9)) - 1);
    if (i < 0) continue;
    const auto& g = sent[static_cast<size_t>(i)];
    t.signal[static_cast<size_t>(k)] = g.burst;
    t.forecast_rps[static_cast<size_t>(k)] = g.forecast * replay.scale / interval;
    t.confidence[static_cast<size_t>(k)] = g.confidence;
  }
  return t;
}

std::vector<ArenaBatch> arena_batches(const ArenaRun& a, double until_s) {
  std::vector<ArenaBatch> out;
  const double dt = a.step_s, trig = a.trigger_s;
  if (!(trig > 0) || !(dt > 0)) return out;
  for (int j = 1; j * trig <= until_s + 1e-9; ++j) {
    const double from = (j - 1) * trig, to = j * trig;
    ArenaBatch b;
    b.t_s = to;
    bool rows = false;
    for (auto k = static_cast<size_t>(std::floor(from / dt + 1e-9));
         k < a.steps.size() && static_cast<double>(k) * dt < to - 1e-9; ++k) {
      const double lo = std::max(from, static_cast<double>(k) * dt);
      const double hi = std::min(to, static_cast<double>(k + 1) * dt);
      b.rows += a.steps[k].load_rps * std::max(0.0, hi - lo);
      if (a.steps[k].processed_rps <= 0) continue;
      rows = true;
      b.latency_ms = std::max(b.latency_ms, a.steps[k].latency_ms);
    }
    if (rows) out.push_back(b);
  }
  return out;
}

Comparison compare(const calibrate::RunRecords& live, int run, const ArenaRun& arena, double sla_ms,
                   double duration_s, const Targets& targets) {
  Comparison c;
  c.run = run;
  c.policy = arena.policy;
  c.duration_s = duration_s;
  const double dt = arena.step_s;
  const auto& steps = arena.steps;
  const auto arena_at = [&](double t) -> int {
    if (steps.empty()) return 0;
    const auto k = static_cast<long>(std::floor(t / dt + 1e-9));
    return steps[static_cast<size_t>(std::clamp<long>(k, 0, static_cast<long>(steps.size()) - 1))]
        .active;
  };
  // Executors: the live REST samples, the arena's serving count at the same times.
  std::vector<std::pair<double, int>> samples;
  for (const auto& e : live.executors)
    if (e.run == run && e.t_s >= 0 && e.t_s <= duration_s) samples.emplace_back(e.t_s, e.executors);
  std::sort(samples.begin(), samples.end());
  double abs_sum = 0, live_sum = 0, arena_sum = 0;
  for (const auto& [t, n] : samples) {
    const int a = arena_at(t);
    abs_sum += std::abs(n - a);
    live_sum += n;
    arena_sum += a;
  }
  c.executor_samples = static_cast<int>(samples.size());
  if (!samples.empty()) {
    const double m = static_cast<double>(samples.size());
    c.executors_mae = abs_sum / m;
    c.mean_executors_live = live_sum / m;
    c.mean_executors_arena = arena_sum / m;
  }
  // Cost: both timelines integrated over [0, duration].
  for (size_t i = 0; i < samples.size(); ++i) {
    const double from = i == 0 ? 0.0 : samples[i].first;
    const double to = i + 1 < samples.size() ? samples[i + 1].first : duration_s;
    c.cost_live += samples[i].second * std::max(0.0, to - from);
  }
  for (size_t k = 0; k < steps.size(); ++k) {
    const double from = static_cast<double>(k) * dt;
    const double to = std::min(duration_s, from + dt);
    if (to > from) c.cost_arena += steps[k].active * (to - from);
  }
  // Batches that read rows.
  std::vector<double> lat_live, lat_arena;
  for (const auto& b : live.batches) {
    if (b.run != run || b.input_rps <= 0) continue;
    if (b.t_s < 0 || b.t_s > duration_s) continue;
    lat_live.push_back(b.latency_ms);
    c.violations_live += b.latency_ms > sla_ms;
    c.readings_live += b.rows;
  }
  for (const auto& b : arena_batches(arena, duration_s)) {
    lat_arena.push_back(b.latency_ms);
    c.violations_arena += b.latency_ms > sla_ms;
  }
  for (const auto& s : steps) c.readings_arena += s.load_rps * dt;
  c.batches_live = static_cast<int>(lat_live.size());
  c.batches_arena = static_cast<int>(lat_arena.size());
  c.p95_latency_ms_live = core::nearest_rank(lat_live, 0.95);
  c.p95_latency_ms_arena = core::nearest_rank(lat_arena, 0.95);
  c.violations_allowed = targets.violations_per_5min * duration_s / 300.0;
  c.mae_ok = c.executor_samples > 0 && c.executors_mae <= targets.mae;
  c.p95_ok =
      c.p95_latency_ms_live > 0 && std::abs(c.p95_latency_ms_arena - c.p95_latency_ms_live) <=
                                       targets.p95_tolerance * c.p95_latency_ms_live;
  c.violations_ok = std::abs(c.violations_arena - c.violations_live) <= c.violations_allowed;
  return c;
}

std::vector<std::string> ranking(const std::vector<Comparison>& c, bool arena) {
  std::vector<const Comparison*> order;
  for (const auto& x : c) order.push_back(&x);
  std::stable_sort(order.begin(), order.end(), [arena](const Comparison* a, const Comparison* b) {
    const int va = arena ? a->violations_arena : a->violations_live;
    const int vb = arena ? b->violations_arena : b->violations_live;
    if (va != vb) return va < vb;
    return (arena ? a->cost_arena : a->cost_live) < (arena ? b->cost_arena : b->cost_live);
  });
  std::vector<std::string> out;
  for (const auto* x : order) out.push_back(x->policy);
  return out;
}

core::Result<Report> validate(const calibrate::RunRecords& live, const Replay& replay,
                              const sim::Scenario& scenario, const Options& options) {
  const std::string config_file =
      options.controller_config.empty() ? replay.controller_config : options.controller_config;
  auto cfg = control::load_config(config_file);
  if (!cfg.ok()) return cfg.error();
  // The policy's scenario, as control::make_controller makes it.
  auto policy_scenario = sim::load_scenario(cfg->scenario);
  if (!policy_scenario.ok())
    return core::Error{cfg->where("scenario") + ": " + policy_scenario.error().message};
  const double step_s = static_cast<double>(cfg->tick_ms) / 1000.0;
  policy_scenario->step_s = step_s;
  policy_scenario->cluster.min_executors = cfg->min_executors;
  policy_scenario->cluster.max_executors = cfg->max_executors;
  policy_scenario->cluster.records_per_message =
      std::max(1, static_cast<int>(std::lround(cfg->records_per_message)));

  Report rep;
  rep.dir = live.dir;
  rep.shape = replay.shape;
  rep.scenario = scenario.source_file.empty() ? scenario.name : scenario.source_file;
  rep.step_s = step_s;
  rep.trigger_s = cfg->trigger_ms / 1000.0;
  for (const auto& info : live.runs) {
    // The run's span; a run without one (hand-made records) ends with its last record.
    double duration = info.duration_s;
    if (!(duration > 0)) {
      for (const auto& e : live.executors)
        if (e.run == info.run) duration = std::max(duration, e.t_s);
      for (const auto& b : live.batches)
        if (b.run == info.run) duration = std::max(duration, b.t_s);
    }
    const int steps = std::max(1, static_cast<int>(std::ceil(duration / step_s - 1e-9)));
    auto traffic = replay_traffic(replay, step_s, steps);
    if (!traffic.ok()) return traffic.error();
    rep.forecaster = traffic->forecaster_label;
    rep.intervals = static_cast<int>(std::lround(traffic->replay_s / replay.interval_s));
    rep.signal_burst_intervals = traffic->signal_raised_samples;

    // The world: the given scenario with the controller's facts and the run's SLA.
    sim::Scenario world = scenario;
    world.step_s = step_s;
    world.steps = steps;
    world.cluster.min_executors = cfg->min_executors;
    world.cluster.max_executors = cfg->max_executors;
    world.cluster.initial_executors = cfg->min_executors;  // the race's reset
    world.latency.trigger_s = rep.trigger_s;
    world.context = cfg->context;
    world.edge.horizon_s = traffic->horizon_s > 0 ? traffic->horizon_s : world.edge.horizon_s;
    const double sla = info.sla_ms > 0 ? info.sla_ms : world.latency.sla_ms;
    world.latency.sla_ms = sla;
    rep.sla_ms = sla;
    if (auto st = sim::validate(world); !st.ok())
      return core::Error{rep.scenario + ": " + st.message()};

    sim::Workload w;
    w.arrivals_rps = traffic->arrivals_rps;
    w.baseline_rps = traffic->arrivals_rps;
    w.burst.assign(w.arrivals_rps.size(), 0);
    w.signal = traffic->signal;
    w.forecast_rps = traffic->forecast_rps;
    w.confidence = traffic->confidence;

    auto policy = policy::make_policy(info.policy, *policy_scenario, nullptr);
    if (!policy.ok())
      return core::Error{cfg->where("policy") + ": " + info.policy + ": " + policy.error().message};
    policy::CommandEnvelope envelope(
        cfg->min_executors, cfg->max_executors, step_s,
        static_cast<double>(cfg->scale_down_stabilization_ms) / 1000.0);
    ArenaRun run;
    run.policy = info.policy;
    run.step_s = step_s;
    run.trigger_s = rep.trigger_s;
    sim::Simulator simulator(world, w);
    simulator.record_timeline(&run.steps);
    (*policy)->reset();
    // What the job was last told, as the controller keeps it.
    int target = cfg->min_executors;
    core::Tier tier = core::Tier::kNvme;
    core::Compression codec = core::Compression::kNone;
    while (!simulator.done()) {
      const core::Observation& obs = simulator.observation();
      const core::Decision d = (*policy)->decide(obs);
      const auto carried = envelope.apply(obs, d, target, tier, codec);
      target = carried.decision.target_executors;
      tier = carried.decision.tier;
      codec = carried.decision.compression;
      // The live job takes only the executor target from a command (java/: the plugin reads
      // shuffle_tier and applies nothing of it; no codec is sent), so the replay runs the job
      // as the live one ran: on the default tier, uncompressed, whatever the policy asked.
      core::Decision applied = carried.decision;
      applied.tier = world.default_tier;
      applied.compression = core::Compression::kNone;
      simulator.step(applied);
    }
    rep.policies.push_back(compare(live, info.run, run, sla, duration, options.targets));
    rep.arena.push_back(std::move(run));
  }
  rep.ranking_live = ranking(rep.policies, false);
  rep.ranking_arena = ranking(rep.policies, true);
  rep.same_ranking = rep.ranking_live == rep.ranking_arena;
  return rep;
}

std::string Report::to_json(bool timelines) const {
  json j = {{"dir", dir},
            {"shape", shape},
            {"scenario", scenario},
            {"forecaster", forecaster},
            {"sla_ms", sla_ms},
            {"step_s", step_s},
            {"trigger_s", trigger_s},
            {"intervals", intervals},
            {"signal_burst_intervals", signal_burst_intervals}};
  json ps = json::array();
  for (size_t i = 0; i < policies.size(); ++i) {
    const Comparison& c = policies[i];
    json p = {{"policy", c.policy},
              {"duration_s", c.duration_s},
              {"executors_mae", c.executors_mae},
              {"executor_samples", c.executor_samples},
              {"mean_executors_live", c.mean_executors_live},
              {"mean_executors_arena", c.mean_executors_arena},
              {"p95_latency_ms_live", c.p95_latency_ms_live},
              {"p95_latency_ms_arena", c.p95_latency_ms_arena},
              {"violations_live", c.violations_live},
              {"violations_arena", c.violations_arena},
              {"batches_live", c.batches_live},
              {"batches_arena", c.batches_arena},
              {"cost_live", c.cost_live},
              {"cost_arena", c.cost_arena},
              {"cost_unit", "executor-seconds"},
              {"readings_live", c.readings_live},
              {"readings_arena", c.readings_arena},
              {"targets",
               {{"executors_mae", c.mae_ok},
                {"p95_latency", c.p95_ok},
                {"violations", c.violations_ok},
                {"violations_allowed", c.violations_allowed}}}};
    if (timelines && i < arena.size()) {
      const ArenaRun& a = arena[i];
      json t = json::array(), ex = json::array(), tg = json::array(), lat = json::array(),
           in = json::array(), ba = json::array();
      for (const auto& s : a.steps) {
        t.push_back(s.step * a.step_s);
        ex.push_back(s.active);
        tg.push_back(s.target);
        lat.push_back(std::round(s.latency_ms));
        in.push_back(std::round(s.load_rps));
      }
      for (const auto& b : arena_batches(a, c.duration_s))
        ba.push_back({b.t_s, std::round(b.latency_ms)});
      p["arena"] = {{"t_s", t},          {"executors", ex}, {"target", tg},
                    {"latency_ms", lat}, {"input_rps", in}, {"batches", ba}};
    }
    ps.push_back(p);
  }
  j["policies"] = ps;
  j["ranking_live"] = ranking_live;
  j["ranking_arena"] = ranking_arena;
  j["same_ranking"] = same_ranking;
  return j.dump();
}

std::string Report::table() const {
  auto mark = [](bool ok) { return ok ? "" : " (miss)"; };
  std::string out = "arena (" + scenario + ") against the live run (" + dir + ")" +
                    (shape.empty() ? "" : ", shape " + shape) + ", signal " + forecaster +
                    " (burst in " + std::to_string(signal_burst_intervals) + " of " +
                    std::to_string(intervals) + " intervals)\n";
  out +=
      "| policy | executors MAE | p95 live | p95 arena | violations live | arena | allowed "
      "difference | executor-s live | arena |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& c : policies) {
    out += "| " + c.policy + " | " + fmt("%.2f", c.executors_mae) + mark(c.mae_ok) + " | " +
           fmt("%.1f s", c.p95_latency_ms_live / 1000) + " | " +
           fmt("%.1f s", c.p95_latency_ms_arena / 1000) + mark(c.p95_ok) + " | " +
           std::to_string(c.violations_live) + " / " + std::to_string(c.batches_live) + " | " +
           std::to_string(c.violations_arena) + " / " + std::to_string(c.batches_arena) +
           mark(c.violations_ok) + " | " + fmt("%.1f", c.violations_allowed) + " | " +
           fmt("%.0f", c.cost_live) + " | " + fmt("%.0f", c.cost_arena) + " |\n";
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : " < ") + x;
    return s;
  };
  out += "ranking (violations, then cost): live " + join(ranking_live) + ", arena " +
         join(ranking_arena) + (same_ranking ? " (same)" : " (differs)") + "\n";
  return out;
}

}  // namespace prescale::validate
