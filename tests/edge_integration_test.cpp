// `prescale edge` against a real Kafka broker (KRaft, Maven Central jars) and a real
// Mosquitto, both started by the test on loopback through scripts/stack/ and stopped at the
// end. Checks that every reading and every signal arrives, that signals verify, and that
// malformed input is counted and skipped while the agent keeps running.
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>
#include <mosquitto.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "bus/kafka.h"
#include "bus/messages.h"
#include "bus/signing.h"
#include "stack_fixture.h"

namespace prescale {
namespace {

using testing::Child;
using testing::read_text;

class EdgeIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new testing::Stack(PRESCALE_SOURCE_DIR);
    kafka_error_ = stack_->start_kafka();
    mqtt_error_ = stack_->start_mosquitto();
    key_file_ = stack_->run_dir() + "/keys.txt";
    std::ofstream(key_file_) << "# test keys\ngw-it " << std::string(64, 'c') << "\n";
  }
  static void TearDownTestSuite() {
    delete stack_;  // stops Kafka and Mosquitto
    stack_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(kafka_error_, "") << "Kafka did not start";
    ASSERT_EQ(mqtt_error_, "") << "Mosquitto did not start";
  }

  static bus::KafkaProps props() { return {{"bootstrap.servers", stack_->brokers()}}; }

  std::string path(const std::string& name) const { return stack_->run_dir() + "/" + name; }

  std::vector<std::string> agent_args(const std::string& tag) const {
    return {PRESCALE_BIN,   "edge",       "--device",        "gw-it",
            "--key-file",   key_file_,    "--brokers",       stack_->brokers(),
            "--data-topic", "raw-" + tag, "--control-topic", "meta-" + tag};
  }

  // Reads `topic` from the beginning, with one consumer, until `done(messages so far)` or
  // timeout_s passes.
  static std::vector<std::string> consume(
      const std::string& topic, const std::function<bool(const std::vector<std::string>&)>& done,
      double timeout_s) {
    std::vector<std::string> out;
    auto c = bus::Consumer::create(props(), bus::Plane::kControl, {topic}, bus::StartAt::kEarliest);
    EXPECT_TRUE(c.ok()) << c.error().message;
    if (!c.ok()) return out;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (!done(out) && std::chrono::steady_clock::now() < deadline) {
      auto m = (*c)->poll(100);
      EXPECT_TRUE(m.ok()) << m.error().message;
      if (m.ok() && m->has_value()) out.push_back((*m)->payload);
    }
    return out;
  }

  // Every signal decodes and verifies (in order: seq strictly increasing).
  static size_t verify_signals(const std::vector<std::string>& msgs) {
    auto ring = bus::KeyRing::load(key_file_);
    EXPECT_TRUE(ring.ok());
    bus::SignalVerifier v(*ring, 10 * 60 * 1000);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    size_t ok = 0;
    for (const auto& text : msgs) {
      auto s = bus::decode_burst_signal(text);
      EXPECT_TRUE(s.ok()) << text;
      if (!s.ok()) continue;
      const auto verdict = v.verify(*s, now);
      EXPECT_EQ(verdict, bus::Verdict::kAccepted) << bus::to_string(verdict) << ": " << text;
      ok += verdict == bus::Verdict::kAccepted;
    }
    return ok;
  }

  static testing::Stack* stack_;
  static std::string kafka_error_, mqtt_error_, key_file_;
};

testing::Stack* EdgeIntegration::stack_ = nullptr;
std::string EdgeIntegration::kafka_error_, EdgeIntegration::mqtt_error_, EdgeIntegration::key_file_;

// Decodes batches; returns readings keyed by sensor -> values, checking batch seqs 0..n-1.
std::map<std::string, std::vector<double>> readings_of(const std::vector<std::string>& batches,
                                                       size_t* count) {
  std::map<std::string, std::vector<double>> out;
  *count = 0;
  std::uint64_t expect_seq = 0;
  for (const auto& text : batches) {
    auto b = bus::decode_reading_batch(text);
    EXPECT_TRUE(b.ok()) << (b.ok() ? "" : b.error().message);
    if (!b.ok()) continue;
    EXPECT_EQ(b->device, "gw-it");
    EXPECT_EQ(b->seq, expect_seq++);
    for (const auto& r : b->readings) {
      out[r.sensor] = r.values;
      ++*count;
    }
  }
  return out;
}

// done() for consume(): the batches so far hold at least n readings.
std::function<bool(const std::vector<std::string>&)> has_readings(size_t n) {
  return [n](const std::vector<std::string>& batches) {
    size_t count = 0;
    for (const auto& b : batches) {
      auto d = bus::decode_reading_batch(b);
      if (d.ok()) count += d->readings.size();
    }
    return count >= n;
  };
}

std::function<bool(const std::vector<std::string>&)> has_messages(size_t n) {
  return [n](const std::vector<std::string>& m) { return m.size() >= n; };
}

TEST_F(EdgeIntegration, MqttReadingsAllArriveAndSignalsVerify) {
  const std::string tag = "mqtt";
  auto args = agent_args(tag);
  for (const std::string& a :
       {std::string("--mqtt"), "127.0.0.1:" + std::to_string(stack_->mqtt_port()),
        std::string("--mqtt-topic"), std::string("city/+/sensors"), std::string("--interval-ms"),
        std::string("100"), std::string("--batch"), std::string("100"), std::string("--linger-ms"),
        std::string("20")})
    args.push_back(a);
  Child agent(args, "/dev/null", path("mqtt.out"), path("mqtt.err"));
  ASSERT_TRUE(agent.started());

  // Wait until the agent has subscribed (its log says so), then publish.
  for (int i = 0; i < 300 && read_text(path("mqtt.err")).find("subscribed") == std::string::npos;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_NE(read_text(path("mqtt.err")).find("subscribed to 'city/+/sensors'"), std::string::npos)
      << read_text(path("mqtt.err"));

  mosquitto_lib_init();
  struct mosquitto* pub = mosquitto_new("it-publisher", true, nullptr);
  ASSERT_NE(pub, nullptr);
  ASSERT_EQ(mosquitto_connect(pub, "127.0.0.1", stack_->mqtt_port(), 30), MOSQ_ERR_SUCCESS);
  ASSERT_EQ(mosquitto_loop_start(pub), MOSQ_ERR_SUCCESS);
  constexpr int kReadings = 3000;
  int mid = 0;
  for (int i = 0; i < kReadings; ++i) {
    const std::string payload = "{\"sensor\":\"s-" + std::to_string(i) +
                                "\",\"ts_ms\":" + std::to_string(1'700'000'000'000LL + i) +
                                ",\"values\":[" + std::to_string(i) + ",0.25]}";
    ASSERT_EQ(mosquitto_publish(pub, &mid, "city/north/sensors", static_cast<int>(payload.size()),
                                payload.data(), 1, false),
              MOSQ_ERR_SUCCESS);
    if (i % 1000 == 500) {  // malformed payloads in the middle of the stream
      const std::string bad = i == 500 ? "{not json" : R"({"sensor":"x","values":["NaN"]})";
      ASSERT_EQ(mosquitto_publish(pub, &mid, "city/south/sensors", static_cast<int>(bad.size()),
                                  bad.data(), 1, false),
                MOSQ_ERR_SUCCESS);
    }
  }

  size_t count = 0;
  // Every reading reaches Kafka (QoS 1 to the broker, then batches of 100).
  const auto batches = consume("raw-" + tag, has_readings(kReadings), 60);
  const auto got = readings_of(batches, &count);
  mosquitto_loop_stop(pub, true);
  mosquitto_disconnect(pub);
  mosquitto_destroy(pub);
  mosquitto_lib_cleanup();

  // Stop the agent as an operator would; it flushes and reports.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few more intervals
  agent.signal(SIGTERM);
  ASSERT_EQ(agent.wait(30), 0) << read_text(path("mqtt.err"));

  EXPECT_EQ(count, static_cast<size_t>(kReadings));  // none lost, none duplicated
  ASSERT_EQ(got.size(), static_cast<size_t>(kReadings));
  for (int i = 0; i < kReadings; i += 97)
    EXPECT_EQ(got.at("s-" + std::to_string(i)), (std::vector<double>{double(i), 0.25}));

  const auto report = nlohmann::json::parse(read_text(path("mqtt.out")));
  EXPECT_EQ(report["readings"], kReadings);
  EXPECT_EQ(report["malformed"], 3);
  EXPECT_EQ(report["delivery_failed"], 0);
  const std::string err = read_text(path("mqtt.err"));
  EXPECT_NE(err.find("mqtt:city/south/sensors: skipped a malformed reading: reading: not JSON"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("finite numbers"), std::string::npos) << err;

  const std::uint64_t signals = report["signals"];
  EXPECT_GE(signals, 5u);  // one per 100 ms interval while the agent ran
  auto sigs = consume("meta-" + tag, has_messages(signals), 30);
  EXPECT_EQ(sigs.size(), signals);
  EXPECT_EQ(verify_signals(sigs), signals);
}

TEST_F(EdgeIntegration, TraceReplayAndStdinDeliverEverything) {
  // A trace with a burst: 120 samples of 5 min, load 20 with a 5x burst in the middle.
  const std::string trace = path("burst.csv");
  {
    std::ofstream out(trace);
    out << "timestamp,value\n";
    for (int t = 0; t < 120; ++t) {
      char ts[32];
      std::snprintf(ts, sizeof ts, "2024-01-01 %02d:%02d:00", (t * 5) / 60, (t * 5) % 60);
      out << ts << "," << ((t >= 70 && t < 85) ? 100 : 20) << "\n";
    }
  }
  auto args = agent_args("trace");
  for (const char* a : {"--trace", "", "--speedup", "0", "--scale", "3", "--forecaster", "last"})
    args.push_back(a);
  args[args.size() - 7] = trace;
  Child agent(args, "/dev/null", path("trace.out"), path("trace.err"));
  ASSERT_EQ(agent.wait(60), 0) << read_text(path("trace.err"));
  const auto report = nlohmann::json::parse(read_text(path("trace.out")));
  const size_t expected = 105 * 60 + 15 * 300;  // round(value x 3) per sample
  EXPECT_EQ(report["readings"], expected);
  EXPECT_EQ(report["signals"], 120);
  EXPECT_GE(report["signals_burst"], 3);  // the burst is signalled (last value: as it starts)
  // stderr is a file here: no status line (only on a terminal), no carriage returns.
  const std::string trace_err = read_text(path("trace.err"));
  EXPECT_EQ(trace_err.find("edge replay ["), std::string::npos) << trace_err;
  EXPECT_EQ(trace_err.find('\r'), std::string::npos) << trace_err;

  size_t count = 0;
  auto batches = consume("raw-trace", has_readings(expected), 60);
  readings_of(batches, &count);
  EXPECT_EQ(count, expected);
  auto sigs = consume("meta-trace", has_messages(120), 30);
  ASSERT_EQ(sigs.size(), 120u);
  EXPECT_EQ(verify_signals(sigs), 120u);
  bool raised = false;
  for (const auto& text : sigs) raised |= bus::decode_burst_signal(text)->burst;
  EXPECT_TRUE(raised);

  // stdin: good lines arrive, malformed ones are counted and skipped.
  {
    std::ofstream in(path("lines.jsonl"));
    for (int i = 0; i < 500; ++i) {
      in << "{\"sensor\":\"l-" << i << "\",\"values\":[" << i << "]}\n";
      if (i == 100) in << "not json at all\n";
      if (i == 200) in << "{\"sensor\":\"bad sensor\",\"values\":[1]}\n";
    }
    in << "{\"sensor\":\"l-last\",\"values\":[7]}";  // no newline at EOF
  }
  auto sargs = agent_args("stdin");
  sargs.push_back("--stdin");
  Child s(sargs, path("lines.jsonl"), path("stdin.out"), path("stdin.err"));
  ASSERT_EQ(s.wait(60), 0) << read_text(path("stdin.err"));
  const auto srep = nlohmann::json::parse(read_text(path("stdin.out")));
  EXPECT_EQ(srep["readings"], 501);
  EXPECT_EQ(srep["malformed"], 2);
  const std::string err = read_text(path("stdin.err"));
  EXPECT_NE(err.find("stdin:102: skipped a malformed reading: reading: not JSON"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("stdin:203: skipped a malformed reading: reading: field 'sensor'"),
            std::string::npos)
      << err;
  auto sb = consume("raw-stdin", has_readings(501), 60);
  auto got = readings_of(sb, &count);
  EXPECT_EQ(count, 501u);
  EXPECT_EQ(got["l-last"], std::vector<double>{7});
}

TEST_F(EdgeIntegration, UnreachableBrokerIsAClearErrorNotAHang) {
  auto args = agent_args("none");
  args[7] = "127.0.0.1:" + std::to_string(testing::free_port());
  for (const char* a : {"--stdin", "--connect-timeout-ms", "1500"}) args.push_back(a);
  Child agent(args, "/dev/null", path("none.out"), path("none.err"));
  EXPECT_EQ(agent.wait(60), 1);
  EXPECT_NE(read_text(path("none.err")).find("error: kafka: no broker answered"), std::string::npos)
      << read_text(path("none.err"));
  // librdkafka's lines come through our logger, rate-limited: none raw ("%3|...|FAIL|"),
  // and the refused connection once however many attempts were made.
  const std::string err = read_text(path("none.err"));
  EXPECT_EQ(err.find("|FAIL|"), std::string::npos) << err;
  EXPECT_NE(err.find("prescale kafka: error: rdkafka#"), std::string::npos) << err;
  size_t refused = 0;  // among librdkafka's lines (the error at the end names it too: why)
  std::stringstream lines(err);
  for (std::string line; std::getline(lines, line);)
    refused += line.rfind("prescale kafka: ", 0) == 0 &&
               line.find("Connection refused") != std::string::npos;
  EXPECT_LE(refused, 1u) << err;
  EXPECT_NE(
      err.find("error: kafka: no broker answered within 1500 ms at '" + args[7] + "': " + args[7] +
               "/bootstrap: Connect to ipv4#" + args[7] + " failed: Connection refused"),
      std::string::npos)
      << err;
}

}  // namespace
}  // namespace prescale

namespace prescale {
namespace {

// `prescale bench dualplane` on the suite's broker: both modes measured, every control
// message received, and control behind data (single plane) slower than on its own plane.
TEST_F(EdgeIntegration, DualPlaneBenchMeasuresBothModes) {
  Child bench({PRESCALE_BIN, "bench", "dualplane", "--brokers", stack_->brokers(), "--seconds", "2",
               "--format", "json"},
              "/dev/null", path("planes.out"), path("planes.err"));
  ASSERT_EQ(bench.wait(120), 0) << read_text(path("planes.err"));
  const auto j = nlohmann::json::parse(read_text(path("planes.out")));
  for (const char* k : {"dual_p99_ms", "single_p99_ms", "data_mb_s"})
    ASSERT_TRUE(j.contains(k)) << k;
  EXPECT_GT(j["dual"]["sent"].get<int>(), 50);  // 2 s at one per 20 ms
  EXPECT_EQ(j["dual"]["received"], j["dual"]["sent"]);
  EXPECT_GT(j["data_mb_s"].get<double>(), 1.0);
  EXPECT_GT(j["single_p99_ms"].get<double>(), j["dual_p99_ms"].get<double>());
}

// The topic names a broker holds (metadata request).
std::set<std::string> topics_on(const std::string& brokers) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
  RdKafka::Metadata* md = nullptr;
  std::set<std::string> out;
  if (!p || p->metadata(true, nullptr, &md, 10'000) != RdKafka::ERR_NO_ERROR) return out;
  std::unique_ptr<RdKafka::Metadata> owned(md);
  for (const auto* t : *md->topics()) out.insert(t->topic());
  return out;
}

// The control plane named by a plane-scoped property (control.bootstrap.servers, here the
// same broker) still measures; and the bench leaves none of its topics behind (each run
// writes gigabytes: a disk filled up on a shared broker before they were deleted).
TEST_F(EdgeIntegration, DualPlaneBenchTakesPlaneScopedPropertiesAndCleansUp) {
  Child bench({PRESCALE_BIN, "bench", "dualplane", "--brokers", stack_->brokers(), "--kafka",
               "control.bootstrap.servers=" + stack_->brokers(), "--kafka", "data.linger.ms=2",
               "--seconds", "1", "--format", "json"},
              "/dev/null", path("planes2.out"), path("planes2.err"));
  ASSERT_EQ(bench.wait(120), 0) << read_text(path("planes2.err"));
  const auto j = nlohmann::json::parse(read_text(path("planes2.out")));
  EXPECT_EQ(j["dual"]["received"], j["dual"]["sent"]);
  const auto topics = topics_on(stack_->brokers());
  ASSERT_FALSE(topics.empty());
  for (const auto& t : topics) EXPECT_EQ(t.rfind("bench-planes", 0), std::string::npos) << t;
}

}  // namespace
}  // namespace prescale
