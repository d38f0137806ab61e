#include "edge/agent.h"

#include <algorithm>

#include <mosquitto.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "bus/signing.h"
#include "core/clock.h"
#include "core/format.h"
#include "core/log.h"
#include "forecast/evaluate.h"
#include "forecast/global.h"
#include "forecast/lstm.h"

namespace prescale::edge {

namespace {

using core::wall_ms;

double mono_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void log_line(const std::string& msg) { core::log_info("edge", msg); }

// The Kafka side: two producers that never share a queue.
class KafkaSink : public Sink {
 public:
  KafkaSink(std::unique_ptr<bus::Producer> data, std::unique_ptr<bus::Producer> control,
            std::string data_topic, std::string control_topic)
      : data_(std::move(data)),
        control_(std::move(control)),
        data_topic_(std::move(data_topic)),
        control_topic_(std::move(control_topic)) {}

  core::Status data(const std::string& key, const std::string& payload) override {
    return data_->send(data_topic_, key, payload);
  }
  core::Status control(const std::string& key, const std::string& payload) override {
    return control_->send(control_topic_, key, payload);  // send() serves delivery reports
  }
  void poll() {
    data_->poll(0);
    control_->poll(0);
  }
  core::Status flush() {
    auto a = data_->flush(30'000);
    auto b = control_->flush(30'000);
    return a.ok() ? b : a;
  }
  bus::Producer& data_producer() { return *data_; }
  bus::Producer& control_producer() { return *control_; }

 private:
  std::unique_ptr<bus::Producer> data_, control_;
  std::string data_topic_, control_topic_;
};

// Counts malformed inputs and logs the first ten, then every Nth (a flood of bad lines must
// not become a flood of log lines).
class MalformedLog {
 public:
  explicit MalformedLog(int every) : every_(std::max(1, every)) {}
  void report(const std::string& where, const std::string& what) {
    ++count_;
    if (count_ <= 10 || count_ % static_cast<std::uint64_t>(every_) == 0) {
      std::string msg = where + ": skipped a malformed reading: " + what;
      if (count_ == 10) msg += " (further ones logged every " + std::to_string(every_) + "th)";
      if (count_ > 10) msg += " (" + std::to_string(count_) + " malformed so far)";
      log_line(msg);
    }
  }
  std::uint64_t count() const { return count_; }

 private:
  int every_;
  std::uint64_t count_ = 0;
};

struct Run {
  const AgentOptions& opts;
  const std::atomic<bool>& stop;
  Gateway* gw;
  KafkaSink* sink;
  MalformedLog malformed;
  core::Status status;  // the first fatal error (Kafka refused a message)

  bool failed() const { return !status.ok(); }
  void check(core::Status st) {
    if (!st.ok() && status.ok()) status = std::move(st);
  }
  // `now` = the wall clock, read once per input chunk (a per-line clock read was 6% of the
  // agent's time); where = "stdin:LINE" or "mqtt:TOPIC" (source:line, else source:name),
  // built only for a malformed input.
  void on_text(std::string_view text, std::int64_t now, std::string_view source,
               std::string_view name, std::uint64_t line) {
    auto r = bus::decode_reading(text, now);
    if (!r.ok()) {
      std::string where(source);
      where += ':';
      if (line > 0)
        where += std::to_string(line);
      else
        where += name;
      malformed.report(where, r.error().message);
      return;
    }
    check(gw->add(std::move(*r), now));
  }
};

// ---- inputs ---------------------------------------------------------------------------

void replay_trace(Run& run, const forecast::PreparedTrace& trace, ReplayStatus* status) {
  const AgentOptions& o = run.opts;
  const std::int64_t interval_ms = run.gw->config().interval_ms;
  const double start = mono_s();
  const std::int64_t start_wall = wall_ms();
  bus::Reading r;
  r.values.resize(2);
  std::vector<std::string> sensors;
  for (int k = 0; k < o.sensors; ++k) sensors.push_back("trace-" + std::to_string(k));
  for (size_t t = 0; t < trace.series.size() && !run.stop && !run.failed(); ++t) {
    const auto n = static_cast<long long>(std::llround(trace.series[t] * o.gateway.scale));
    // On the replay clock; as fast as possible, the wall clock.
    const std::int64_t sample_ms =
        o.speedup > 0 ? start_wall + static_cast<std::int64_t>(t) * interval_ms : wall_ms();
    std::int64_t now = wall_ms();
    for (long long k = 0; k < n && !run.failed(); ++k) {
      r.sensor = sensors[static_cast<size_t>(k % o.sensors)];
      r.ts_ms = sample_ms;
      r.values[0] = static_cast<double>(t);
      r.values[1] = static_cast<double>(k);
      run.check(run.gw->add(r, now));
      if ((k & 1023) == 1023) {
        run.sink->poll();
        now = wall_ms();
      }
    }
    if (o.speedup > 0) {
      // Wait for the sample's end on the replay clock, sending lingering batches meanwhile.
      const double due =
          start + static_cast<double>(t + 1) * static_cast<double>(interval_ms) / 1e3;
      while (!run.stop && !run.failed()) {
        const double left = due - mono_s();
        if (left <= 0) break;
        run.check(run.gw->tick(wall_ms()));
        run.sink->poll();
        std::this_thread::sleep_for(std::chrono::duration<double>(std::min(
            left, static_cast<double>(std::max<std::int64_t>(1, o.gateway.linger_ms)) / 1e3)));
      }
    }
    run.check(run.gw->close_interval(wall_ms()));
    run.check(run.gw->tick(wall_ms()));
    run.sink->poll();
    if (status) status->update(t, run.gw->stats(), run.gw->last_signal());
  }
}

void read_lines(Run& run) {
  const int fd = run.opts.input_fd;
  std::string buf;
  std::vector<char> chunk(1 << 20);
  std::uint64_t line_no = 0;
  size_t scan_from = 0;
  auto consume_lines = [&](bool at_eof) {
    const std::int64_t now = wall_ms();
    size_t begin = 0;
    while (true) {
      size_t nl = buf.find('\n', scan_from);
      if (nl == std::string::npos) {
        if (!at_eof || begin >= buf.size()) break;
        nl = buf.size();  // a last line without its newline
      }
      ++line_no;
      std::string_view line(buf.data() + begin, nl - begin);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty()) run.on_text(line, now, "stdin", "", line_no);
      begin = nl + 1;
      scan_from = begin;
      if (nl >= buf.size()) break;
    }
    buf.erase(0, std::min(begin, buf.size()));
    scan_from = buf.size();
  };
  while (!run.stop && !run.failed()) {
    pollfd p{fd, POLLIN, 0};
    const auto wait = std::min<std::int64_t>(run.gw->ms_until_due(wall_ms()), 200);
    const int rc = ::poll(&p, 1, static_cast<int>(wait));
    if (rc < 0 && errno != EINTR) {
      run.check(core::Error{std::string("stdin: ") + std::strerror(errno)});
      break;
    }
    if (rc > 0) {
      const ssize_t n = ::read(fd, chunk.data(), chunk.size());
      if (n < 0 && errno != EINTR && errno != EAGAIN) {
        run.check(core::Error{std::string("stdin: ") + std::strerror(errno)});
        break;
      }
      if (n == 0) {  // EOF
        consume_lines(true);
        break;
      }
      if (n > 0) {
        buf.append(chunk.data(), static_cast<size_t>(n));
        consume_lines(false);
      }
    }
    run.check(run.gw->tick(wall_ms()));
    run.sink->poll();
  }
}

void on_mqtt_connect(struct mosquitto* m, void* obj, int rc) {
  auto* run = static_cast<Run*>(obj);
  if (rc != 0) {
    log_line(std::string("mqtt: connection refused: ") + mosquitto_connack_string(rc));
    return;
  }
  // (Re)subscribe on every connect: a clean session forgets subscriptions.
  const int s = mosquitto_subscribe(m, nullptr, run->opts.mqtt_topic.c_str(), 1);
  if (s != MOSQ_ERR_SUCCESS)
    log_line(std::string("mqtt: subscribe failed: ") + mosquitto_strerror(s));
  else
    log_line("mqtt: subscribed to '" + run->opts.mqtt_topic + "'");
}

void on_mqtt_message(struct mosquitto*, void* obj, const struct mosquitto_message* msg) {
  auto* run = static_cast<Run*>(obj);
  run->on_text(std::string_view(static_cast<const char*>(msg->payload),
                                static_cast<size_t>(std::max(0, msg->payloadlen))),
               wall_ms(), "mqtt", msg->topic, 0);
}

void read_mqtt(Run& run) {
  const AgentOptions& o = run.opts;
  mosquitto_lib_init();
  const std::string id = o.gateway.device + "-" + std::to_string(::getpid());
  struct mosquitto* m = mosquitto_new(id.c_str(), true, &run);
  if (!m) {
    run.check(core::Error{"mqtt: cannot create a client"});
    mosquitto_lib_cleanup();
    return;
  }
  // Credentials only from the environment, never from the command line or logs.
  if (const char* user = std::getenv("PRESCALE_MQTT_USERNAME"))
    mosquitto_username_pw_set(m, user, std::getenv("PRESCALE_MQTT_PASSWORD"));
  mosquitto_connect_callback_set(m, on_mqtt_connect);
  mosquitto_message_callback_set(m, on_mqtt_message);
  int rc = mosquitto_connect(m, o.mqtt_host.c_str(), o.mqtt_port, 30);
  if (rc != MOSQ_ERR_SUCCESS) {
    run.check(core::Error{"mqtt: cannot connect to " + o.mqtt_host + ":" +
                          std::to_string(o.mqtt_port) + ": " +
                          (rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc))});
  }
  int backoff_ms = 100;
  while (run.status.ok() && !run.stop) {
    const auto wait = std::min<std::int64_t>(run.gw->ms_until_due(wall_ms()), 100);
    rc = mosquitto_loop(m, static_cast<int>(wait), 1);
    if (rc != MOSQ_ERR_SUCCESS) {
      // Broker gone: keep the gateway ticking and reconnect with backoff.
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      if (mosquitto_reconnect(m) == MOSQ_ERR_SUCCESS) {
        backoff_ms = 100;
      } else {
        backoff_ms = std::min(backoff_ms * 2, 5000);
      }
    }
    run.check(run.gw->tick(wall_ms()));
    run.sink->poll();
  }
  mosquitto_disconnect(m);
  mosquitto_destroy(m);
  mosquitto_lib_cleanup();
}

// The trace's own future: a perfect forecaster, for demonstrating and testing the cloud
// side with a signal ahead of every burst (never a claim about forecasting).
class Lookahead : public forecast::Forecaster {
 public:
  explicit Lookahead(std::vector<double> series) : series_(std::move(series)) {}
  std::string_view name() const override { return "lookahead"; }
  void reset() override { seen_ = 0; }
  void observe(double) override { ++seen_; }
  double forecast(int h) const override {
    if (series_.empty() || seen_ == 0) return 0;
    const size_t i = std::min(series_.size() - 1, seen_ - 1 + static_cast<size_t>(h));
    return series_[i];
  }

 private:
  std::vector<double> series_;
  size_t seen_ = 0;
};

}  // namespace

std::string format_replay_status(std::uint64_t readings, double readings_per_s,
                                 const bus::BurstSignal& signal) {
  // Short enough that the elapsed time and the ETA after it fit an 80-column terminal.
  const auto compact = [](double x) {
    char b[32];
    if (x < 1e3)
      std::snprintf(b, sizeof b, "%.0f", x);
    else if (x < 1e6)
      std::snprintf(b, sizeof b, "%.1fk", x / 1e3);
    else if (x < 1e9)
      std::snprintf(b, sizeof b, "%.2fM", x / 1e6);
    else
      std::snprintf(b, sizeof b, "%.2fG", x / 1e9);
    return std::string(b);
  };
  return compact(static_cast<double>(readings)) + " readings, " +
         compact(std::max(0.0, readings_per_s)) + "/s, signal " + (signal.burst ? "BURST" : "calm");
}

namespace {

core::Progress::Options status_options(size_t samples, const ReplayStatus::Options& o) {
  core::Progress::Options p;
  p.what = "edge replay";
  p.total = static_cast<int>(std::min<size_t>(samples, INT32_MAX));
  p.out = o.out;
  p.tty = o.tty;
  p.clock = o.clock;
  p.refresh_s = o.clock ? 0 : 1;  // the elapsed time moves on its own only on the real clock
  return p;
}

}  // namespace

ReplayStatus::ReplayStatus(size_t samples, Options options)
    : opt_(std::move(options)), progress_(status_options(samples, opt_)) {}

double ReplayStatus::now() const { return opt_.clock ? opt_.clock() : mono_s(); }

void ReplayStatus::update(size_t index, const GatewayStats& stats, const bus::BurstSignal& signal,
                          bool force) {
  if (!progress_.tty()) return;  // quiet off a terminal
  const double t = now();
  if (last_s_ < 0) {  // the first sample: the clock starts
    last_s_ = t;
    last_readings_ = stats.readings;
    progress_.begin(static_cast<int>(index + 1), format_replay_status(stats.readings, 0, signal));
    return;
  }
  if (!force && t - last_s_ < opt_.every_s) return;
  const double rate =
      t > last_s_ ? static_cast<double>(stats.readings - last_readings_) / (t - last_s_) : 0.0;
  last_s_ = t;
  last_readings_ = stats.readings;
  progress_.begin(static_cast<int>(index + 1), format_replay_status(stats.readings, rate, signal));
}

bool is_global_forecaster(const std::string& spec) {
  return spec == "global" || spec.rfind("global:", 0) == 0;
}

core::Result<std::unique_ptr<forecast::Forecaster>> make_forecaster(
    const AgentOptions& opts, int period, int horizon, const forecast::PreparedTrace* trace,
    std::string* label) {
  std::string spec = opts.forecaster;
  if (spec == "auto") {
    spec = "linreg";
    if (opts.input == Input::kTrace) {
      const auto model = std::filesystem::path(opts.models_dir) /
                         (std::filesystem::path(opts.trace_file).stem().string() + ".json");
      if (std::filesystem::exists(model)) spec = "lstm:" + model.string();
    }
  }
  *label = spec;
  if (is_global_forecaster(spec)) {
    const std::string file = spec == "global"
                                 ? (std::filesystem::path(opts.models_dir) / "global.json").string()
                                 : spec.substr(7);
    *label = "global:" + file;
    if (file.empty()) return core::Error{"--forecaster global:FILE: expected a model file"};
    if (spec == "global" && !std::filesystem::exists(file)) {
      return core::Error{"--forecaster global: " + file +
                         ": no such model file (train one with `prescale forecast "
                         "train-global`, or give --forecaster global:FILE or --models DIR)"};
    }
    auto m = forecast::load_global(file);
    if (!m.ok()) return core::Error{"--forecaster global: " + m.error().message};
    if (horizon != 0 && m->horizon != horizon) {
      return core::Error{"--forecaster global: " + file + ": the model was trained for horizon " +
                         std::to_string(m->horizon) + ", --horizon is " + std::to_string(horizon) +
                         " (leave --horizon out to use the model's)"};
    }
    return std::unique_ptr<forecast::Forecaster>(new forecast::GlobalForecaster(std::move(*m)));
  }
  if (spec == "lookahead") {
    if (opts.input != Input::kTrace || !trace)
      return core::Error{"--forecaster lookahead: only with --trace (it reads the trace's future)"};
    return std::unique_ptr<forecast::Forecaster>(new Lookahead(trace->series));
  }
  if (spec.rfind("lstm:", 0) == 0) {
    auto m = forecast::load_lstm(spec.substr(5));
    if (!m.ok()) return m.error();
    if (m->horizon != horizon) {
      return core::Error{"--forecaster " + spec + ": the model was trained for horizon " +
                         std::to_string(m->horizon) + ", --horizon is " + std::to_string(horizon)};
    }
    return std::unique_ptr<forecast::Forecaster>(new forecast::LstmForecaster(std::move(*m)));
  }
  auto f = forecast::make_baseline(spec, period);
  if (!f.ok()) return core::Error{"--forecaster: " + f.error().message};
  return std::move(*f);
}

std::string AgentReport::to_json() const {
  const double mb = static_cast<double>(data_bytes_delivered) / 1e6;
  nlohmann::json j = {
      {"input", input},
      {"forecaster", forecaster},
      {"readings", stats.readings},
      {"batches", stats.batches},
      {"data_bytes", stats.data_bytes},
      {"intervals", stats.intervals},
      {"signals", stats.signals},
      {"signals_burst", stats.signals_burst},
      {"malformed", malformed},
      {"data_delivered", data_delivered},
      {"control_delivered", control_delivered},
      {"delivery_failed", delivery_failed},
      {"elapsed_s", elapsed_s},
      {"readings_per_s", elapsed_s > 0 ? static_cast<double>(stats.readings) / elapsed_s : 0.0},
      {"mb_per_s", elapsed_s > 0 ? mb / elapsed_s : 0.0},
  };
  return j.dump();
}

core::Result<PreparedAgent> prepare_agent(const AgentOptions& opts) {
  PreparedAgent p;
  p.opts = opts;
  AgentOptions& o = p.opts;
  if (o.gateway.batch_readings < 1) return core::Error{"--batch: expected at least 1 reading"};
  if (!(o.gateway.scale > 0) || !std::isfinite(o.gateway.scale))
    return core::Error{"--scale: expected a positive number"};
  const bool global = is_global_forecaster(o.forecaster);
  if (o.gateway.horizon < (global ? 0 : 1)) {
    return core::Error{global ? "--horizon: expected at least 1 interval (or 0: the model's)"
                              : "--horizon: expected at least 1 interval"};
  }
  if (o.sensors < 1 || o.sensors > kMaxSensors)
    return core::Error{"--sensors: " + std::to_string(o.sensors) + "; expected 1 to " +
                       std::to_string(kMaxSensors)};
  if (o.partitions < 1) return core::Error{"--partitions: expected at least 1"};

  // The device's key first: an agent that cannot sign must not send anything.
  auto ring = bus::KeyRing::load(o.key_file);
  if (!ring.ok()) return ring.error();
  const auto* key = ring->find(o.gateway.device);
  if (!key) {
    return core::Error{o.key_file + ": no key for device '" + o.gateway.device +
                       "' (expected a line '" + o.gateway.device + " HEXKEY')"};
  }
  p.key = *key;

  int period = std::max<int>(
      2, static_cast<int>(86'400'000 / std::max<std::int64_t>(1, o.gateway.interval_ms)));
  if (o.input == Input::kTrace) {
    if (!(o.speedup >= 0) || !std::isfinite(o.speedup))
      return core::Error{"--speedup: expected a number >= 0 (0 = as fast as possible)"};
    auto t = forecast::prepare_trace(o.trace_file);
    if (!t.ok()) return t.error();
    p.trace = std::move(*t);
    // The readings a sample becomes, bounded before a loop sends them: a huge --scale asks
    // for a practically endless count, or overflows llround (an unspecified result).
    const double peak = p.trace.series.empty()
                            ? 0.0
                            : *std::max_element(p.trace.series.begin(), p.trace.series.end());
    if (!(peak * o.gateway.scale <= kMaxReadingsPerSample)) {
      return core::Error{
          "--scale: " + core::fmt("%g", o.gateway.scale) + " makes the trace's peak sample " +
          core::fmt("%g", peak * o.gateway.scale) + " readings; expected at most " +
          core::fmt("%g", kMaxReadingsPerSample) + " per sample (" + o.trace_file + ")"};
    }
    period = p.trace.baseline_period();
    o.gateway.clocked = false;
    o.gateway.interval_ms = std::max<std::int64_t>(
        1, std::llround(p.trace.step_s * 1000.0 / (o.speedup > 0 ? o.speedup : 1.0)));
  } else if (o.gateway.interval_ms < 1) {
    return core::Error{"--interval-ms: expected at least 1"};
  }
  auto f = make_forecaster(o, period, o.gateway.horizon,
                           o.input == Input::kTrace ? &p.trace : nullptr, &p.forecaster_label);
  if (!f.ok()) return f.error();
  p.forecaster = std::move(*f);
  // The global model forecasts for its own horizon: the signal says so.
  if (const auto* g = dynamic_cast<const forecast::GlobalForecaster*>(p.forecaster.get()))
    o.gateway.horizon = g->model().horizon;
  return p;
}

core::Result<AgentReport> run_agent(PreparedAgent agent, const std::atomic<bool>& stop) {
  AgentOptions& o = agent.opts;
  const std::string& label = agent.forecaster_label;
  const forecast::PreparedTrace& trace = agent.trace;
  // Kafka: the broker answers, the topics exist, one producer per plane.
  auto n = bus::probe(o.kafka, o.connect_timeout_ms);
  if (!n.ok()) return n.error();
  if (o.create_topics) {
    auto st = bus::ensure_topics(o.kafka, {{o.data_topic, o.partitions}, {o.control_topic, 1}},
                                 o.connect_timeout_ms);
    if (!st.ok()) return st.error();
  }
  auto data = bus::Producer::create(o.kafka, bus::Plane::kData);
  if (!data.ok()) return data.error();
  auto control = bus::Producer::create(o.kafka, bus::Plane::kControl);
  if (!control.ok()) return control.error();
  KafkaSink sink(std::move(*data), std::move(*control), o.data_topic, o.control_topic);

  // Signal sequence numbers start at the start time in microseconds: they keep increasing
  // across restarts without state on disk (the receiver rejects anything not increasing).
  o.gateway.first_seq =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  Gateway gw(o.gateway, std::move(agent.forecaster), agent.key, &sink, wall_ms());
  Run run{o, stop, &gw, &sink, MalformedLog(o.log_every_malformed), {}};
  const char* input_name = o.input == Input::kTrace   ? "trace"
                           : o.input == Input::kStdin ? "stdin"
                                                      : "mqtt";
  log_line(std::string("device ") + o.gateway.device + ", input " + input_name + ", forecaster " +
           label + ", interval " + std::to_string(o.gateway.interval_ms) + " ms, horizon " +
           std::to_string(o.gateway.horizon) + ", data -> " + o.data_topic + ", signals -> " +
           o.control_topic);

  const double t0 = mono_s();
  switch (o.input) {
    case Input::kTrace: {
      // A status line on a terminal (the README's replay runs for hours); log lines above it.
      ReplayStatus status(trace.series.size(), {});
      std::optional<core::LogsAbove> above;
      if (status.tty()) above.emplace(status.progress());
      replay_trace(run, trace, &status);
      break;
    }
    case Input::kStdin:
      read_lines(run);
      break;
    case Input::kMqtt:
      read_mqtt(run);
      break;
  }
  run.check(gw.flush_batch());
  run.check(sink.flush());

  AgentReport rep;
  rep.input = input_name;
  rep.forecaster = label;
  rep.stats = gw.stats();
  rep.malformed = run.malformed.count();
  rep.data_delivered = sink.data_producer().delivered();
  rep.control_delivered = sink.control_producer().delivered();
  rep.delivery_failed = sink.data_producer().failed() + sink.control_producer().failed();
  rep.data_bytes_delivered = sink.data_producer().bytes_delivered();
  rep.elapsed_s = mono_s() - t0;
  if (!run.status.ok()) return core::Error{run.status.message()};
  return rep;
}

}  // namespace prescale::edge
