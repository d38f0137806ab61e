#include "live/race.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "bus/kafka.h"
#include "bus/messages.h"
#include "control/daemon.h"
#include "control/lease.h"
#include "core/clock.h"
#include "core/files.h"
#include "core/format.h"
#include "core/percentile.h"
#include "edge/agent.h"
#include "sim/scenario.h"

namespace prescale::live {
namespace {

using nlohmann::json;

using core::wall_ms;

using core::fmt;

// Runs `fn` on a thread; joined (after `stop` is set by the owner) in the destructor.
class Worker {
 public:
  template <class F>
  explicit Worker(F fn)
      : thread_([this, fn]() mutable {
          fn(stop_);
          done_ = true;
        }) {}
  ~Worker() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  bool done() const { return done_; }
  void stop() { stop_ = true; }

 private:
  std::atomic<bool> stop_{false}, done_{false};
  std::thread thread_;
};

// The edge agent replaying on a thread of its own (a Worker). Its error goes to *status,
// written by that thread before done() turns true: read it once done() says so, or after the
// AgentWorker is gone (its destructor stops and joins the thread).
class AgentWorker {
 public:
  AgentWorker(edge::PreparedAgent prepared, core::Status* status)
      : agent_(std::move(prepared)), worker_([this, status](const std::atomic<bool>& stop) {
          auto r = edge::run_agent(std::move(agent_), stop);
          if (!r.ok()) *status = r.error();
        }) {}
  bool done() const { return worker_.done(); }

 private:
  edge::PreparedAgent agent_;
  Worker worker_;  // last: joined before agent_ goes
};

// The race's own command (the reset between runs, while no controller runs). The plugin
// applies only the newest lease epoch (docs/controller.md, "One controller per job"), so it
// carries the last holder's: its lease record's epoch (control::newest_lease_epoch; not the
// topic's end offset, which a recreated lease topic's base puts below the epochs). Its seq,
// from the clock, is then newer than any of that holder's; the next run's controller takes a
// larger epoch.
core::Status send_scale_to(bus::Producer& p, const control::ControllerConfig& cfg, int target,
                           const std::string& reason) {
  const std::string& topic = cfg.control_topic;
  bus::ScaleTo c;
  const std::string lease = control::lease_topic(cfg);
  if (auto epoch = control::newest_lease_epoch(cfg.kafka, lease, 5000); epoch.ok()) {
    c.epoch = *epoch;
  } else {  // the last record unread: its offset + 1 (right while the base is 0); no topic: 0
    auto end = bus::end_offset(cfg.kafka, lease, 0, 5000);
    c.epoch = end.ok() ? *end : 0;
  }
  c.seq = static_cast<std::uint64_t>(wall_ms()) * 1000;  // newer than any earlier controller's
  c.ts_ms = wall_ms();
  c.target_executors = target;
  c.reason = reason;
  auto st = p.send(topic, "race", bus::encode(c));
  if (!st.ok()) return st;
  return p.flush(5000);
}

}  // namespace

std::optional<ExecutorSample> spark_executor_sample(int ui_port) {
  httplib::Client cli("127.0.0.1", ui_port);
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(5, 0);
  auto apps = cli.Get("/api/v1/applications");
  if (!apps || apps->status != 200) return std::nullopt;
  const auto a = json::parse(apps->body, nullptr, false);
  if (!a.is_array() || a.empty() || !a[0].contains("id") || !a[0]["id"].is_string())
    return std::nullopt;
  auto ex =
      cli.Get(("/api/v1/applications/" + a[0]["id"].get<std::string>() + "/executors").c_str());
  if (!ex || ex->status != 200) return std::nullopt;
  const auto e = json::parse(ex->body, nullptr, false);
  if (!e.is_array()) return std::nullopt;
  ExecutorSample s;
  s.with_tasks = 0;
  for (const auto& x : e) {
    if (!x.is_object() || x.value("id", "") == "driver" || !x.value("isActive", false)) continue;
    ++s.executors;
    const auto tasks = x.find("totalTasks");
    s.with_tasks += tasks != x.end() && tasks->is_number() && tasks->get<double>() > 0;
  }
  return s;
}

std::optional<int> spark_executors(int ui_port) {
  const auto s = spark_executor_sample(ui_port);
  if (!s) return std::nullopt;
  return s->executors;
}

std::string ReplayInfo::to_json() const {
  return json{{"shape", shape},
              {"trace_file", trace_file},
              {"speedup", speedup},
              {"scale", scale},
              {"sensors", sensors},
              {"interval_s", interval_s},
              {"horizon", horizon},
              {"forecaster", forecaster},
              {"controller_config", controller_config},
              {"burst_threshold", burst_threshold}}
      .dump();
}

core::Status write_records(const std::string& dir, const std::vector<RunResult>& runs,
                           const ReplayInfo* replay) {
  if (replay) {
    auto trace = core::read_file(replay->trace_file);
    if (!trace.ok()) return trace.error();
    if (auto st = core::write_file_atomic(dir + "/trace.csv", *trace); !st.ok()) return st;
    ReplayInfo copy = *replay;
    copy.trace_file = "trace.csv";
    if (auto st = core::write_file_atomic(dir + "/replay.json", copy.to_json() + "\n"); !st.ok())
      return st;
  }
  std::string r, b, e, c;
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunResult& run = runs[i];
    r += json{{"run", i},
              {"policy", run.policy},
              {"started_ms", run.started_ms},
              {"duration_s", run.duration_s},
              {"sla_ms", run.sla_ms},
              {"min_executors", run.min_executors}}
             .dump() +
         "\n";
    for (const auto& x : run.batches)
      b += json{{"run", i},
                {"t_s", x.t_s},
                {"batch_id", x.batch_id},
                {"rows", x.rows},
                {"batch_ms", x.batch_ms},
                {"executors", x.executors},
                {"latency_ms", x.latency_ms},
                {"latency_measured", x.latency_measured},
                {"backlog", x.backlog},
                {"input_rps", x.input_rps}}
               .dump() +
           "\n";
    for (const auto& x : run.executors)
      e +=
          json{{"run", i}, {"t_s", x.t_s}, {"executors", x.executors}, {"with_tasks", x.with_tasks}}
              .dump() +
          "\n";
    for (const auto& x : run.commands)
      c += json{{"run", i}, {"t_s", x.t_s}, {"target", x.target}, {"reason", x.reason}}.dump() +
           "\n";
  }
  for (const auto& [name, text] : {std::pair<const char*, const std::string&>{"runs.jsonl", r},
                                   {"batches.jsonl", b},
                                   {"executors.jsonl", e},
                                   {"commands.jsonl", c}}) {
    auto st = core::write_file_atomic(dir + "/" + name, text);
    if (!st.ok()) return st;
  }
  return {};
}

std::vector<std::pair<int, int>> trace_bursts(const std::vector<double>& series, double threshold) {
  std::vector<std::pair<int, int>> out;
  if (series.empty()) return out;
  std::vector<double> sorted = series;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2),
                   sorted.end());
  const double median = sorted[sorted.size() / 2];
  int start = -1;
  for (int i = 0; i <= static_cast<int>(series.size()); ++i) {
    const bool in = i < static_cast<int>(series.size()) &&
                    series[static_cast<size_t>(i)] >= threshold * median && median > 0;
    if (in && start < 0) start = i;
    if (!in && start >= 0) {
      out.emplace_back(start, i);
      start = -1;
    }
  }
  return out;
}

void RunResult::summarise(double sla) {
  sla_ms = sla;
  first_scale_up_command_s = first_scale_up_serving_s = back_to_min_s = -1;
  for (const auto& c : commands)
    if (c.target > min_executors) {
      first_scale_up_command_s = c.t_s;
      break;
    }
  executors_at_burst_start = 0;
  max_executors_seen = 0;
  executor_seconds = 0;
  for (size_t i = 0; i < executors.size(); ++i) {
    const auto& s = executors[i];
    if (first_scale_up_serving_s < 0 && s.executors > min_executors)
      first_scale_up_serving_s = s.t_s;
    if (s.t_s <= burst_start_s) executors_at_burst_start = s.executors;
    if (back_to_min_s < 0 && first_scale_up_serving_s >= 0 && s.t_s >= burst_end_s &&
        s.executors <= min_executors)
      back_to_min_s = s.t_s;
    max_executors_seen = std::max(max_executors_seen, s.executors);
    if (i + 1 < executors.size()) executor_seconds += s.executors * (executors[i + 1].t_s - s.t_s);
  }
  std::vector<double> lat;
  max_latency_ms = 0;
  violations = 0;
  for (const auto& b : batches) {
    if (b.input_rps <= 0) continue;  // idle: no reading waited
    lat.push_back(b.latency_ms);
    violations += b.latency_ms > sla_ms;
    max_latency_ms = std::max(max_latency_ms, b.latency_ms);
  }
  batches_with_rows = static_cast<int>(lat.size());
  p95_latency_ms = core::nearest_rank(lat, 0.95);
}

std::string RunResult::to_json() const {
  json j{{"policy", policy},
         {"burst_start_s", burst_start_s},
         {"burst_end_s", burst_end_s},
         {"sla_ms", sla_ms},
         {"min_executors", min_executors},
         {"first_scale_up_command_s", first_scale_up_command_s},
         {"first_scale_up_serving_s", first_scale_up_serving_s},
         {"back_to_min_s", back_to_min_s},
         {"executors_at_burst_start", executors_at_burst_start},
         {"max_executors_seen", max_executors_seen},
         {"violations", violations},
         {"batches_with_rows", batches_with_rows},
         {"p95_latency_ms", p95_latency_ms},
         {"max_latency_ms", max_latency_ms},
         {"executor_seconds", executor_seconds},
         {"duration_s", duration_s}};
  json ex = json::array(), ba = json::array(), co = json::array(), si = json::array();
  for (const auto& s : executors) ex.push_back({s.t_s, s.executors});
  for (const auto& b : batches)
    ba.push_back({{"t_s", b.t_s},
                  {"batch_id", b.batch_id},
                  {"latency_ms", b.latency_ms},
                  {"batch_ms", b.batch_ms},
                  {"input_rps", b.input_rps},
                  {"executors", b.executors}});
  for (const auto& c : commands)
    co.push_back({{"t_s", c.t_s}, {"target", c.target}, {"reason", c.reason}});
  for (const auto& g : signals)
    si.push_back({{"t_s", g.t_s}, {"burst", g.burst}, {"forecast_rps", g.forecast_rps}});
  j["executors"] = ex;
  j["batches"] = ba;
  j["commands"] = co;
  j["signals"] = si;
  return j.dump();
}

namespace {

struct Env {
  const RaceOptions& o;
  control::ControllerConfig cfg;
  bus::KafkaProps props;
  std::unique_ptr<bus::Producer> producer;
  const std::atomic<bool>& stop;
  int index = 0;  // the run under way
  std::string policy;
  std::int64_t last_report_ms = 0;

  // The progress callback, at most twice a second.
  void report(const char* phase, double t_s, double expected_s) {
    if (!o.progress || wall_ms() - last_report_ms < 500) return;
    last_report_ms = wall_ms();
    o.progress(
        RaceProgress{index, static_cast<int>(o.policies.size()), policy, phase, t_s, expected_s});
  }
};

// Latest progress seen by the watcher, for the reset's drain check.
struct Watch {
  std::unique_ptr<bus::Consumer> consumer;  // iot-metrics + iot-control, from latest
  std::optional<bus::Progress> last;
  // Messages -> readings as the controller converts them (control::JobFacts).
  std::optional<control::JobFacts> facts;
};

// Reads what arrived; records it into `run` (when given) on the run's clock.
core::Status drain(Env& env, Watch& w, RunResult* run, std::int64_t t0, int budget_ms) {
  const std::int64_t until = wall_ms() + budget_ms;
  while (wall_ms() < until) {
    auto m = w.consumer->poll(50);
    if (!m.ok()) return m.error();
    if (!m->has_value()) break;
    const bus::Message& msg = **m;
    const double t = static_cast<double>(wall_ms() - t0) / 1000.0;
    if (msg.topic == env.cfg.metrics_topic) {
      auto p = bus::decode_progress(msg.payload);
      if (!p.ok()) continue;
      w.last = *p;
      if (!w.facts) w.facts.emplace(env.cfg);
      (void)w.facts->update(*p);  // the controller logs what it says
      if (!run) continue;
      BatchRecord b;
      b.t_s = t;
      b.batch_id = p->batch_id;
      b.batch_ms = p->batch_duration_ms;
      b.input_rps = w.facts->readings(p->input_rows_per_s);
      b.executors = p->executors_active;
      b.rows = w.facts->readings(static_cast<double>(p->num_input_rows));
      b.backlog = w.facts->readings(static_cast<double>(p->offsets_behind));
      b.latency_measured = p->event_latency_ms > 0;
      // The listener's measure; else the controller's estimate (batch + backlog wait).
      b.latency_ms =
          p->event_latency_ms > 0
              ? p->event_latency_ms
              : p->batch_duration_ms +
                    (p->processed_rows_per_s > 0
                         ? 1000.0 * static_cast<double>(p->offsets_behind) / p->processed_rows_per_s
                         : 0.0);
      if (p->num_input_rows == 0) b.input_rps = 0;
      run->batches.push_back(b);
      if (b.input_rps > 0)
        env.o.log(fmt("%+7.1f s", t) + "  " + run->policy + "  batch " +
                  std::to_string(b.batch_id) + ": " + fmt("%.0f readings/s", b.input_rps) +
                  ", latency " + fmt("%.1f s", b.latency_ms / 1000) + " on " +
                  std::to_string(b.executors) + " executor(s)" +
                  (b.latency_ms > env.o.sla_ms ? "  SLA MISSED" : ""));
    } else if (msg.topic == env.cfg.metadata_topic && run) {
      // The gateway's signal as sent (the controller verifies it; the race only draws it).
      auto g = bus::decode_burst_signal(msg.payload);
      if (g.ok()) run->signals.push_back({t, g->burst, g->forecast});
    } else if (msg.topic == env.cfg.control_topic && run) {
      auto c = bus::decode_scale_to(msg.payload);
      if (!c.ok() || msg.key == "race") continue;
      if (run->commands.empty() || run->commands.back().target != c->target_executors) {
        run->commands.push_back({t, c->target_executors, c->reason});
        env.o.log(fmt("%+7.1f s", t) + "  " + run->policy + "  command scale_to " +
                  std::to_string(c->target_executors) + " (" + c->reason + ")");
      }
    }
  }
  return {};
}

// The job back to min_executors with no backlog: every run starts from the same state.
core::Status reset(Env& env, Watch& w) {
  const int min = env.cfg.min_executors;
  env.o.log("reset: scale_to " + std::to_string(min) + ", waiting for the backlog to drain");
  auto st = send_scale_to(*env.producer, env.cfg, min, "race: reset");
  if (!st.ok()) return st;
  const std::int64_t deadline = wall_ms() + env.o.settle_timeout_s * 1000LL;
  std::int64_t resent = wall_ms();
  int calm = 0;
  std::optional<int> n;
  const std::int64_t began = wall_ms();
  while (wall_ms() < deadline && !env.stop) {
    env.report("reset", static_cast<double>(wall_ms() - began) / 1000.0, env.o.settle_timeout_s);
    const auto before = w.last ? w.last->batch_id : -1;
    const auto before_ts = w.last ? w.last->ts_ms : 0;
    st = drain(env, w, nullptr, 0, 500);
    if (!st.ok()) return st;
    n = spark_executors(env.o.spark_ui_port);
    // A fresh progress (or idle report) with nothing behind and no rows, at min scale.
    const bool fresh = w.last && (w.last->batch_id != before || w.last->ts_ms != before_ts);
    if (fresh)
      calm =
          (n == min && w.last->offsets_behind == 0 && w.last->num_input_rows == 0) ? calm + 1 : 0;
    if (calm >= 2) return {};
    if (wall_ms() - resent > 10'000 && n != min) {  // e.g. a plugin that missed it while busy
      st = send_scale_to(*env.producer, env.cfg, min, "race: reset");
      if (!st.ok()) return st;
      resent = wall_ms();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (env.stop) return core::Error{"stopped"};
  return core::Error{"the job did not settle at " + std::to_string(min) +
                     " executor(s) with no backlog within " +
                     std::to_string(env.o.settle_timeout_s) + " s (REST says " +
                     (n ? std::to_string(*n) : std::string("nothing")) + ", last progress " +
                     (w.last ? bus::encode(*w.last) : std::string("none")) + ")"};
}

// The edge agent of a run, but for Kafka (the controller config's).
edge::AgentOptions agent_options(const RaceOptions& o) {
  edge::AgentOptions a;
  a.input = edge::Input::kTrace;
  a.trace_file = o.trace_file;
  a.speedup = o.speedup;
  a.sensors = o.sensors;
  a.gateway.device = o.device;
  a.gateway.scale = o.scale;
  a.gateway.horizon = o.horizon;
  a.key_file = o.key_file;
  a.forecaster = o.forecaster;
  return a;
}

// The edge agent of a run, ready to replay into the race's Kafka.
core::Result<edge::PreparedAgent> prepare_run_agent(const Env& env) {
  edge::AgentOptions a = agent_options(env.o);
  a.kafka = env.props;
  a.data_topic = "iot-raw-data";
  a.control_topic = env.cfg.metadata_topic;
  return edge::prepare_agent(a);
}

// The job's cold start paid before any run: the trace's opening (up to its first burst, at
// most warmup_s) replayed with no controller, the job at its minimum. run_one's reset then
// drains what it left.
core::Status warm_up(Env& env, Watch& w) {
  const RaceOptions& o = env.o;
  if (o.warmup_s <= 0) return {};
  auto prepared = prepare_run_agent(env);
  if (!prepared.ok()) return prepared.error();
  const double interval_s = static_cast<double>(prepared->opts.gateway.interval_ms) / 1000.0;
  const auto bursts = trace_bursts(prepared->trace.series, o.burst_threshold);
  double length_s = o.warmup_s;
  if (!bursts.empty()) length_s = std::min(length_s, bursts.front().first * interval_s);
  if (length_s < interval_s) return {};  // the trace opens with its burst: nothing calm to send
  if (auto st = send_scale_to(*env.producer, env.cfg, env.cfg.min_executors, "race: warm-up");
      !st.ok())
    return st;
  env.o.log("warm-up: the trace's first " + fmt("%.0f s", length_s) +
            " replayed with no controller, so that no run pays the job's cold start");
  core::Status agent_status;
  {
    AgentWorker edge(std::move(*prepared), &agent_status);
    const std::int64_t t0 = wall_ms();
    while (!env.stop && !edge.done() &&
           wall_ms() - t0 < static_cast<std::int64_t>(length_s * 1000)) {
      env.report("warm-up", static_cast<double>(wall_ms() - t0) / 1000.0, length_s);
      if (auto st = drain(env, w, nullptr, 0, 200); !st.ok()) return st;
    }
  }  // the agent stops here
  if (!agent_status.ok()) return core::Error{"warm-up: edge agent: " + agent_status.message()};
  if (env.stop) return core::Error{"stopped"};
  return {};
}

core::Result<RunResult> run_one(Env& env, Watch& w, const std::string& policy) {
  const RaceOptions& o = env.o;
  auto st = reset(env, w);
  if (!st.ok()) return st.error();

  control::ControllerConfig cfg = env.cfg;
  cfg.policy = policy;
  auto controller = control::make_controller(cfg);
  if (!controller.ok()) return controller.error();

  auto prepared = prepare_run_agent(env);
  if (!prepared.ok()) return prepared.error();

  RunResult run;
  run.policy = policy;
  run.min_executors = cfg.min_executors;
  const double interval_s = static_cast<double>(prepared->opts.gateway.interval_ms) / 1000.0;
  const auto bursts = trace_bursts(prepared->trace.series, o.burst_threshold);
  if (bursts.empty())
    return core::Error{o.trace_file + ": no burst (no sample >= " + fmt("%g", o.burst_threshold) +
                       " x the median)"};
  run.burst_start_s = bursts.front().first * interval_s;
  run.burst_end_s = bursts.front().second * interval_s;
  const double replay_s = static_cast<double>(prepared->trace.series.size()) * interval_s;
  const int horizon = prepared->opts.gateway.horizon;  // the global model's, if 0 was asked
  o.log("run " + policy + ": replay of " + fmt("%.0f s", replay_s) + ", burst from " +
        fmt("%+.0f s", run.burst_start_s) + " to " + fmt("%+.0f s", run.burst_end_s) + ", signal " +
        (o.forecaster == "lookahead" ? "" : "(" + prepared->forecaster_label + ") ") +
        fmt("%.0f s", horizon * interval_s) + " ahead");

  const std::int64_t t0 = wall_ms();
  run.started_ms = t0;
  core::Status controller_status, agent_status;
  control::Controller* c = controller->get();
  Worker ctl([&controller_status, c](const std::atomic<bool>& stop) {
    controller_status = control::run_controller(c, stop);
  });
  AgentWorker edge(std::move(*prepared), &agent_status);
  bool burst_logged = false, burst_end_logged = false;
  std::int64_t replay_done_ms = 0;
  std::int64_t next_sample = t0;
  while (!env.stop) {
    const std::int64_t now = wall_ms();
    const double t = static_cast<double>(now - t0) / 1000.0;
    if (!burst_logged && t >= run.burst_start_s) {
      o.log(fmt("%+7.1f s", t) + "  " + policy + "  ---- the burst arrives ----");
      burst_logged = true;
    }
    if (!burst_end_logged && t >= run.burst_end_s) {
      o.log(fmt("%+7.1f s", t) + "  " + policy + "  ---- the burst is over ----");
      burst_end_logged = true;
    }
    if (now >= next_sample) {
      if (auto n = spark_executor_sample(o.spark_ui_port)) {
        if (run.executors.empty() || run.executors.back().executors != n->executors)
          o.log(fmt("%+7.1f s", t) + "  " + policy + "  Spark: " + std::to_string(n->executors) +
                " executor(s) live");
        n->t_s = t;
        run.executors.push_back(*n);
      }
      next_sample += 500;
    }
    st = drain(env, w, &run, t0, 100);
    if (!st.ok()) return st.error();
    env.report("run", t, replay_s + o.tail_s);
    // Each status is written by its thread before done(): read only after it.
    if (edge.done() && !agent_status.ok())
      return core::Error{"edge agent: " + agent_status.message()};
    if (ctl.done() && !controller_status.ok())
      return core::Error{"controller: " + controller_status.message()};
    if (edge.done() && replay_done_ms == 0) {
      replay_done_ms = now;
      o.log(fmt("%+7.1f s", t) + "  " + policy + "  replay done; watching " +
            std::to_string(o.tail_s) + " s more (until back at " +
            std::to_string(run.min_executors) + " executor(s), at most " +
            std::to_string(std::max(o.tail_s, o.tail_max_s)) + " s)");
    }
    if (replay_done_ms) {
      const long long tail_ms = now - replay_done_ms;
      const bool at_min =
          !run.executors.empty() && run.executors.back().executors <= run.min_executors;
      if (tail_ms >= std::max(o.tail_s, o.tail_max_s) * 1000LL) break;
      if (tail_ms >= o.tail_s * 1000LL && at_min) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  run.duration_s = static_cast<double>(wall_ms() - t0) / 1000.0;
  run.summarise(o.sla_ms);
  return run;
}

}  // namespace

core::Status check_agent(const RaceOptions& opts) {
  if (opts.forecaster != "lookahead" && !edge::is_global_forecaster(opts.forecaster)) {
    return core::Error{"--forecaster: expected lookahead, global or global:FILE, got '" +
                       opts.forecaster + "'"};
  }
  auto p = edge::prepare_agent(agent_options(opts));
  if (!p.ok()) return p.error();
  return {};
}

core::Result<ReplayInfo> replay_info(const RaceOptions& opts) {
  auto p = edge::prepare_agent(agent_options(opts));
  if (!p.ok()) return p.error();
  ReplayInfo r;
  r.shape = opts.shape;
  r.trace_file = opts.trace_file;
  r.speedup = opts.speedup;
  r.scale = opts.scale;
  r.sensors = opts.sensors;
  r.interval_s = static_cast<double>(p->opts.gateway.interval_ms) / 1000.0;
  r.horizon = p->opts.gateway.horizon;
  r.forecaster = opts.forecaster;
  std::error_code ec;
  const auto abs = std::filesystem::absolute(opts.controller_config, ec);
  r.controller_config = ec ? opts.controller_config : abs.lexically_normal().string();
  r.burst_threshold = opts.burst_threshold;
  return r;
}

core::Result<std::vector<RunResult>> race(const RaceOptions& opts, const std::atomic<bool>& stop) {
  auto cfg = control::load_config(opts.controller_config);
  if (!cfg.ok()) return cfg.error();
  // The SLA the runs are judged by: the one the controller's policy is given.
  RaceOptions o = opts;
  if (o.sla_ms <= 0) o.sla_ms = cfg->sla_ms;
  if (o.sla_ms <= 0) {
    auto scenario = sim::load_scenario(cfg->scenario);
    if (!scenario.ok()) return scenario.error();
    o.sla_ms = scenario->latency.sla_ms;
  }
  if (!opts.key_file.empty()) cfg->keys_file = opts.key_file;
  if (!opts.brokers.empty()) cfg->kafka["bootstrap.servers"] = opts.brokers;
  cfg->initial_executors = cfg->min_executors;  // every run starts from the reset
  for (const auto& p : opts.policies) {
    if (p == "oracle")
      return core::Error{"--policies: the oracle cannot run live (it needs the future)"};
    if (!control::is_live_policy(p))
      return core::Error{"--policies: unknown policy '" + p +
                         "'; expected one of: " + control::live_policy_list()};
  }
  if (auto st = check_agent(o); !st.ok()) return st.error();  // before any server
  auto replay = replay_info(o);
  if (!replay.ok()) return replay.error();
  if (!o.record_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.record_dir, ec);
    if (ec) return core::Error{"--record-dir: " + o.record_dir + ": " + ec.message()};
  }
  Env env{o, *cfg, cfg->kafka, nullptr, stop, 0, "", 0};
  auto n = bus::probe(env.props, 15'000);
  if (!n.ok()) return n.error();
  if (!spark_executors(opts.spark_ui_port))
    return core::Error{
        "no Spark application answers on http://127.0.0.1:" + std::to_string(opts.spark_ui_port) +
        "/api/v1 (start the job: scripts/stack/iot-job.sh start)"};
  auto producer = bus::Producer::create(env.props, bus::Plane::kControl);
  if (!producer.ok()) return producer.error();
  env.producer = std::move(*producer);
  Watch w;
  auto consumer = bus::Consumer::create(
      env.props, bus::Plane::kControl,
      {cfg->metrics_topic, cfg->control_topic, cfg->metadata_topic}, bus::StartAt::kLatest);
  if (!consumer.ok()) return consumer.error();
  w.consumer = std::move(*consumer);
  if (!opts.policies.empty()) {
    env.policy = opts.policies.front();
    if (auto st = warm_up(env, w); !st.ok()) return st.error();
  }
  std::vector<RunResult> runs;
  for (const auto& p : opts.policies) {
    if (stop) break;
    env.policy = p;
    env.last_report_ms = 0;
    auto r = run_one(env, w, p);
    if (!r.ok()) return core::Error{"run " + p + ": " + r.error().message};
    runs.push_back(std::move(*r));
    ++env.index;
    if (!o.record_dir.empty()) {  // after every run: a race stopped later keeps what it has
      auto st = write_records(o.record_dir, runs, &*replay);
      if (!st.ok()) return core::Error{"--record-dir: " + st.message()};
    }
  }
  return runs;
}

std::string summary_table(const std::vector<RunResult>& runs, double sla_ms) {
  auto at = [](double s) { return s < 0 ? std::string("never") : fmt("%+.1f s", s); };
  std::string out =
      "| policy | burst | executors at burst | first scale-up command | serving | "
      "back to min | violations (> " +
      fmt("%.0f s", sla_ms / 1000) +
      ") | p95 batch latency | max | executor-seconds |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : runs) {
    out += "| " + r.policy + " | " + fmt("%+.0f", r.burst_start_s) +
           fmt("..%+.0f s", r.burst_end_s) + " | " + std::to_string(r.executors_at_burst_start) +
           " | " + at(r.first_scale_up_command_s) + " | " + at(r.first_scale_up_serving_s) + " | " +
           at(r.back_to_min_s) + " | " + std::to_string(r.violations) + " / " +
           std::to_string(r.batches_with_rows) + " | " + fmt("%.1f s", r.p95_latency_ms / 1000) +
           " | " + fmt("%.1f s", r.max_latency_ms / 1000) + " | " +
           fmt("%.0f", r.executor_seconds) + " |\n";
  }
  return out;
}

}  // namespace prescale::live
