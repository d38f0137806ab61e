#include "bus/plane_bench.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/files.h"
#include "core/net.h"

namespace prescale::bus {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

LatencyStats stats_of(std::vector<double> ms, size_t sent) {
  LatencyStats s;
  s.sent = sent;
  s.received = ms.size();
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto q = [&](double p) {
    const size_t i =
        std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())));
    return ms[i];
  };
  s.p50_ms = q(0.50);
  s.p99_ms = q(0.99);
  s.max_ms = ms.back();
  return s;
}

struct ModeResult {
  LatencyStats latency;
  double data_mb_s = 0;
};

constexpr const char* kControlKey = "ctl";

// One mode: data saturating `data_topic` through `data`; control every interval through
// `control` (the data producer itself in single-plane mode) to `control_topic`.
core::Result<ModeResult> run_mode(const KafkaProps& props, const PlaneBenchOptions& o, bool dual,
                                  const std::string& data_topic, const std::string& control_topic) {
  auto data = Producer::create(props, Plane::kData);
  if (!data.ok()) return data.error();
  std::unique_ptr<Producer> control_owned;
  if (dual) {
    auto c = Producer::create(props, Plane::kControl);
    if (!c.ok()) return c.error();
    control_owned = std::move(*c);
  }
  Producer* control = dual ? control_owned.get() : data->get();
  auto data_consumer = Consumer::create(props, Plane::kData, {data_topic}, StartAt::kLatest);
  if (!data_consumer.ok()) return data_consumer.error();
  std::unique_ptr<Consumer> control_consumer;
  if (dual) {
    auto c = Consumer::create(props, Plane::kControl, {control_topic}, StartAt::kLatest);
    if (!c.ok()) return c.error();
    control_consumer = std::move(*c);
  }

  std::atomic<bool> stop_send{false}, stop_consume{false};
  std::atomic<std::uint64_t> data_bytes{0};
  std::mutex mu;
  std::vector<double> latencies;
  std::string error;
  auto record = [&](const Message& m) {
    if (m.key != kControlKey) return false;
    const double ms = static_cast<double>(now_ns() - std::stoll(m.payload)) / 1e6;
    std::lock_guard<std::mutex> lock(mu);
    latencies.push_back(ms);
    return true;
  };
  auto consume = [&](Consumer* c, bool count_data) {
    while (!stop_consume) {
      auto m = c->poll(50);
      if (!m.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (error.empty()) error = m.error().message;
        return;
      }
      if (!m->has_value()) continue;
      if (!record(**m) && count_data) data_bytes += (*m)->payload.size();
    }
  };
  std::thread data_reader(consume, data_consumer->get(), true);
  std::thread control_reader;
  if (dual) control_reader = std::thread(consume, control_consumer.get(), false);

  // Warm-up, not timed: producer ids, metadata and the consumers' first fetches. A few
  // control messages must make the round trip before the measurement starts.
  for (int i = 0; i < 5; ++i) {
    (void)control->send(dual ? control_topic : data_topic, kControlKey, std::to_string(now_ns()),
                        1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (latencies.size() >= 5) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    latencies.clear();
  }
  const std::string payload(o.data_bytes, 'd');
  std::thread data_writer([&] {
    while (!stop_send) {
      if (!(*data)->send(data_topic, "", payload, 1000).ok()) (*data)->poll(10);
    }
  });
  size_t sent = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::duration<double>(o.seconds);
  auto next = t0;
  while (std::chrono::steady_clock::now() < end) {
    next += std::chrono::milliseconds(o.control_interval_ms);
    std::this_thread::sleep_until(next);
    auto st = control->send(dual ? control_topic : data_topic, kControlKey,
                            std::to_string(now_ns()), 1000);
    if (st.ok()) ++sent;
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::uint64_t bytes_at_end = data_bytes;
  stop_send = true;
  data_writer.join();
  // Control messages still queued behind data get up to 10 s to arrive; later ones are lost.
  const auto drain_end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < drain_end) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (latencies.size() >= sent || !error.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop_consume = true;
  data_reader.join();
  if (control_reader.joinable()) control_reader.join();
  if (!error.empty()) return core::Error{error};
  ModeResult r;
  r.latency = stats_of(latencies, sent);
  r.data_mb_s = static_cast<double>(bytes_at_end) / 1e6 / elapsed;
  return r;
}

}  // namespace

std::string PlaneBenchResult::to_json() const {
  auto lat = [](const LatencyStats& s) {
    return nlohmann::json{{"p50_ms", s.p50_ms},
                          {"p99_ms", s.p99_ms},
                          {"max_ms", s.max_ms},
                          {"sent", s.sent},
                          {"received", s.received}};
  };
  return nlohmann::json{
      {"dual_p99_ms", dual.p99_ms},
      {"single_p99_ms", single.p99_ms},
      {"data_mb_s", dual_data_mb_s},
      {"single_data_mb_s", single_data_mb_s},
      {"ratio_single_to_dual_p99", dual.p99_ms > 0 ? single.p99_ms / dual.p99_ms : 0.0},
      {"dual", lat(dual)},
      {"single", lat(single)}}
      .dump();
}

core::Result<PlaneBenchResult> bench_planes(const KafkaProps& props, const PlaneBenchOptions& o) {
  if (!(o.seconds > 0)) return core::Error{"--seconds: expected a positive number"};
  if (o.data_bytes < 1 || o.data_bytes > 900'000)
    return core::Error{
        "--data-bytes: expected 1 to 900000 (the broker's default message limit is ~1 MB)"};
  if (o.control_interval_ms < 1) return core::Error{"--control-interval-ms: expected at least 1"};
  auto n = probe(props, 15'000);
  if (!n.ok()) return n.error();
  const std::string stamp =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() / 1000);
  const std::string dual_data = o.topic_prefix + "-data-" + stamp,
                    dual_ctl = o.topic_prefix + "-control-" + stamp,
                    single_data = o.topic_prefix + "-single-" + stamp;
  auto st = ensure_topics(props, {{dual_data, 1}, {single_data, 1}}, 15'000);
  if (!st.ok()) return st.error();
  // The control topic where the control plane's clients connect: another listener or broker
  // when the properties say control.bootstrap.servers.
  const KafkaProps control_props = with_plane_defaults(props, Plane::kControl, false);
  auto m = probe(control_props, 15'000);
  if (!m.ok()) return m.error();
  st = ensure_topics(control_props, {{dual_ctl, 1}}, 15'000);
  if (!st.ok()) return st.error();
  PlaneBenchResult out;
  auto d = run_mode(props, o, true, dual_data, dual_ctl);
  auto s = d.ok() ? run_mode(props, o, false, single_data, single_data) : d;
  // The data topics hold ~2 GB after a run: gone, on a private broker or a shared one.
  if (auto gone = delete_topics(props, {dual_data, single_data}, 15'000); !gone.ok())
    std::fprintf(stderr, "prescale bench dualplane: %s\n", gone.message().c_str());
  (void)delete_topics(control_props, {dual_ctl}, 15'000);
  if (!d.ok()) return d.error();
  if (!s.ok()) return s.error();
  out.dual = d->latency;
  out.dual_data_mb_s = d->data_mb_s;
  out.single = s->latency;
  out.single_data_mb_s = s->data_mb_s;
  return out;
}

int LocalKafka::run(const std::string& verb, const std::string& log) const {
  const std::string cmd = "PRESCALE_RUN_DIR='" + run_dir_ +
                          "' KAFKA_PORT=" + std::to_string(port_) +
                          " KAFKA_CONTROLLER_PORT=" + std::to_string(controller_port_) + " bash '" +
                          script_ + "' " + verb + " >'" + log + "' 2>&1";
  return std::system(cmd.c_str());
}

core::Result<std::unique_ptr<LocalKafka>> LocalKafka::start(const std::string& source_dir) {
  std::unique_ptr<LocalKafka> k(new LocalKafka());
  k->script_ = source_dir + "/scripts/stack/kafka.sh";
  if (!std::filesystem::exists(k->script_))
    return core::Error{k->script_ + ": missing (run from a prescale checkout, or pass --brokers)"};
  auto p1 = core::free_loopback_port();
  auto p2 = core::free_loopback_port();
  if (!p1.ok()) return p1.error();
  if (!p2.ok()) return p2.error();
  k->port_ = *p1;
  k->controller_port_ = *p2;
  char tmpl[] = "/tmp/prescale-kafka.XXXXXX";
  if (!::mkdtemp(tmpl)) return core::Error{"cannot create a temporary run directory"};
  k->run_dir_ = tmpl;
  const std::string log = k->run_dir_ + "/start.log";
  if (k->run("start", log) != 0) {
    auto text = core::read_file(log);
    return core::Error{"could not start a local Kafka broker:\n" +
                       (text.ok() ? *text : text.error().message)};
  }
  return k;
}

LocalKafka::~LocalKafka() {
  if (run_dir_.empty()) return;
  run("stop", "/dev/null");
  std::error_code ec;
  std::filesystem::remove_all(run_dir_, ec);
}

}  // namespace prescale::bus
