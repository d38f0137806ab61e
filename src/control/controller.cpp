#include "control/controller.h"

#include "core/files.h"
#include "core/prometheus.h"
#include "core/yaml.h"
#include "policy/registry.h"
#include "sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

namespace prescale::control {

// ---------------------------------------------------------------------------------------
// Configuration

namespace {

// librdkafka properties whose values are files (resolved like every path of the file).
bool is_path_property(const std::string& key, const std::string& value) {
  if (key == "ssl.ca.location") return value != "probe";  // "probe": the system's CAs
  return key == "ssl.certificate.location" || key == "ssl.key.location" ||
         key == "ssl.keystore.location" || key == "ssl.crl.location" ||
         key == "sasl.kerberos.keytab" || key == "ssl.engine.location";
}

// A scenario is a name searched in the scenario directories, or a path (as load_scenario
// tells them apart).
bool is_scenario_path(const std::string& s) {
  return s.find('/') != std::string::npos || s.ends_with(".yaml") || s.ends_with(".yml");
}

// "file:line" of every key of the mapping and of its sub-mappings, by dotted name.
void record_lines(const YAML::Node& map, const std::string& file, const std::string& prefix,
                  int depth, std::map<std::string, std::string>* out) {
  if (!map.IsMap() || depth > 2) return;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) continue;
    const std::string name = prefix + kv.first.Scalar();
    out->emplace(name, core::yaml_where(file, kv.first));
    record_lines(kv.second, file, name + ".", depth + 1, out);
  }
}

void read_settings(core::YamlMap& r, ControllerConfig* c) {
  // Relative paths name files beside the configuration file, whatever the current directory.
  const auto beside = [&](const std::string& p) { return core::resolve_beside(c->source, p); };
  r.text("policy", &c->policy);
  r.text("scenario", &c->scenario);
  if (is_scenario_path(c->scenario)) c->scenario = beside(c->scenario);
  r.choice("context", &c->context, &core::parse_context, "healthcare|balanced|budget");
  r.integer("tick_ms", &c->tick_ms, 10, 3'600'000);
  r.integer("min_executors", &c->min_executors, 0, sim::kMaxExecutors);
  r.integer("max_executors", &c->max_executors, 1, sim::kMaxExecutors);
  r.integer("initial_executors", &c->initial_executors, 0, sim::kMaxExecutors);
  r.integer("metrics_stale_ms", &c->metrics_stale_ms, 1, 86'400'000);
  r.integer("signal_stale_ms", &c->signal_stale_ms, 1, 86'400'000);
  r.integer("signal_window_ms", &c->signal_window_ms, 1, 86'400'000);
  r.integer("scale_down_stabilization_ms", &c->scale_down_stabilization_ms, 0, 86'400'000);
  r.number("record_bytes", &c->record_bytes, 1, 1e9);
  r.number("trigger_ms", &c->trigger_ms, 1, 3'600'000);
  r.number("records_per_message", &c->records_per_message, 1, 1e6);
  r.number("sla_ms", &c->sla_ms, 0, 86'400'000);
  r.text("keys_file", &c->keys_file);
  c->keys_file = beside(c->keys_file);
  r.section("topics", [&](core::YamlMap& t) {
    t.text("metadata", &c->metadata_topic);
    t.text("metrics", &c->metrics_topic);
    t.text("control", &c->control_topic);
  });
  r.section("http", [&](core::YamlMap& h) {
    h.text("listen", &c->http_listen);
    h.integer("port", &c->http_port, 0, 65535);
  });
  r.text("tier_metrics_url", &c->tier_metrics_url);
  r.section("lease", [&](core::YamlMap& l) {
    l.text("group", &c->lease_group);
    l.text("topic", &c->lease_topic);
    l.text("id", &c->lease_id);
    // The broker bounds the session timeout too (group.min/max.session.timeout.ms, by
    // default 6 s and 30 min): a value outside them fails when the controller joins.
    l.integer("session_timeout_ms", &c->lease_session_timeout_ms, 1000, 3'600'000);
    l.integer("heartbeat_interval_ms", &c->lease_heartbeat_interval_ms, 100, 3'600'000);
    if (c->lease_topic.size() > 249)  // Kafka's limit for a topic name
      l.fail_at("topic", "got " + core::echo(c->lease_topic) + ", expected at most 249 characters");
    if (c->lease_group.size() > 256)  // LeaseRecord's limits
      l.fail_at("group", "got " + core::echo(c->lease_group) + ", expected at most 256 characters");
    if (c->lease_id.size() > 256)
      l.fail_at("id", "got " + core::echo(c->lease_id) + ", expected at most 256 characters");
    if (c->lease_heartbeat_interval_ms >= c->lease_session_timeout_ms)
      l.fail_at("heartbeat_interval_ms", std::to_string(c->lease_heartbeat_interval_ms) +
                                             " is not below session_timeout_ms (" +
                                             std::to_string(c->lease_session_timeout_ms) +
                                             "); a third of it or less is usual");
  });
  r.section("kafka", [&](core::YamlMap& k) {
    k.scalars([&](const std::string& key, const std::string& value, const std::string&) {
      // librdkafka's message names the property; the value is never echoed (a secret?).
      if (core::Status st = bus::check_property(key, value); !st.ok()) {
        k.fail_at(key.c_str(), st.message());
        return;
      }
      c->kafka[key] = is_path_property(key, value) ? beside(value) : value;
    });
  });
  // More librdkafka properties from a file of key=value lines (bus::read_props_file): the
  // secrets (sasl.password, ...), so that this file need not be one. Its relative paths, like
  // every other, name files beside this configuration file.
  std::string kafka_file;
  r.text("kafka_file", &kafka_file);
  if (!kafka_file.empty()) {
    auto file = bus::read_props_file(beside(kafka_file));
    if (!file.ok()) return r.fail_at("kafka_file", file.error().message);
    for (const auto& [key, value] : file->props) {
      if (c->kafka.count(key))
        return r.fail_at("kafka_file", beside(kafka_file) + ":" +
                                           std::to_string(file->line.at(key)) + ": " + key +
                                           ": also set in kafka: (set it in one place)");
      c->kafka[key] = is_path_property(key, value) ? beside(value) : value;
    }
  }
}

// The checks across fields, each naming the line of the field it blames.
void check_settings(core::YamlMap& r, const ControllerConfig& c) {
  if (!is_live_policy(c.policy)) {
    r.fail_at("policy", "got " + core::echo(c.policy) + ", expected one of: " + live_policy_list() +
                            (c.policy == "oracle" ? " (the oracle needs the future)" : ""));
  }
  if (c.max_executors < c.min_executors) {
    r.fail_at("max_executors", std::to_string(c.max_executors) + " is below min_executors (" +
                                   std::to_string(c.min_executors) + ")");
  }
  if (c.initial_executors < c.min_executors || c.initial_executors > c.max_executors) {
    r.fail_at("initial_executors", std::to_string(c.initial_executors) +
                                       " is outside [min_executors, max_executors] = [" +
                                       std::to_string(c.min_executors) + ", " +
                                       std::to_string(c.max_executors) + "]");
  }
  if (!c.tier_metrics_url.empty() &&
      (c.tier_metrics_url.rfind("http://", 0) != 0 || c.tier_metrics_url.size() <= 7)) {
    r.fail_at("tier_metrics_url",
              "got " + core::echo(c.tier_metrics_url) + ", expected http://HOST:PORT/PATH");
  }
  if (c.keys_file.empty()) r.fail_at("keys_file", "missing (edge signals must be verified)");
  if (!c.kafka.count("bootstrap.servers")) r.fail_at("kafka", "bootstrap.servers: missing");
}

}  // namespace

std::string live_policy_list() {
  std::string list;
  for (const auto& info : policy::known_policies()) {
    if (info.name != "oracle") list += (list.empty() ? "" : ", ") + info.name;
  }
  return list;
}

bool is_live_policy(const std::string& name) {
  if (name == "oracle") return false;
  for (const auto& info : policy::known_policies()) {
    if (info.name == name) return true;
  }
  return false;
}

std::string ControllerConfig::line_of(const std::string& field) const {
  auto it = lines.find(field);
  return it == lines.end() ? source : it->second;
}

std::string lease_group(const ControllerConfig& c) {
  return c.lease_group.empty() ? "prescale-controller." + c.control_topic : c.lease_group;
}

std::string lease_topic(const ControllerConfig& c) {
  return c.lease_topic.empty() ? c.control_topic + "-lease" : c.lease_topic;
}

core::Result<ControllerConfig> load_config(const std::string& path) {
  auto text = core::read_file(path);
  if (!text.ok()) return text.error();
  return parse_config(*text, path);
}

core::Result<ControllerConfig> parse_config(std::string_view text, const std::string& path) {
  YAML::Node root;
  if (core::Status st = core::parse_yaml(text, path, &root); !st.ok()) return st.error();
  if (!root.IsMap()) return core::Error{path + ": expected a mapping of settings"};
  ControllerConfig c;
  c.source = path;
  record_lines(root, path, "", 0, &c.lines);
  std::string error;
  core::YamlMap r(root, path, "", &error);
  read_settings(r, &c);
  r.finish();
  check_settings(r, c);
  if (!error.empty()) return core::Error{error};
  return c;
}

// ---------------------------------------------------------------------------------------
// What the job publishes about itself

namespace {

// 500, 487.5, 0.25: as a person writes them.
std::string fmt_number(double x) {
  char buf[32];
  if (std::abs(x - std::round(x)) < 1e-9 && std::abs(x) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", x);
  else
    std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

}  // namespace

JobFacts::JobFacts(const ControllerConfig& cfg)
    : config_min_(cfg.min_executors),
      config_max_(cfg.max_executors),
      config_rpm_(cfg.records_per_message),
      where_min_(cfg.line_of("min_executors")),
      where_max_(cfg.line_of("max_executors")),
      where_rpm_(cfg.line_of("records_per_message")),
      min_(cfg.min_executors),
      max_(cfg.max_executors) {}

JobFacts::Update JobFacts::update(const bus::Progress& p) {
  Update u;
  std::vector<std::string> said;  // each disagreement, naming both values
  if (p.max_executors > 0 && (p.min_executors != job_min_ || p.max_executors != job_max_)) {
    job_min_ = p.min_executors;
    job_max_ = p.max_executors;
    // Stricter than the plugin is the configuration's right; looser is not.
    int lo = std::max(config_min_, job_min_);
    int hi = std::min(config_max_, job_max_);
    const std::string cap =
        " the plugin's cap " + std::to_string(job_max_) + " (spark.prescale.maxExecutors)";
    const std::string floor =
        " the plugin's minimum " + std::to_string(job_min_) + " (spark.prescale.minExecutors)";
    if (config_max_ > job_max_)
      said.push_back("max_executors " + std::to_string(config_max_) + " (" + where_max_ +
                     ") is above" + cap);
    if (config_max_ < job_min_) {
      said.push_back("max_executors " + std::to_string(config_max_) + " (" + where_max_ +
                     ") is below" + floor);
      hi = job_min_;
    }
    if (config_min_ < job_min_)
      said.push_back("min_executors " + std::to_string(config_min_) + " (" + where_min_ +
                     ") is below" + floor);
    if (config_min_ > job_max_) {
      said.push_back("min_executors " + std::to_string(config_min_) + " (" + where_min_ +
                     ") is above" + cap);
      lo = job_max_;
    }
    if (lo != min_ || hi != max_) {
      min_ = lo;
      max_ = hi;
      u.bounds_changed = true;
    }
  }
  if (p.records_per_message > 0) {
    job_rpm_ = p.records_per_message;
    // Said once: the job's measure moves with the gateways' batches (a quiet gateway sends
    // small ones when its linger expires), and it is used whatever it is.
    const bool differs = std::abs(job_rpm_ - config_rpm_) > 0.1 * std::max(job_rpm_, config_rpm_);
    if (differs && !rpm_reported_) {
      rpm_reported_ = true;
      said.push_back("records_per_message " + fmt_number(config_rpm_) + " (" + where_rpm_ +
                     "), but the job counts " + fmt_number(job_rpm_) +
                     " readings per Kafka message");
    }
  }
  if (said.empty()) return u;
  std::string line = "the job disagrees with the configuration: ";
  for (size_t i = 0; i < said.size(); ++i) line += (i ? "; " : "") + said[i];
  line += "; using the job's: executors [" + std::to_string(min_) + ", " + std::to_string(max_) +
          "], " + fmt_number(readings_per_message()) + " readings per message";
  u.line = std::move(line);
  return u;
}

// ---------------------------------------------------------------------------------------
// The controller

Controller::Controller(ControllerConfig cfg, std::unique_ptr<policy::Policy> policy,
                       bus::KeyRing keys, PolicyFactory factory)
    : cfg_(std::move(cfg)),
      policy_(std::move(policy)),
      factory_(std::move(factory)),
      job_(cfg_),
      verifier_(std::move(keys), cfg_.signal_window_ms),
      target_(cfg_.initial_executors),
      envelope_(cfg_.min_executors, cfg_.max_executors, static_cast<double>(cfg_.tick_ms) / 1000.0,
                static_cast<double>(cfg_.scale_down_stabilization_ms) / 1000.0) {
  stats_.target = target_;
}

std::vector<std::string> Controller::take_notices() {
  std::vector<std::string> out;
  out.swap(notices_);
  return out;
}

void Controller::apply_bounds() {
  const int lo = job_.min_executors(), hi = job_.max_executors();
  if (factory_) {
    auto p = factory_(lo, hi, job_.readings_per_message());
    if (p.ok())
      policy_ = std::move(*p);
    else  // the old policy stays; commands are still clamped to the new bounds
      notices_.push_back("policy " + cfg_.policy + " cannot take executors [" + std::to_string(lo) +
                         ", " + std::to_string(hi) + "]: " + p.error().message +
                         "; its targets are clamped instead");
  }
  envelope_.set_bounds(lo, hi);
  target_ = std::clamp(target_, lo, hi);  // the plugin clamped it so
  stats_.target = target_;
}

bool Controller::on_signal(const std::string& json, std::int64_t now_ms) {
  auto s = bus::decode_burst_signal(json);
  if (!s.ok()) {
    ++stats_.signals_malformed;
    return false;
  }
  const bus::Verdict v = verifier_.verify(*s, now_ms);
  ++stats_.signals[static_cast<int>(v)];
  if (v != bus::Verdict::kAccepted) return false;
  signals_[s->device] = {*s, now_ms};
  return true;
}

bool Controller::on_progress(const std::string& json, std::int64_t now_ms) {
  auto p = bus::decode_progress(json);
  if (!p.ok()) {
    ++stats_.progress_rejected;
    return false;
  }
  // Out of order (an older batch after a newer one) is ignored, not an error.
  if (progress_ && p->batch_id < progress_->batch_id) {
    ++stats_.progress_rejected;
    return false;
  }
  progress_ = *p;
  progress_at_ms_ = now_ms;
  ++stats_.progress_accepted;
  const JobFacts::Update u = job_.update(*p);
  if (!u.line.empty()) notices_.push_back(u.line);
  if (u.bounds_changed) apply_bounds();
  return true;
}

// ---------------------------------------------------------------------------------------
// One tick: observe -> decide -> envelope -> act

// Step 1. The live facts; what they mean in the Observation is observe::build's (docs/model.md,
// "The Observation"): Spark measures no CPU, busy time or forward-looking latency, so the
// builder derives them from the batch duration, the trigger and the backlog.
core::Observation Controller::observe(std::int64_t now_ms) {
  observe::Facts f;
  f.step = step_;
  f.time_s = static_cast<double>(now_ms - (started_ms_ < 0 ? now_ms : started_ms_)) / 1000.0;
  f.step_s = static_cast<double>(cfg_.tick_ms) / 1000.0;
  f.trigger_s = cfg_.trigger_ms / 1000.0;
  f.sla_ms = cfg_.sla_ms > 0 ? cfg_.sla_ms : core::Observation{}.sla_ms;
  f.context = cfg_.context;
  f.metrics_available = progress_ && now_ms - progress_at_ms_ <= cfg_.metrics_stale_ms;
  f.record_mb = cfg_.record_bytes / 1e6;
  f.tier = tier_;
  f.compression = compression_;
  f.requested_executors = target_;
  if (progress_) {
    const bus::Progress& p = *progress_;
    // Spark counts Kafka messages; the policies, readings (JobFacts::readings, the one
    // conversion).
    f.input_rps = job_.readings(p.input_rows_per_s);
    // Per second of the batch (Spark's processedRowsPerSecond): build() makes it per second
    // of the tick, as the arena measures it.
    f.batch_processed_rps = job_.readings(p.processed_rows_per_s);
    // Offsets behind latest: what the last batch left in Kafka, the backlog.
    f.backlog_records = job_.readings(static_cast<double>(p.offsets_behind));
    f.batch_duration_ms = p.batch_duration_ms;
    f.event_latency_ms = p.event_latency_ms;
    f.active_executors = p.executors_active;
  } else {
    f.active_executors = target_;  // nothing said yet: what it was told serves
  }
  // The gateways' last accepted signals that are still fresh.
  fresh_signals_.clear();
  for (const auto& [device, entry] : signals_) {
    const auto& [s, at] = entry;
    if (now_ms - at > cfg_.signal_stale_ms) continue;
    fresh_signals_.push_back({s.burst, s.forecast, s.horizon_s, s.confidence});
  }
  f.signals = fresh_signals_;
  f.default_horizon_s = 60;
  return observe::build(f);
}

// Step 2.
core::Decision Controller::decide(const core::Observation& obs) {
  decision_ = policy_->decide(obs);
  return decision_;
}

// Step 3.
policy::CommandEnvelope::Outcome Controller::envelope(const core::Observation& obs,
                                                      const core::Decision& d) {
  return envelope_.apply(obs, d, target_, tier_, compression_);
}

bool Controller::on_command(const std::string& json) {
  auto cmd = bus::decode_scale_to(json);
  if (!cmd.ok() || cmd->epoch < followed_epoch_) return false;
  followed_epoch_ = cmd->epoch;
  target_ = std::clamp(cmd->target_executors, job_.min_executors(), job_.max_executors());
  tier_ = cmd->shuffle_tier;
  stats_.target = target_;
  ++stats_.commands_followed;
  return true;
}

// Step 4.
bus::ScaleTo Controller::act(std::int64_t now_ms, const core::Decision& d,
                             const policy::CommandEnvelope::Outcome& carried) {
  const bool acting = lease_.active;
  bus::ScaleTo cmd;
  cmd.seq = ++seq_;
  cmd.ts_ms = now_ms;
  cmd.epoch = acting ? lease_.epoch : 0;
  cmd.target_executors = carried.decision.target_executors;
  cmd.shuffle_tier = carried.decision.tier;
  if (!acting) ++stats_.standby_ticks;
  const std::string standby = acting ? "" : "standby: ";
  if (carried.held) {
    ++stats_.holds_stale;
    // Say which: none yet since start (normal for a moment: the job publishes once a
    // batch), or none for longer than metrics_stale_ms.
    const std::int64_t start = started_ms_ < 0 ? now_ms : started_ms_;
    const std::int64_t since_s = (now_ms - (progress_ ? progress_at_ms_ : start)) / 1000;
    cmd.reason =
        standby +
        (progress_ ? "hold: no fresh metrics (last " + std::to_string(since_s) + " s ago, limit " +
                         std::to_string(cfg_.metrics_stale_ms / 1000) + " s)"
         : now_ms - start <= cfg_.metrics_stale_ms
             ? "hold: waiting for the job's first metrics (" + std::to_string(since_s) +
                   " s since start)"
             : "hold: no metrics from the job since start (" + std::to_string(since_s) + " s)");
    return cmd;
  }
  ++stats_.decisions;
  // Policies name themselves in their reasons ("hpa: ..."); others get the name added.
  std::string why = d.reason;
  if (why.rfind(std::string(policy_->name()), 0) != 0)
    why = std::string(policy_->name()) + ": " + why;
  if (carried.stabilised)
    why += " (scale-down stabilised at " + std::to_string(cmd.target_executors) + ")";
  cmd.reason = standby + why;
  if (!acting) return cmd;  // in the shadow: what it would command; the job was told nothing
  target_ = carried.decision.target_executors;
  tier_ = carried.decision.tier;
  compression_ = carried.decision.compression;
  stats_.target = target_;
  ++stats_.commands;
  return cmd;
}

bus::ScaleTo Controller::tick(std::int64_t now_ms) {
  if (started_ms_ < 0) {
    started_ms_ = now_ms;
    // Command sequence numbers keep increasing across restarts without state on disk.
    seq_ = static_cast<std::uint64_t>(now_ms) * 1000;
  }
  ++stats_.ticks;
  last_tick_ms_ = now_ms;
  obs_ = observe(now_ms);
  stats_.metrics_fresh = obs_.metrics_available;
  stats_.actual = obs_.active_executors;
  const core::Decision d = decide(obs_);
  ++step_;
  return act(now_ms, d, envelope(obs_, d));
}

std::string Controller::prometheus() const {
  core::PrometheusWriter w;
  w.counter("prescale_controller_ticks_total", "Control ticks run.", stats_.ticks);
  w.counter("prescale_controller_decisions_total", "Ticks where the policy decided.",
            stats_.decisions);
  w.counter("prescale_controller_holds_total", "Ticks held because metrics were stale.",
            stats_.holds_stale);
  w.gauge("prescale_controller_executors_target", "Executors the job was last told to run.",
          stats_.target);
  w.gauge("prescale_controller_executors_actual", "Executors the job reported serving.",
          stats_.actual);
  w.gauge("prescale_controller_executors_min",
          "The lower bound of every command (the configuration's, or the job plugin's).",
          job_.min_executors());
  w.gauge("prescale_controller_executors_max",
          "The upper bound of every command (the configuration's, or the job plugin's cap).",
          job_.max_executors());
  w.gauge("prescale_controller_readings_per_message",
          "Readings per Kafka message used to convert the job's rates (the job's measure, else "
          "records_per_message).",
          job_.readings_per_message());
  w.gauge("prescale_controller_metrics_fresh", "1 when the job's progress is fresh.",
          stats_.metrics_fresh ? 1 : 0);
  w.gauge("prescale_controller_tick_duration_ms", "Duration of the last tick.",
          stats_.last_tick_ms);
  w.gauge("prescale_controller_active",
          "1 while this controller holds the job's lease and commands; 0 on a standby.",
          lease_.active ? 1 : 0);
  // An integer of up to 19 digits: written as one (a double would round it).
  w.gauge("prescale_controller_epoch",
          "The lease's epoch: this controller's while active, the holder's as far as known on a "
          "standby (0: none).",
          lease_.active ? lease_.epoch : lease_.holder_epoch);
  w.counter("prescale_controller_standby_ticks_total",
            "Ticks decided on a standby (not commanded).", stats_.standby_ticks);
  w.counter("prescale_controller_commands_followed_total",
            "The lease holder's commands a standby adopted as the job's target.",
            stats_.commands_followed);
  w.family("prescale_controller_signals_total", "counter", "Edge Burst_Signals by verdict.");
  for (int v = 0; v < bus::kNumVerdicts; ++v) {
    w.sample("prescale_controller_signals_total", stats_.signals[v], "verdict",
             bus::to_string(static_cast<bus::Verdict>(v)));
  }
  w.sample("prescale_controller_signals_total", stats_.signals_malformed, "verdict", "malformed");
  w.counter("prescale_controller_progress_accepted_total", "Progress messages used.",
            stats_.progress_accepted);
  w.counter("prescale_controller_progress_rejected_total", "Progress messages rejected.",
            stats_.progress_rejected);
  w.counter("prescale_controller_commands_total", "scale_to commands decided by the policy.",
            stats_.commands);
  // What the last tick saw (the dashboard's and Grafana's panels).
  w.gauge("prescale_controller_executors_pending", "Executors commanded but not serving yet.",
          obs_.pending_executors);
  w.gauge("prescale_controller_input_rps", "Input rate of the job's last batch (readings/s).",
          obs_.input_rps);
  w.gauge("prescale_controller_processed_rps",
          "Readings/s the job processed over its last batch's trigger interval "
          "(Spark's rate per batch-second x busy).",
          obs_.processed_rps);
  w.gauge("prescale_controller_latency_ms", "Batch latency the last tick saw.", obs_.latency_ms);
  w.gauge("prescale_controller_batch_duration_ms", "Duration of the job's last batch.",
          obs_.batch_duration_ms);
  w.gauge("prescale_controller_sla_ms", "The latency target the policy is given.", obs_.sla_ms);
  w.gauge("prescale_controller_forecast_rps", "Sum of the fresh gateways' forecasts (readings/s).",
          obs_.forecast_rps);
  w.gauge("prescale_controller_burst_signal", "1 when a fresh gateway signals a burst.",
          obs_.burst_signal ? 1 : 0);
  // Per gateway: its last accepted signal (fresh or not; the age says which).
  auto per_gateway = [&](const char* name, const char* help, auto value) {
    w.family(name, "gauge", help);
    for (const auto& [device, entry] : signals_) w.sample(name, value(entry), "device", device);
  };
  using Entry = GatewaySignals::mapped_type;
  per_gateway("prescale_controller_gateway_forecast_rps",
              "A gateway's last forecast of its load at the horizon (readings/s).",
              [](const Entry& e) { return e.first.forecast; });
  per_gateway("prescale_controller_gateway_burst", "1 when a gateway's last signal says burst.",
              [](const Entry& e) { return e.first.burst ? 1 : 0; });
  per_gateway(
      "prescale_controller_gateway_signal_age_seconds",
      "Seconds since a gateway's last accepted signal, at the last tick.",
      [&](const Entry& e) { return std::max<std::int64_t>(0, last_tick_ms_ - e.second) / 1000.0; });
  return w.str();
}

}  // namespace prescale::control
