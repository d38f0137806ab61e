#include "control/controller.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "control/daemon.h"
#include "control/lease.h"
#include "core/files.h"
#include "sim/scenario.h"

namespace prescale::control {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("prescale-control-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path) << text;
  return path.string();
}

const std::string kKeyHex(64, 'a');

std::string keys_file() { return write_temp("keys.txt", "gw-1 " + kKeyHex + "\n"); }

std::string config_text(const std::string& policy, const std::string& extra = "") {
  return "policy: " + policy +
         "\nscenario: seed\ntick_ms: 5000\nmin_executors: 1\nmax_executors: 10\n"
         "initial_executors: 2\nmetrics_stale_ms: 20000\nscale_down_stabilization_ms: 15000\n"
         "keys_file: " +
         keys_file() + "\nkafka:\n  bootstrap.servers: 127.0.0.1:9092\n  acks: all\n" + extra;
}

std::unique_ptr<Controller> make(const std::string& policy) {
  auto cfg = load_config(write_temp("c.yaml", config_text(policy)));
  EXPECT_TRUE(cfg.ok()) << cfg.error().message;
  auto c = make_controller(*cfg);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return std::move(*c);
}

std::string progress(std::int64_t batch, double input_rps, double batch_ms, int executors,
                     std::int64_t behind = 0) {
  bus::Progress p;
  p.app = "iot";
  p.ts_ms = 1;
  p.batch_id = batch;
  p.input_rows_per_s = input_rps;
  p.processed_rows_per_s = input_rps;
  p.batch_duration_ms = batch_ms;
  p.num_input_rows = 10;
  p.offsets_behind = behind;
  p.executors_active = executors;
  return bus::encode(p);
}

std::vector<unsigned char> key() { return std::vector<unsigned char>(32, 0xaa); }

bus::BurstSignal signal(std::uint64_t seq, std::int64_t ts, bool burst, double forecast) {
  bus::BurstSignal s;
  s.device = "gw-1";
  s.seq = seq;
  s.ts_ms = ts;
  s.horizon_s = 60;
  s.forecast = forecast;
  s.baseline = 100;
  s.burst = burst;
  s.confidence = burst ? 0.9 : 0;
  bus::sign(&s, key());
  return s;
}

TEST(ControllerConfig, LoadsEveryFieldAndPassesKafkaThrough) {
  auto c = load_config(
      write_temp("full.yaml", config_text("hpa",
                                          "context: healthcare\nhttp:\n  port: 0\ntopics:\n  "
                                          "control: ctl-x\n")));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->policy, "hpa");
  EXPECT_EQ(c->context, core::BusinessContext::kHealthcare);
  EXPECT_EQ(c->max_executors, 10);
  EXPECT_EQ(c->http_port, 0);
  EXPECT_EQ(c->control_topic, "ctl-x");
  EXPECT_EQ(c->metadata_topic, "iot-metadata");
  EXPECT_EQ(c->kafka.at("acks"), "all");
  EXPECT_EQ(c->http_listen, "127.0.0.1");  // loopback unless configured
}

struct BadConfig {
  std::string text, fragment, second_fragment = "";
};

class BadConfigs : public testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigs, NameTheFileLineAndField) {
  const std::string path = write_temp("bad.yaml", GetParam().text);
  auto c = load_config(path);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find(GetParam().fragment), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find(GetParam().second_fragment), std::string::npos)
      << c.error().message;
  EXPECT_EQ(c.error().message.rfind(path, 0), 0u) << c.error().message;
  EXPECT_LT(c.error().message.size(), 600u);  // values are echoed truncated
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadConfigs,
    testing::Values(
        BadConfig{"policy: [hpa\n", "malformed YAML"},
        BadConfig{"policy: hpa\ntick_ms: fast\n", ":2: tick_ms: got 'fast', expected an integer"},
        BadConfig{"policy: hpa\nticks: 5\n", ":2: ticks: unknown field; expected one of: policy"},
        BadConfig{"context: urgent\n", ":1: context: got 'urgent', expected healthcare|balanced"},
        BadConfig{"tick_ms: 1\nkeys_file: k\nkafka: {bootstrap.servers: x}\n",
                  ":1: tick_ms: got '1', expected an integer in [10, 3600000]"},
        BadConfig{"min_executors: 5\nmax_executors: 2\n",
                  ":2: max_executors: 2 is below min_executors (5)"},
        BadConfig{"kafka: {bootstrap.servers: x}\n", "keys_file: missing"},
        BadConfig{"keys_file: k\n", "kafka: bootstrap.servers: missing"},
        BadConfig{"tier_metrics_url: ftp://t/metrics\nkeys_file: k\nkafka: "
                  "{bootstrap.servers: x}\n",
                  ":1: tier_metrics_url: got 'ftp://t/metrics', expected http://HOST:PORT/PATH"},
        // yaml-cpp used to throw out of the loader on each of these three (abort, exit 134).
        BadConfig{"policy: hpa\ntopics: x\n", ":2: topics: got 'x', expected a mapping"},
        BadConfig{"policy: hpa\nhttp: 5\n", ":2: http: got '5', expected a mapping"},
        BadConfig{"policy: hpa\n[a, b]: 1\n",
                  ":2: expected a plain name as the key, got a sequence"},
        BadConfig{"policy: hpa\nkafka: {bootstrap.servers: x, acks: 1, acks: all}\n",
                  ":2: 'acks': duplicate key"},
        BadConfig{"policy: hpa\nrecord_bytes: .nan\n", ":2: record_bytes: got '.nan'"},
        BadConfig{"policy: hpa\nsla_ms: .inf\n", ":2: sla_ms: got '.inf'"},
        BadConfig{"policy: hpa\nmax_executors: 100000\n", ":2: max_executors: got '100000'"},
        BadConfig{"policy: hpa\ntick_ms: " + std::string(1'000'000, '9') + "\n",
                  ":2: tick_ms: got '99999", "(1000000 bytes)', expected an integer"},
        // The line of the policy, and a list without the oracle, which is refused.
        BadConfig{"keys_file: k\npolicy: magic\n",
                  ":2: policy: got 'magic', expected one of: fixed, hpa"},
        BadConfig{"keys_file: k\npolicy: oracle\n", ":2: policy: got 'oracle'"},
        // librdkafka's own message, with the property's line; never the value (a secret?).
        BadConfig{"keys_file: k\nkafka:\n  bootstrap.servers: x\n  no.such.property: 1\n",
                  ":4: kafka.no.such.property: kafka: property 'no.such.property'"},
        BadConfig{"keys_file: k\nkafka:\n  bootstrap.servers: x\n  security.protocol: sekret\n",
                  ":4: kafka.security.protocol: kafka: property 'security.protocol'"},
        // The lease: a heartbeat must come well within the session.
        BadConfig{"policy: hpa\nlease:\n  session_timeout_ms: 6000\n  heartbeat_interval_ms: "
                  "6000\n",
                  ":4: lease.heartbeat_interval_ms: 6000 is not below session_timeout_ms (6000)"},
        BadConfig{"policy: hpa\nlease:\n  session_timeout_ms: 10\n",
                  ":3: lease.session_timeout_ms: got '10', expected an integer in [1000, "},
        BadConfig{"policy: hpa\nlease:\n  group: [a]\n", ":3: lease.group: got a sequence"},
        BadConfig{"policy: hpa\nlease:\n  topic: " + std::string(300, 't') + "\n",
                  ":3: lease.topic: got 'ttt", "expected at most 249 characters"},
        BadConfig{"policy: hpa\nlease:\n  epoch: 3\n", ":3: lease.epoch: unknown field"}));

TEST(ControllerConfig, TheLeaseDefaultsFollowTheControlTopic) {
  auto c = load_config(write_temp("lease.yaml", config_text("hpa", "topics:\n  control: ctl-x\n")));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(lease_group(*c), "prescale-controller.ctl-x");
  EXPECT_EQ(lease_topic(*c), "ctl-x-lease");
  EXPECT_EQ(c->lease_session_timeout_ms, 6000);
  EXPECT_EQ(c->lease_heartbeat_interval_ms, 1000);
  EXPECT_EQ(controller_id(*c), controller_id(*c));
  EXPECT_NE(controller_id(*c).find(":" + std::to_string(::getpid())), std::string::npos);
  auto d = load_config(
      write_temp("lease2.yaml", config_text("hpa",
                                            "lease:\n  group: job-7\n  topic: job-7-lease\n  id: "
                                            "ctl-a\n  session_timeout_ms: 10000\n  "
                                            "heartbeat_interval_ms: 2500\n")));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(lease_group(*d), "job-7");
  EXPECT_EQ(lease_topic(*d), "job-7-lease");
  EXPECT_EQ(controller_id(*d), "ctl-a");
  EXPECT_EQ(d->lease_session_timeout_ms, 10000);
  EXPECT_EQ(d->lease_heartbeat_interval_ms, 2500);
}

TEST(ControllerConfig, ThePolicyListOffersNoOracle) {
  auto c = load_config(write_temp("magic.yaml", config_text("magic")));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.find("oracle"), std::string::npos) << c.error().message;
}

TEST(ControllerConfig, ErrorsNeverEchoAKafkaValue) {
  auto d = load_config(write_temp("secret2.yaml",
                                  "policy: hpa\nkeys_file: k\nkafka:\n  bootstrap.servers: x\n  "
                                  "security.protocol: hunter2-secret\n"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message.find("hunter2"), std::string::npos) << d.error().message;
}

// kafka_file: the secrets in a key=value file beside the configuration (bus::read_props_file),
// merged with kafka:; its relative paths are resolved beside the configuration too.
TEST(ControllerConfig, KafkaFileAddsPropertiesAndNeverEchoesThem) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("prescale-control-kafka-file-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "secret");
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream((dir / name).string()) << text;
    std::filesystem::permissions(
        dir / name, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return (dir / name).string();
  };
  write("secret/kafka.properties",
        "# SASL\nsasl.password=hunter2\nssl.key.location = client.key\n");
  const std::string kafka = "kafka:\n  bootstrap.servers: x\n  sasl.username: ctl\n";
  auto cfg = load_config(write(
      "c.yaml", "policy: hpa\nkeys_file: k\n" + kafka + "kafka_file: secret/kafka.properties\n"));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->kafka.at("sasl.password"), "hunter2");
  EXPECT_EQ(cfg->kafka.at("sasl.username"), "ctl");
  EXPECT_EQ(cfg->kafka.at("ssl.key.location"), (dir / "client.key").string());

  struct Bad {
    std::string properties, expected;
  };
  for (const auto& b : std::vector<Bad>{
           {"sasl.password=hunter2\nsasl.username=hunter2\n",
            "c.yaml:6: kafka_file: " + (dir / "secret/kafka.properties").string() +
                ":2: sasl.username: also set in kafka:"},
           {"sasl.pasword=hunter2\n",
            "c.yaml:6: kafka_file: " + (dir / "secret/kafka.properties").string() +
                ":1: kafka: property 'sasl.pasword'"},
           {"hunter2\n", ":1: expected key=value"},
       }) {
    write("secret/kafka.properties", b.properties);
    auto r = load_config((dir / "c.yaml").string());
    ASSERT_FALSE(r.ok()) << b.properties;
    EXPECT_NE(r.error().message.find(b.expected), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
  }
  auto missing = load_config(
      write("m.yaml", "policy: hpa\nkeys_file: k\n" + kafka + "kafka_file: nonesuch.properties\n"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("m.yaml:6: kafka_file: " +
                                         (dir / "nonesuch.properties").string() + ": cannot open"),
            std::string::npos)
      << missing.error().message;
  std::filesystem::remove_all(dir);
}

TEST(Controller, PropertiesThatMakeNoClientAreAConfigError) {
  auto cfg =
      load_config(write_temp("ca.yaml", config_text("hpa",
                                                    "  security.protocol: ssl\n  ssl.ca.location: "
                                                    "/nonexistent/ca.pem\n")));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;  // each property alone is valid
  auto c = make_controller(*cfg);
  ASSERT_FALSE(c.ok());  // exit 2 at start-up, not retried forever
  EXPECT_NE(c.error().message.find(".yaml:10: kafka: the properties do not make a client"),
            std::string::npos)
      << c.error().message;
}

TEST(Controller, TheOracleIsRefused) {
  auto cfg = load_config(write_temp("o.yaml", config_text("oracle")));
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find(":1: policy: got 'oracle'"), std::string::npos);
  EXPECT_NE(cfg.error().message.find("the oracle needs the future"), std::string::npos);
}

TEST(Controller, HoldsWithoutFreshMetrics) {
  auto c = make("hpa");
  auto cmd = c->tick(1'000'000);  // nothing received yet
  EXPECT_EQ(cmd.target_executors, 2);
  EXPECT_EQ(cmd.reason, "hold: waiting for the job's first metrics (0 s since start)");
  // Past metrics_stale_ms with nothing at all: said as such, not as "stale".
  auto none = make("hpa");
  (void)none->tick(1'000'000);
  EXPECT_EQ(none->tick(1'045'000).reason, "hold: no metrics from the job since start (45 s)");
  // Busy for the whole trigger: hpa scales up at its next 15 s sync.
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(c->on_progress(progress(i, 50'000, 2000, 2), 1'000'000 + i * 5000 - 1000));
    cmd = c->tick(1'000'000 + i * 5000);
  }
  EXPECT_GT(cmd.target_executors, 2);
  EXPECT_EQ(cmd.reason.rfind("hpa: ", 0), 0u) << cmd.reason;
  const int up = cmd.target_executors;
  cmd = c->tick(1'040'000);  // 21 s after the last progress: stale -> hold
  EXPECT_EQ(cmd.target_executors, up);
  EXPECT_EQ(cmd.reason, "hold: no fresh metrics (last 21 s ago, limit 20 s)");
  EXPECT_EQ(c->stats().holds_stale, 2u);
  EXPECT_GT(cmd.seq, 0u);
}

TEST(Controller, NeverLeavesTheConfiguredBounds) {
  auto c = make("fixed");  // the seed scenario's fixed policy asks for 15 executors
  ASSERT_TRUE(c->on_progress(progress(1, 1000, 100, 2), 0));
  EXPECT_EQ(c->tick(1000).target_executors, 10);  // max_executors
}

TEST(Controller, ScaleDownIsStabilisedAndSequenceIncreases) {
  auto c = make("seer");  // executors = load x k, no memory of its own
  ASSERT_TRUE(c->on_progress(progress(1, 2'000'000, 400, 4), 0));
  auto high = c->tick(5'000);
  ASSERT_GT(high.target_executors, 4);
  ASSERT_TRUE(c->on_progress(progress(2, 10'000, 10, high.target_executors), 6'000));
  auto held = c->tick(10'000);  // the high recommendation is 5 s old: still in the window
  EXPECT_EQ(held.target_executors, high.target_executors);
  EXPECT_NE(held.reason.find("stabilised"), std::string::npos) << held.reason;
  EXPECT_GT(held.seq, high.seq);
  ASSERT_TRUE(c->on_progress(progress(3, 10'000, 10, high.target_executors), 20'000));
  auto low = c->tick(25'000);  // 20 s later: out of the 15 s window
  EXPECT_LT(low.target_executors, high.target_executors);
  // An older batch after a newer one is ignored.
  EXPECT_FALSE(c->on_progress(progress(2, 9e6, 5000, 1), 26'000));
}

TEST(Controller, OnlyTheLeaseHolderCommandsAndItsCommandsCarryTheEpoch) {
  auto c = make("seer");
  ASSERT_TRUE(c->on_progress(progress(1, 2'000'000, 400, 2), 0));
  // A standby decides in the shadow: no epoch, a "standby: " reason, and the job's target
  // (what it was last told) unchanged.
  c->set_lease({false, 0, 7, "standby: controller b:1 holds the lease (epoch 7)"});
  auto shadow = c->tick(1000);
  EXPECT_EQ(shadow.epoch, 0);
  EXPECT_EQ(shadow.reason.rfind("standby: seer", 0), 0u) << shadow.reason;
  EXPECT_GT(shadow.target_executors, 2);  // what it would command
  EXPECT_EQ(c->stats().target, 2);        // what the job was told
  EXPECT_EQ(c->stats().commands, 0u);
  EXPECT_EQ(c->stats().standby_ticks, 1u);
  std::string prom = c->prometheus();
  EXPECT_NE(prom.find("prescale_controller_active 0\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("prescale_controller_epoch 7\n"), std::string::npos) << prom;
  // It follows the holder's commands: the job's target is theirs; an older epoch is not.
  bus::ScaleTo theirs;
  theirs.seq = 5;
  theirs.target_executors = 3;
  theirs.epoch = 7;
  EXPECT_TRUE(c->on_command(bus::encode(theirs)));
  EXPECT_EQ(c->stats().target, 3);
  theirs.epoch = 6;
  theirs.target_executors = 1;
  EXPECT_FALSE(c->on_command(bus::encode(theirs)));
  EXPECT_FALSE(c->on_command("{\"v\":1}"));
  theirs.epoch = 7;
  theirs.target_executors = 99;  // clamped to the bounds, as its own would be
  EXPECT_TRUE(c->on_command(bus::encode(theirs)));
  EXPECT_EQ(c->stats().target, 10);
  EXPECT_EQ(c->stats().commands_followed, 2u);
  // Stale metrics on a standby: the hold is the holder's last target, not sent either.
  auto hold = c->tick(60'000);
  EXPECT_EQ(hold.target_executors, 10);
  EXPECT_EQ(hold.reason.rfind("standby: hold: ", 0), 0u) << hold.reason;
  // Holding the lease (epoch 1,234,567,890,123): commands with it.
  c->set_lease({true, 1'234'567'890'123, 1'234'567'890'123, "active (epoch 1234567890123)"});
  ASSERT_TRUE(c->on_progress(progress(2, 2'000'000, 400, 3), 61'000));
  auto cmd = c->tick(62'000);
  EXPECT_EQ(cmd.epoch, 1'234'567'890'123);
  EXPECT_EQ(cmd.reason.rfind("seer", 0), 0u) << cmd.reason;
  EXPECT_EQ(c->stats().target, cmd.target_executors);
  EXPECT_EQ(c->stats().commands, 1u);
  EXPECT_GT(cmd.seq, hold.seq);
  prom = c->prometheus();
  EXPECT_NE(prom.find("prescale_controller_active 1\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("prescale_controller_epoch 1234567890123\n"), std::string::npos) << prom;
}

TEST(Controller, PoliciesSeeTheScenariosLatencyTargetUnlessConfigured) {
  // Found live: without this the policies judged latency against Observation's default
  // 1 s, so rl saw a violation on every tick and ignored the edge signal.
  std::string text = config_text("rl");
  text.replace(text.find("scenario: seed"), 14, "scenario: live");
  auto live = load_config(write_temp("live.yaml", text));
  ASSERT_TRUE(live.ok()) << live.error().message;
  auto c = std::move(make_controller(*live).value());
  c->tick(1000);
  const double sla = sim::load_scenario("live")->latency.sla_ms;
  ASSERT_NE(sla, core::Observation{}.sla_ms);  // or this test could not fail
  EXPECT_DOUBLE_EQ(c->last_observation().sla_ms, sla);
  auto cfg = load_config(write_temp("sla.yaml", config_text("rl", "sla_ms: 12000\n")));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  auto c2 = std::move(make_controller(*cfg).value());
  c2->tick(1000);
  EXPECT_DOUBLE_EQ(c2->last_observation().sla_ms, 12'000);
}

TEST(Controller, LatencyIsTheJobsMeasureWhenLargerThanTheEstimate) {
  auto c = make("hpa");
  ASSERT_TRUE(c->on_progress(progress(1, 1000, 400, 2, /*behind=*/500), 0));
  c->tick(1000);
  EXPECT_DOUBLE_EQ(c->last_observation().latency_ms, 400 + 1000.0 * 500 / 1000);  // estimate
  bus::Progress p = bus::decode_progress(progress(2, 1000, 400, 2)).value();
  p.event_latency_ms = 7'500;  // the oldest reading waited for the trigger, then the batch
  ASSERT_TRUE(c->on_progress(bus::encode(p), 2000));
  c->tick(3000);
  EXPECT_DOUBLE_EQ(c->last_observation().latency_ms, 7'500);
}

TEST(Controller, OnlyAuthenticSignalsReachThePolicy) {
  auto c = make("hpa");
  const std::int64_t now = 1'764'000'000'000;
  ASSERT_TRUE(c->on_progress(progress(1, 1000, 100, 2), now));
  EXPECT_TRUE(c->on_signal(bus::encode(signal(1, now, true, 5000)), now));
  bus::BurstSignal forged = signal(2, now, true, 1e9);
  forged.forecast = 2e9;  // tampered after signing
  EXPECT_FALSE(c->on_signal(bus::encode(forged), now));
  EXPECT_FALSE(c->on_signal(bus::encode(signal(1, now, true, 5000)), now));  // replay
  bus::BurstSignal unsigned_s = signal(3, now, true, 1e9);
  unsigned_s.sig.clear();
  EXPECT_FALSE(c->on_signal(bus::encode(unsigned_s), now));
  EXPECT_FALSE(c->on_signal("{\"v\":1,\"type\":\"burst_signal\"}", now));
  c->tick(now + 1000);
  const auto& o = c->last_observation();
  EXPECT_TRUE(o.burst_signal);
  EXPECT_EQ(o.forecast_rps, 5000);  // the forged 2e9 never arrived
  EXPECT_DOUBLE_EQ(o.signal_confidence, 0.9);
  const std::string m = c->prometheus();
  EXPECT_NE(m.find("prescale_controller_signals_total{verdict=\"accepted\"} 1"), std::string::npos)
      << m;
  EXPECT_NE(m.find("{verdict=\"bad_signature\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("{verdict=\"replayed\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("{verdict=\"unsigned\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("{verdict=\"malformed\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("prescale_controller_executors_target "), std::string::npos);
  // A signal older than signal_stale_ms no longer counts.
  c->tick(now + 200'000);
  EXPECT_FALSE(c->last_observation().burst_signal);
}

}  // namespace
}  // namespace prescale::control

namespace prescale::control {
namespace {

// ---- Start-up checks: what the job publishes about itself against the configuration ----

bus::Progress job_progress(std::int64_t batch, int min, int max, double rpm, double input_rps = 2,
                           int executors = 1) {
  bus::Progress p = bus::decode_progress(progress(batch, input_rps, 100, executors)).value();
  p.min_executors = min;
  p.max_executors = max;
  p.records_per_message = rpm;
  return p;
}

ControllerConfig facts_config(const std::string& extra) {
  auto c = parse_config(
      "policy: hpa\nmin_executors: 1\nmax_executors: 20\nrecords_per_message: "
      "1\nkeys_file: k\nkafka: {bootstrap.servers: x}\n" +
          extra,
      "/etc/prescale/controller.yaml");
  EXPECT_TRUE(c.ok()) << c.error().message;
  return *c;
}

TEST(JobFacts, ALooserConfigGivesWayToThePluginsCapInOneLineNamingBothValues) {
  JobFacts f(facts_config(""));
  EXPECT_EQ(f.max_executors(), 20);  // nothing published yet: the configuration's
  auto u = f.update(job_progress(1, 1, 6, 0));
  EXPECT_TRUE(u.bounds_changed);
  EXPECT_EQ(u.line,
            "the job disagrees with the configuration: max_executors 20 "
            "(/etc/prescale/controller.yaml:3) is above the plugin's cap 6 "
            "(spark.prescale.maxExecutors); using the job's: executors [1, 6], 1 readings per "
            "message");
  EXPECT_EQ(f.min_executors(), 1);
  EXPECT_EQ(f.max_executors(), 6);
  // Every progress repeats the bounds: said once, not on every batch.
  u = f.update(job_progress(2, 1, 6, 0));
  EXPECT_EQ(u.line, "");
  EXPECT_FALSE(u.bounds_changed);
  // The job restarted with another cap: said again.
  u = f.update(job_progress(3, 1, 8, 0));
  EXPECT_TRUE(u.bounds_changed);
  EXPECT_NE(u.line.find("is above the plugin's cap 8"), std::string::npos) << u.line;
  EXPECT_EQ(f.max_executors(), 8);
}

TEST(JobFacts, AStricterConfigIsKeptWithoutAWord) {
  auto strict = parse_config(
      "policy: hpa\nmin_executors: 2\nmax_executors: 3\nkeys_file: k\nkafka: {bootstrap.servers: "
      "x}\n",
      "c.yaml");
  ASSERT_TRUE(strict.ok()) << strict.error().message;
  JobFacts s(*strict);
  auto u = s.update(job_progress(1, 1, 6, 0));
  EXPECT_EQ(u.line, "");
  EXPECT_FALSE(u.bounds_changed);
  EXPECT_EQ(s.min_executors(), 2);
  EXPECT_EQ(s.max_executors(), 3);
}

TEST(JobFacts, BoundsOutsideThePluginsRangeMeetItAtItsEdge) {
  auto low = parse_config(
      "policy: hpa\nmin_executors: 0\nmax_executors: 1\ninitial_executors: 0\nkeys_file: "
      "k\nkafka: {bootstrap.servers: x}\n",
      "c.yaml");
  ASSERT_TRUE(low.ok()) << low.error().message;
  JobFacts a(*low);
  auto u = a.update(job_progress(1, 2, 6, 0));
  EXPECT_NE(u.line.find("max_executors 1 (c.yaml:3) is below the plugin's minimum 2"),
            std::string::npos)
      << u.line;
  EXPECT_NE(u.line.find("min_executors 0 (c.yaml:2) is below the plugin's minimum 2"),
            std::string::npos)
      << u.line;
  EXPECT_EQ(a.min_executors(), 2);
  EXPECT_EQ(a.max_executors(), 2);
  auto high = parse_config(
      "policy: hpa\nmin_executors: 8\nmax_executors: 10\ninitial_executors: 8\nkeys_file: "
      "k\nkafka: {bootstrap.servers: x}\n",
      "c.yaml");
  ASSERT_TRUE(high.ok()) << high.error().message;
  JobFacts b(*high);
  u = b.update(job_progress(1, 1, 6, 0));
  EXPECT_NE(u.line.find("min_executors 8 (c.yaml:2) is above the plugin's cap 6"),
            std::string::npos)
      << u.line;
  EXPECT_EQ(b.min_executors(), 6);
  EXPECT_EQ(b.max_executors(), 6);
}

TEST(JobFacts, TheJobsBatchingIsUsedAndADisagreementIsSaidOnce) {
  JobFacts f(facts_config(""));
  EXPECT_DOUBLE_EQ(f.readings(2), 2);  // the configuration's 1 until the job says
  auto u = f.update(job_progress(1, 0, 0, 500));
  EXPECT_FALSE(u.bounds_changed);
  EXPECT_EQ(u.line,
            "the job disagrees with the configuration: records_per_message 1 "
            "(/etc/prescale/controller.yaml:4), but the job counts 500 readings per Kafka "
            "message; using the job's: executors [1, 20], 500 readings per message");
  EXPECT_DOUBLE_EQ(f.readings(2), 1000);
  // The measure moves with the gateways' batches: used, not said again.
  EXPECT_EQ(f.update(job_progress(2, 0, 0, 37.5)).line, "");
  EXPECT_DOUBLE_EQ(f.readings(2), 75);
  // A batch without rows measures nothing: the last measure stays.
  EXPECT_EQ(f.update(job_progress(3, 0, 0, 0)).line, "");
  EXPECT_DOUBLE_EQ(f.readings_per_message(), 37.5);
  // Within 10% of the configuration: no disagreement.
  auto five_hundred = parse_config(
      "records_per_message: 500\nkeys_file: k\nkafka: {bootstrap.servers: x}\n", "c.yaml");
  ASSERT_TRUE(five_hundred.ok()) << five_hundred.error().message;
  JobFacts g(*five_hundred);
  EXPECT_EQ(g.update(job_progress(1, 0, 0, 470)).line, "");
  EXPECT_DOUBLE_EQ(g.readings(1), 470);
}

TEST(JobFacts, BothDisagreementsOfOneProgressAreOneLine) {
  JobFacts f(facts_config(""));
  const auto u = f.update(job_progress(1, 1, 6, 500));
  EXPECT_EQ(std::count(u.line.begin(), u.line.end(), '\n'), 0);
  EXPECT_NE(u.line.find("max_executors 20 (/etc/prescale/controller.yaml:3) is above the "
                        "plugin's cap 6"),
            std::string::npos)
      << u.line;
  EXPECT_NE(u.line.find("records_per_message 1 (/etc/prescale/controller.yaml:4), but the job "
                        "counts 500"),
            std::string::npos)
      << u.line;
  EXPECT_NE(u.line.find("using the job's: executors [1, 6], 500 readings per message"),
            std::string::npos)
      << u.line;
}

TEST(Controller, UsesTheJobsBoundsAndBatchingOnceItPublishesThem) {
  auto c = make("fixed");  // the seed scenario's fixed policy asks for 15 executors
  ASSERT_TRUE(c->on_progress(bus::encode(job_progress(1, 1, 6, 500, /*input_rps=*/2)), 0));
  const auto notices = c->take_notices();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("max_executors 10 ("), std::string::npos) << notices[0];
  EXPECT_NE(notices[0].find(":5) is above the plugin's cap 6"), std::string::npos) << notices[0];
  EXPECT_TRUE(c->take_notices().empty());                   // taken
  EXPECT_EQ(c->tick(1000).target_executors, 6);             // not 10: the plugin would clamp it
  EXPECT_DOUBLE_EQ(c->last_observation().input_rps, 1000);  // 2 messages/s x 500
  const std::string m = c->prometheus();
  EXPECT_NE(m.find("prescale_controller_executors_max 6\n"), std::string::npos) << m;
  EXPECT_NE(m.find("prescale_controller_readings_per_message 500\n"), std::string::npos) << m;
  // The same facts again: nothing more to say.
  ASSERT_TRUE(c->on_progress(bus::encode(job_progress(2, 1, 6, 500)), 1500));
  EXPECT_TRUE(c->take_notices().empty());
  // A progress from an older listener (no facts): what was learnt stays.
  ASSERT_TRUE(c->on_progress(progress(3, 4, 100, 6), 2000));
  c->tick(2500);
  EXPECT_DOUBLE_EQ(c->last_observation().input_rps, 2000);
  EXPECT_EQ(c->stats().target, 6);
}

// ---- Relative paths resolve against the configuration file's directory ----

TEST(ControllerConfig, RelativePathsNameFilesBesideTheConfigFile) {
  EXPECT_EQ(core::resolve_beside("/etc/prescale/controller.yaml", "keys.txt"),
            "/etc/prescale/keys.txt");
  EXPECT_EQ(core::resolve_beside("/etc/prescale/controller.yaml", "../k/keys.txt"),
            "/etc/k/keys.txt");
  EXPECT_EQ(core::resolve_beside("/etc/prescale/controller.yaml", "/abs/keys.txt"),
            "/abs/keys.txt");
  EXPECT_EQ(core::resolve_beside("controller.yaml", "keys.txt"), "keys.txt");  // cwd = its dir
  EXPECT_EQ(core::resolve_beside("/etc/c.yaml", ""), "");

  // A configuration in a directory of its own, loaded from elsewhere (the tests run in the
  // source tree): its keys file, scenario file and CA file are the ones beside it.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("prescale-control-paths-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "conf");
  std::ofstream(dir / "conf" / "keys.txt") << "gw-1 " << kKeyHex << "\n";
  std::filesystem::copy_file(std::string(PRESCALE_SOURCE_DIR) + "/scenarios/live.yaml",
                             dir / "conf" / "my-scenario.yaml",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string path = (dir / "conf" / "controller.yaml").string();
  std::ofstream(path) << "policy: hpa\nscenario: my-scenario.yaml\nkeys_file: keys.txt\n"
                         "kafka:\n  bootstrap.servers: 127.0.0.1:9092\n  ssl.ca.location: "
                         "ca/ca.pem\n";
  auto cfg = load_config(path);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->keys_file, (dir / "conf" / "keys.txt").string());
  EXPECT_EQ(cfg->scenario, (dir / "conf" / "my-scenario.yaml").string());
  EXPECT_EQ(cfg->kafka.at("ssl.ca.location"), (dir / "conf" / "ca" / "ca.pem").string());
  EXPECT_EQ(cfg->kafka.at("bootstrap.servers"), "127.0.0.1:9092");  // not a path
  cfg->kafka.erase("ssl.ca.location");
  auto c = make_controller(*cfg);
  EXPECT_TRUE(c.ok()) << c.error().message;
  // A scenario name (not a path) is still searched for; "probe" is not a file.
  auto named = parse_config(
      "scenario: seed\nkeys_file: k\nkafka: {bootstrap.servers: x, ssl.ca.location: probe}\n",
      path);
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_EQ(named->scenario, "seed");
  EXPECT_EQ(named->kafka.at("ssl.ca.location"), "probe");
  std::filesystem::remove_all(dir);
}

TEST(ControllerConfig, StartUpErrorsNameTheFileLineAndField) {
  const std::string keys = keys_file();
  const std::string path =
      write_temp("startup.yaml", "policy: hpa\nscenario: nonesuch\nkeys_file: " + keys +
                                     "\nkafka:\n  bootstrap.servers: 127.0.0.1:9092\n");
  auto cfg = load_config(path);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  auto c = make_controller(*cfg);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind(path + ":2: scenario: unknown scenario 'nonesuch'", 0), 0u)
      << c.error().message;
  const std::string missing = write_temp("nokeys.yaml",
                                         "policy: hpa\nkeys_file: no-such-keys.txt\n"
                                         "kafka:\n  bootstrap.servers: 127.0.0.1:9092\n");
  cfg = load_config(missing);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  c = make_controller(*cfg);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind(
                missing + ":2: keys_file: " +
                    (std::filesystem::path(missing).parent_path() / "no-such-keys.txt").string(),
                0),
            0u)
      << c.error().message;
  // The policy list offered is exactly what a controller accepts (no oracle), at its line.
  ControllerConfig made = *cfg;
  made.policy = "magic";
  c = make_controller(made);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind(missing + ":1: policy: got 'magic', expected one of: ", 0), 0u)
      << c.error().message;
  EXPECT_NE(c.error().message.find(live_policy_list()), std::string::npos);
  EXPECT_EQ(c.error().message.find("oracle"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace prescale::control

namespace prescale::control {
namespace {

// ---- The tick's steps, one by one: observe -> decide -> envelope -> act ----

TEST(ControllerObserve, BuildsTheObservationFromTheJobsFactsWithTheArenasDefinitions) {
  auto c = make("hpa");  // trigger_ms 1000 (the default), sla from the seed scenario
  // Before any progress: nothing measured, what the job was told serves, metrics stale.
  core::Observation o = c->observe(500);
  EXPECT_FALSE(o.metrics_available);
  EXPECT_EQ(o.active_executors, 2);
  EXPECT_EQ(o.pending_executors, 0);
  EXPECT_EQ(o.latency_ms, 0);
  EXPECT_EQ(o.kafka_lag_records, 0);
  EXPECT_EQ(o.forecast_horizon_s, 60);
  // 2,000 messages/s in, 1,000 processed, 3,000 offsets behind, 1 of 2 executors serving.
  bus::Progress p = bus::decode_progress(progress(1, 2000, 400, 1, 3000)).value();
  p.processed_rows_per_s = 1000;
  ASSERT_TRUE(c->on_progress(bus::encode(p), 1000));
  o = c->observe(2000);
  EXPECT_TRUE(o.metrics_available);
  EXPECT_EQ(o.backlog_records, 3000);
  // Lag as the arena defines it: the backlog plus half a trigger's arrivals.
  EXPECT_DOUBLE_EQ(o.kafka_lag_records, 3000 + 2000 * 1.0 * 0.5);
  // Latency: batch + backlog / processing rate (no event-time measure in this progress).
  EXPECT_DOUBLE_EQ(o.latency_ms, 400 + 1000.0 * 3000 / 1000);
  EXPECT_DOUBLE_EQ(o.busy_fraction, 0.4);
  EXPECT_DOUBLE_EQ(o.cpu_util, 0.4);
  EXPECT_EQ(o.trigger_ms, 1000);
  EXPECT_DOUBLE_EQ(o.input_mb_s, 2000 * 100 / 1e6);
  EXPECT_EQ(o.active_executors, 1);
  EXPECT_EQ(o.pending_executors, 1);  // told 2, 1 serving
  // The clock is the caller's: the same facts later are stale.
  EXPECT_FALSE(c->observe(1000 + 20'001).metrics_available);
  EXPECT_TRUE(c->observe(1000 + 20'000).metrics_available);
}

TEST(ControllerObserve, ReadingsPerMessageConvertLagButNotLatency) {
  auto c = make("hpa");
  bus::Progress p = bus::decode_progress(progress(1, 4, 200, 2, 10)).value();
  p.records_per_message = 500;
  ASSERT_TRUE(c->on_progress(bus::encode(p), 0));
  const core::Observation o = c->observe(1000);
  EXPECT_DOUBLE_EQ(o.input_rps, 2000);
  EXPECT_DOUBLE_EQ(o.backlog_records, 5000);
  EXPECT_DOUBLE_EQ(o.kafka_lag_records, 5000 + 2000 * 0.5);
  EXPECT_DOUBLE_EQ(o.latency_ms, 200 + 1000.0 * 10 / 4);  // messages over messages
}

TEST(ControllerDecide, RunsThePolicyOnAnyObservationAndRemembersIt) {
  // The seed scenario's fixed policy asks for 15 executors, within its own bounds [1, 10].
  auto c = make("fixed");
  core::Observation stale;
  stale.metrics_available = false;
  const core::Decision d = c->decide(stale);  // decided, though step 3 will not trust it
  EXPECT_EQ(d.target_executors, 10);
  EXPECT_EQ(c->last_decision().target_executors, 10);
  EXPECT_EQ(c->stats().decisions, 0u);  // counted by act, for decisions carried out
}

TEST(ControllerEnvelope, HoldsOnStaleMetricsElseBoundsAndStabilises) {
  auto c = make("hpa");  // executors [1, 10], told 2, window 15 s
  core::Decision d;
  d.target_executors = 15;
  d.tier = core::Tier::kRedis;
  core::Observation o;
  o.metrics_available = false;
  auto out = c->envelope(o, d);
  EXPECT_TRUE(out.held);
  EXPECT_EQ(out.decision.target_executors, 2);  // what the job was told
  EXPECT_EQ(out.decision.tier, core::Tier::kNvme);
  o.metrics_available = true;
  o.active_executors = 2;
  o.time_s = 10;
  out = c->envelope(o, d);
  EXPECT_FALSE(out.held);
  EXPECT_EQ(out.wanted, 10);
  EXPECT_EQ(out.decision.target_executors, 10);
  EXPECT_EQ(out.decision.tier, core::Tier::kRedis);
  d.target_executors = 3;  // 5 s later: the 10 is still in the window
  o.time_s = 15;
  out = c->envelope(o, d);
  EXPECT_TRUE(out.stabilised);
  EXPECT_EQ(out.wanted, 3);
  EXPECT_EQ(out.decision.target_executors, 10);
  o.time_s = 40;  // out of the window
  out = c->envelope(o, d);
  EXPECT_FALSE(out.stabilised);
  EXPECT_EQ(out.decision.target_executors, 3);
}

TEST(ControllerAct, CommandsWhileHoldingTheLeaseAndOnlyThen) {
  auto c = make("hpa");
  core::Decision d;
  d.reason = "because";
  policy::CommandEnvelope::Outcome carried;
  carried.decision = d;
  carried.decision.target_executors = 6;
  carried.decision.tier = core::Tier::kRedis;
  carried.wanted = 4;
  carried.stabilised = true;
  const bus::ScaleTo cmd = c->act(7000, d, carried);
  EXPECT_EQ(cmd.target_executors, 6);
  EXPECT_EQ(cmd.shuffle_tier, core::Tier::kRedis);
  EXPECT_EQ(cmd.ts_ms, 7000);
  EXPECT_EQ(cmd.reason, "hpa: because (scale-down stabilised at 6)");
  EXPECT_EQ(c->stats().target, 6);  // what the job was told now
  EXPECT_EQ(c->stats().commands, 1u);
  // A standby: the same command in the shadow, nothing told.
  c->set_lease({false, 0, 3, "standby"});
  carried.decision.target_executors = 9;
  carried.stabilised = false;
  const bus::ScaleTo shadow = c->act(8000, d, carried);
  EXPECT_GT(shadow.seq, cmd.seq);
  EXPECT_EQ(shadow.epoch, 0);
  EXPECT_EQ(shadow.reason, "standby: hpa: because");
  EXPECT_EQ(c->stats().target, 6);
  EXPECT_EQ(c->stats().standby_ticks, 1u);
  // A hold is said as such (no progress yet, the clock's 0 s since the first tick).
  c->set_lease({true, 5, 5, "active"});
  carried.held = true;
  carried.decision.target_executors = 6;
  const bus::ScaleTo hold = c->act(9000, d, carried);
  EXPECT_EQ(hold.epoch, 5);
  EXPECT_EQ(hold.reason.rfind("hold: waiting for the job's first metrics", 0), 0u) << hold.reason;
  EXPECT_EQ(c->stats().holds_stale, 1u);
  EXPECT_EQ(c->stats().commands, 1u);
}

// The live race's rl run (make stack-demo, 2026-11-29), as its controller saw it: a job busier
// than the live scenario says (63-93% busy at 600 readings/s, where the arena's capacity gives
// 43%), and from +20 s a signed burst signal forecasting 2,400/s in 30 s. The learned worker
// held one executor against it, every tick, until the burst arrived; the envelope's forecast
// floor (policy/envelope.h) is what makes the pre-scale certain.
// Since stop 36 the controller reads Spark's rate per second of the batch as such, and the
// reactive floor raises to two executors before the signal (the job was that busy).
TEST(Controller, RlPreScalesOnABurstSignalOnAJobBusierThanItsScenario) {
  auto cfg = load_config(PRESCALE_SOURCE_DIR "/scenarios/race/controller.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  cfg->keys_file = keys_file();
  auto made = make_controller(*cfg);
  ASSERT_TRUE(made.ok()) << made.error().message;
  Controller& c = **made;
  struct Batch {
    int t_s;
    double readings_per_s, processed_per_s, batch_ms, latency_ms;
  };
  // Progress as the job published it (400 readings a Kafka message, one executor).
  const Batch batches[] = {{8, 720, 775, 4646, 9224},   {12, 480, 566, 4239, 7817},
                           {16, 720, 850, 4233, 8811},  {22, 480, 626, 3835, 7413},
                           {26, 720, 984, 3660, 8239},  {30, 480, 764, 3141, 6719},
                           {36, 720, 1011, 3561, 8139}, {40, 480, 686, 3500, 7078},
                           {46, 720, 1079, 3337, 7916}, {50, 480, 768, 3127, 6705}};
  size_t next = 0;
  int first_raise_s = -1;
  for (int t = 0; t < 50; t += 2) {  // the controller's 2 s tick
    const std::int64_t now = 1'000'000 + t * 1000LL;
    if (next < std::size(batches) && batches[next].t_s <= t) {
      const Batch& b = batches[next++];
      bus::Progress p;
      p.app = "iot";
      p.ts_ms = now;
      p.batch_id = static_cast<std::int64_t>(next);
      p.input_rows_per_s = b.readings_per_s / 400;
      p.processed_rows_per_s = b.processed_per_s / 400;
      p.batch_duration_ms = b.batch_ms;
      p.num_input_rows = 10;
      p.executors_active = 1;
      p.event_latency_ms = b.latency_ms;
      p.min_executors = 1;
      p.max_executors = 3;
      p.records_per_message = 400;
      ASSERT_TRUE(c.on_progress(bus::encode(p), now - 500));
    }
    if (t >= 20) {  // the lookahead gateway: 15 intervals of 2 s ahead of the burst at +50 s
      bus::BurstSignal s = signal(static_cast<std::uint64_t>(t), now, true, 2400);
      s.horizon_s = 30;
      s.baseline = 600;
      s.confidence = 1;
      bus::sign(&s, key());
      ASSERT_TRUE(c.on_signal(bus::encode(s), now));
    }
    const bus::ScaleTo cmd = c.tick(now);
    if (t < 20) {
      // Before the signal: at most what the reactive floor sizes. The job is 63-93% busy on
      // one executor, over the floor's 0.9 utilisation at times, so the floor asks for a
      // second (it held one while the controller counted Spark's per-batch rate per busy
      // second twice: observe.h, processed_rps).
      EXPECT_LE(cmd.target_executors, 2) << t << " s: " << cmd.reason;
      EXPECT_EQ(cmd.reason.find("forecast"), std::string::npos) << t << " s: " << cmd.reason;
    } else if (first_raise_s < 0 && cmd.target_executors > 2) {
      first_raise_s = t;
      EXPECT_EQ(cmd.target_executors, 3);  // 2,400/s: the job's maximum
      EXPECT_NE(cmd.reason.find("guard: forecast"), std::string::npos) << cmd.reason;
    }
  }
  // At the first tick with the signal: all of its 30 s of lead goes to the cold start.
  EXPECT_EQ(first_raise_s, 20);
}

}  // namespace
}  // namespace prescale::control
