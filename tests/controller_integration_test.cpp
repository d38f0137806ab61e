// `prescale controller` against a real Kafka broker (started by the test on loopback):
// progress in on iot-metrics, signals in on iot-metadata (one authentic, one forged),
// scale_to commands out on iot-control; /metrics and /healthz over HTTP; one controller per
// job (two on one job: one commands, the other stands by and takes over when the first is
// killed; a recreated lease topic does not leave the holder below the job's epoch); and a
// controller whose broker is unreachable keeps running and says so on
// /healthz.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <vector>

#include "bus/kafka.h"
#include "bus/messages.h"
#include "bus/signing.h"
#include "control/lease.h"
#include "stack_fixture.h"

namespace prescale {
namespace {

using testing::Child;
using testing::read_text;

class ControllerIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new testing::Stack(PRESCALE_SOURCE_DIR);
    kafka_error_ = stack_->start_kafka();
    std::ofstream(path("keys.txt")) << "gw-1 " << std::string(64, 'b') << "\n";
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(kafka_error_, "") << "Kafka did not start"; }
  static std::string path(const std::string& name) { return stack_->run_dir() + "/" + name; }

  static std::string write_config(const std::string& name, const std::string& brokers, int port,
                                  const std::string& policy = "seer",
                                  const std::string& extra = "") {
    std::ofstream(path(name)) << "policy: " << policy
                              << "\nscenario: seed\ntick_ms: 200\nmin_executors: 1\n"
                                 "max_executors: 12\ninitial_executors: 2\nmetrics_stale_ms: 3000\n"
                                 "scale_down_stabilization_ms: 0\nkeys_file: "
                              << path("keys.txt") << "\nhttp:\n  port: " << port
                              << "\nkafka:\n  bootstrap.servers: " << brokers << "\n"
                              << extra;
    return path(name);
  }

  // Starts `prescale controller` on a job of its own (topics NAME-metadata, NAME-metrics,
  // NAME-control; lease id ctl-NAME; the seer policy; stderr in NAME.err) and waits until it
  // holds the lease of its new lease topic, at epoch 1. Null, with a test failure, when not
  // within 30 s.
  static std::unique_ptr<Child> start_lease_holder(const std::string& name);

  static testing::Stack* stack_;
  static std::string kafka_error_;
};

testing::Stack* ControllerIntegration::stack_ = nullptr;
std::string ControllerIntegration::kafka_error_;

std::string http_get(int port, const std::string& route, int* status) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(2, 0);
  auto res = cli.Get(route.c_str());
  *status = res ? res->status : -1;
  return res ? res->body : "";
}

TEST_F(ControllerIntegration, ScalesOnProgressAndCountsForgedSignals) {
  const int port = testing::free_port();
  Child ctl(
      {PRESCALE_BIN, "controller", "--config", write_config("c.yaml", stack_->brokers(), port)},
      "/dev/null", path("ctl.out"), path("ctl.err"));
  ASSERT_TRUE(ctl.started());
  // Ready when it has subscribed (its log says what it reads).
  for (int i = 0; i < 300 && read_text(path("ctl.err")).find("commanding") == std::string::npos;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_NE(read_text(path("ctl.err")).find("commanding iot-control"), std::string::npos)
      << read_text(path("ctl.err"));
  int status = 0;
  http_get(port, "/healthz", &status);
  EXPECT_EQ(status, 503);  // no progress yet

  const bus::KafkaProps props{{"bootstrap.servers", stack_->brokers()}};
  auto commands =
      bus::Consumer::create(props, bus::Plane::kControl, {"iot-control"}, bus::StartAt::kLatest);
  ASSERT_TRUE(commands.ok()) << commands.error().message;
  auto producer = bus::Producer::create(props, bus::Plane::kControl);
  ASSERT_TRUE(producer.ok());

  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  bus::BurstSignal s;
  s.device = "gw-1";
  s.seq = 7;
  s.ts_ms = now;
  s.forecast = 1e6;
  s.baseline = 1e5;
  s.burst = true;
  s.confidence = 0.9;
  bus::sign(&s, std::vector<unsigned char>(32, 0xbb));
  ASSERT_TRUE((*producer)->send("iot-metadata", "gw-1", bus::encode(s)).ok());
  bus::BurstSignal forged = s;
  forged.seq = 8;
  forged.forecast = 1e12;  // a forged signal would scale the job to its maximum
  ASSERT_TRUE((*producer)->send("iot-metadata", "gw-1", bus::encode(forged)).ok());

  // A heavily loaded job: seer (executors = load x k) asks for more than the 2 it has.
  int max_target = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (std::int64_t batch = 1; std::chrono::steady_clock::now() < deadline && max_target <= 2;
       ++batch) {
    bus::Progress p;
    p.app = "it";
    p.ts_ms = now;
    p.batch_id = batch;
    p.input_rows_per_s = 400'000;
    p.processed_rows_per_s = 150'000;
    p.batch_duration_ms = 900;
    p.num_input_rows = 200'000;
    p.offsets_behind = 500'000;
    p.executors_active = 2;
    // The job's plugin caps at 6 (the config says 12): the job's cap is used.
    p.min_executors = 1;
    p.max_executors = 6;
    ASSERT_TRUE((*producer)->send("iot-metrics", "it", bus::encode(p)).ok());
    (*producer)->poll(0);
    for (int i = 0; i < 5; ++i) {
      auto m = (*commands)->poll(50);
      ASSERT_TRUE(m.ok()) << m.error().message;
      if (!m->has_value()) continue;
      auto cmd = bus::decode_scale_to((*m)->payload);
      ASSERT_TRUE(cmd.ok()) << cmd.error().message;
      EXPECT_LE(cmd->target_executors, 6);
      EXPECT_GE(cmd->target_executors, 1);
      max_target = std::max(max_target, cmd->target_executors);
    }
  }
  EXPECT_GT(max_target, 2) << read_text(path("ctl.err"));

  const std::string metrics = http_get(port, "/metrics", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(metrics.find("prescale_controller_signals_total{verdict=\"accepted\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("prescale_controller_signals_total{verdict=\"bad_signature\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("prescale_controller_executors_target "), std::string::npos);
  EXPECT_NE(metrics.find("prescale_controller_executors_max 6\n"), std::string::npos) << metrics;
  http_get(port, "/healthz", &status);
  EXPECT_EQ(status, 200);

  ctl.signal(SIGTERM);
  EXPECT_EQ(ctl.wait(20), 0) << read_text(path("ctl.err"));
  const std::string err = read_text(path("ctl.err"));
  EXPECT_NE(err.find("scale_to "), std::string::npos);
  // Said once, in one line naming both values, however many progress messages repeat it.
  const std::string said =
      "max_executors 12 (" + path("c.yaml") + ":5) is above the plugin's cap 6";
  ASSERT_NE(err.find(said), std::string::npos) << err;
  EXPECT_EQ(err.find(said, err.find(said) + 1), std::string::npos) << err;
}

// Waits until `file` contains `what`; returns the text from `what` to the end of its line
// ("" on timeout).
std::string wait_for_line(const std::string& file, const std::string& what, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    const std::string text = read_text(file);
    if (auto at = text.find(what); at != std::string::npos)
      return text.substr(at, text.find('\n', at) - at);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

// The number after `key` in `text` ("... (epoch 12)" -> 12), or -1.
std::int64_t number_after(const std::string& text, const std::string& key) {
  const auto at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::strtoll(text.c_str() + at + key.size(), nullptr, 10);
}

// One controller per job: two controllers on the same job topics; one commands (one epoch),
// the other is a standby that says who holds the lease; a third on the first's HTTP port
// exits 2; kill -9 the holder and the standby takes over within 15 s with a larger epoch.
std::unique_ptr<Child> ControllerIntegration::start_lease_holder(const std::string& name) {
  const std::string job = "topics: {metadata: " + name + "-metadata, metrics: " + name +
                          "-metrics, control: " + name + "-control}\nlease: {id: ctl-" + name +
                          "}\n";
  auto ctl = std::make_unique<Child>(
      std::vector<std::string>{
          PRESCALE_BIN, "controller", "--config",
          write_config(name + ".yaml", stack_->brokers(), testing::free_port(), "seer", job)},
      "/dev/null", path(name + ".out"), path(name + ".err"));
  const std::string took =
      wait_for_line(path(name + ".err"), "active: this controller (ctl-" + name + ")", 30'000);
  if (took.empty()) {
    ADD_FAILURE() << "no lease within 30 s: " << read_text(path(name + ".err"));
    return nullptr;
  }
  if (number_after(took, "(epoch ") != 1) {  // a new lease topic: offset 0
    ADD_FAILURE() << "expected epoch 1: " << took;
    return nullptr;
  }
  return ctl;
}

TEST_F(ControllerIntegration, OneControllerPerJobAndAStandbyTakesOver) {
  const std::string job =
      "topics: {metadata: ha-metadata, metrics: ha-metrics, control: ha-control}\n";
  const int port_a = testing::free_port(), port_b = testing::free_port();
  Child a(
      {PRESCALE_BIN, "controller", "--config",
       write_config("ha-a.yaml", stack_->brokers(), port_a, "seer", job + "lease: {id: ctl-a}\n")},
      "/dev/null", path("ha-a.out"), path("ha-a.err"));
  const std::string took =
      wait_for_line(path("ha-a.err"), "active: this controller (ctl-a)", 30'000);
  ASSERT_NE(took, "") << read_text(path("ha-a.err"));
  const std::int64_t epoch_a = number_after(took, "(epoch ");
  ASSERT_GT(epoch_a, 0) << took;

  Child b(
      {PRESCALE_BIN, "controller", "--config",
       write_config("ha-b.yaml", stack_->brokers(), port_b, "hpa", job + "lease: {id: ctl-b}\n")},
      "/dev/null", path("ha-b.out"), path("ha-b.err"));
  const std::string standby =
      wait_for_line(path("ha-b.err"), "standby: controller ctl-a holds the lease", 30'000);
  EXPECT_NE(standby.find("(epoch " + std::to_string(epoch_a) + ", policy seer)"), std::string::npos)
      << read_text(path("ha-b.err"));

  // A third on the holder's HTTP port: a clear error naming the address, exit 2.
  Child c({PRESCALE_BIN, "controller", "--config",
           write_config("ha-c.yaml", stack_->brokers(), port_a, "hpa", job)},
          "/dev/null", path("ha-c.out"), path("ha-c.err"));
  EXPECT_EQ(c.wait(15), 2) << read_text(path("ha-c.err"));
  EXPECT_NE(read_text(path("ha-c.err"))
                .find("http: cannot listen on 127.0.0.1:" + std::to_string(port_a) + " (in use"),
            std::string::npos)
      << read_text(path("ha-c.err"));

  const bus::KafkaProps props{{"bootstrap.servers", stack_->brokers()}};
  auto commands =
      bus::Consumer::create(props, bus::Plane::kControl, {"ha-control"}, bus::StartAt::kLatest);
  ASSERT_TRUE(commands.ok()) << commands.error().message;
  auto producer = bus::Producer::create(props, bus::Plane::kControl);
  ASSERT_TRUE(producer.ok());
  // Progress of a loaded job every 100 ms; the commands seen meanwhile, by epoch.
  std::int64_t batch = 0;
  auto feed = [&](std::map<std::int64_t, int>* epochs, int ms, std::int64_t until_epoch_above) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      bus::Progress p;
      p.app = "ha";
      p.ts_ms = 1;
      p.batch_id = ++batch;
      p.input_rows_per_s = 400'000;
      p.processed_rows_per_s = 150'000;
      p.batch_duration_ms = 900;
      p.offsets_behind = 500'000;
      p.executors_active = 2;
      ASSERT_TRUE((*producer)->send("ha-metrics", "ha", bus::encode(p)).ok());
      for (int i = 0; i < 10; ++i) {
        auto m = (*commands)->poll(10);
        ASSERT_TRUE(m.ok()) << m.error().message;
        if (!m->has_value()) continue;
        auto cmd = bus::decode_scale_to((*m)->payload);
        ASSERT_TRUE(cmd.ok()) << cmd.error().message;
        ++(*epochs)[cmd->epoch];
        if (cmd->epoch > until_epoch_above) return;
      }
    }
  };
  std::map<std::int64_t, int> before;
  feed(&before, 3000, INT64_MAX);
  ASSERT_EQ(before.size(), 1u) << "commands of more than one epoch while both run";
  EXPECT_EQ(before.begin()->first, epoch_a);
  EXPECT_GE(before.begin()->second, 5);  // a tick every 200 ms

  int status = 0;
  const std::string healthz_b = http_get(port_b, "/healthz", &status);
  EXPECT_NE(healthz_b.find("standby: controller ctl-a holds the lease"), std::string::npos)
      << healthz_b;
  EXPECT_NE(http_get(port_b, "/metrics", &status).find("prescale_controller_active 0\n"),
            std::string::npos);
  const std::string metrics_a = http_get(port_a, "/metrics", &status);
  EXPECT_NE(metrics_a.find("prescale_controller_active 1\n"), std::string::npos) << metrics_a;
  EXPECT_NE(metrics_a.find("prescale_controller_epoch " + std::to_string(epoch_a) + "\n"),
            std::string::npos);

  // The holder dies without leaving the group: the session timeout (6 s) evicts it.
  a.signal(SIGKILL);
  EXPECT_EQ(a.wait(5), 128 + SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  std::map<std::int64_t, int> after;
  feed(&after, 15'000, epoch_a);
  const double took_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  ASSERT_FALSE(after.empty());
  const std::int64_t epoch_b = after.rbegin()->first;
  EXPECT_GT(epoch_b, epoch_a) << "no command of a newer epoch within 15 s of the kill\n"
                              << read_text(path("ha-b.err"));
  EXPECT_LT(took_s, 15.0);
  std::printf("failover: the standby's first command %.1f s after kill -9 (epoch %lld -> %lld)\n",
              took_s, static_cast<long long>(epoch_a), static_cast<long long>(epoch_b));
  EXPECT_NE(read_text(path("ha-b.err"))
                .find("active: this controller (ctl-b) holds the lease (epoch " +
                      std::to_string(epoch_b) + ", after controller ctl-a (epoch " +
                      std::to_string(epoch_a) + "))"),
            std::string::npos)
      << read_text(path("ha-b.err"));
  EXPECT_NE(http_get(port_b, "/metrics", &status).find("prescale_controller_active 1\n"),
            std::string::npos);
  b.signal(SIGTERM);
  EXPECT_EQ(b.wait(20), 0) << read_text(path("ha-b.err"));
}

// A lease topic recreated while the job runs: the controller's first epoch on the new topic
// is 1, the job's plugin applies 50 (its progress says so). Within a session timeout (6 s)
// plus a few ticks the controller claims above 50, and its commands carry the new epoch.
TEST_F(ControllerIntegration, ClaimsAboveTheJobsEpochOnARecreatedLeaseTopic) {
  auto ctl = start_lease_holder("rc");
  ASSERT_TRUE(ctl);

  const bus::KafkaProps props{{"bootstrap.servers", stack_->brokers()}};
  auto commands =
      bus::Consumer::create(props, bus::Plane::kControl, {"rc-control"}, bus::StartAt::kLatest);
  ASSERT_TRUE(commands.ok()) << commands.error().message;
  auto producer = bus::Producer::create(props, bus::Plane::kControl);
  ASSERT_TRUE(producer.ok());
  // The job's progress every 100 ms, saying its plugin applies epoch 50; the highest epoch
  // of the commands seen.
  std::int64_t highest = 0, batch = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(20) && highest <= 50) {
    bus::Progress p;
    p.app = "rc";
    p.ts_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    p.batch_id = ++batch;
    p.input_rows_per_s = 100'000;
    p.processed_rows_per_s = 100'000;
    p.batch_duration_ms = 500;
    p.executors_active = 2;
    p.lease_epoch = 50;
    ASSERT_TRUE((*producer)->send("rc-metrics", "rc", bus::encode(p)).ok());
    (*producer)->poll(0);
    for (auto m = (*commands)->poll(100); m.ok() && m->has_value(); m = (*commands)->poll(0))
      if (auto cmd = bus::decode_scale_to((**m).payload); cmd.ok())
        highest = std::max(highest, cmd->epoch);
  }
  const double took_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(highest, 50) << read_text(path("rc.err"));
  EXPECT_LT(took_s, 15.0);
  const std::string err = read_text(path("rc.err"));
  EXPECT_NE(err.find("lease: the job applies epoch 50, above this controller's 1"),
            std::string::npos)
      << err;
  // What a command sent beside the controller (the race's reset) reads as the holder's
  // epoch: the last record's, with its base, not the topic's end offset (2).
  auto newest = control::newest_lease_epoch(props, "rc-control-lease", 5000);
  ASSERT_TRUE(newest.ok()) << newest.error().message;
  EXPECT_EQ(*newest, highest);
  ctl->signal(SIGTERM);
  EXPECT_EQ(ctl->wait(20), 0) << read_text(path("rc.err"));
}

// The lease topic deleted and created again under a running holder (by an operator, or a
// broker's auto-creation): the holder notices that the offsets restarted (or finds the topic
// missing and creates it itself) and claims on the new topic above its old epoch.
TEST_F(ControllerIntegration, ClaimsAgainWhenItsLeaseTopicIsDeletedAndCreatedAgain) {
  auto ctl = start_lease_holder("dl");
  ASSERT_TRUE(ctl);

  const bus::KafkaProps props{{"bootstrap.servers", stack_->brokers()}};
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(bus::delete_topics(props, {"dl-control-lease"}, 10'000).ok());
  // Kafka deletes asynchronously: creating it again can fail for a moment.
  core::Status created = core::Error{"not tried"};
  for (int i = 0; i < 100 && !created.ok(); ++i) {
    created = bus::ensure_topics(props, {{"dl-control-lease", 1}}, 5000);
    if (!created.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(created.ok()) << created.message();
  const std::string again = wait_for_line(path("dl.err"), "holds the lease (epoch 2", 30'000);
  const double took_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_NE(again, "") << read_text(path("dl.err"));
  std::printf("claimed again %.1f s after the deletion\n", took_s);
  EXPECT_LT(took_s, 20.0);
  const std::string err = read_text(path("dl.err"));
  // Either the test's creation came first (offsets restarted) or the controller's own.
  EXPECT_NE(err.find("lease: the lease topic was deleted; "), std::string::npos) << err;
  EXPECT_NE(err.find("; claiming the lease on it above epoch 1"), std::string::npos) << err;
  std::printf("%s\n", err.find("created by someone else") != std::string::npos
                          ? "noticed by its offsets (the test created it first)"
                          : "found missing and created by the controller");
  auto newest = control::newest_lease_epoch(props, "dl-control-lease", 5000);
  ASSERT_TRUE(newest.ok()) << newest.error().message;
  EXPECT_EQ(*newest, 2);  // base 1 + offset 0 + 1, on the new topic
  ctl->signal(SIGTERM);
  EXPECT_EQ(ctl->wait(20), 0) << read_text(path("dl.err"));
}

TEST_F(ControllerIntegration, KeepsRunningWhileKafkaIsUnreachable) {
  const int port = testing::free_port();
  const std::string dead = "127.0.0.1:" + std::to_string(testing::free_port());
  Child ctl({PRESCALE_BIN, "controller", "--config", write_config("dead.yaml", dead, port)},
            "/dev/null", path("dead.out"), path("dead.err"));
  int status = 0;
  for (int i = 0; i < 100 && status != 503; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    http_get(port, "/healthz", &status);
  }
  EXPECT_EQ(status, 503);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  http_get(port, "/healthz", &status);
  EXPECT_EQ(status, 503);  // still up, still saying why
  EXPECT_NE(read_text(path("dead.err")).find("retrying in"), std::string::npos)
      << read_text(path("dead.err"));
  ctl.signal(SIGTERM);
  EXPECT_EQ(ctl.wait(20), 0) << read_text(path("dead.err"));
}

}  // namespace
}  // namespace prescale
