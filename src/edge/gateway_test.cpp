#include "edge/gateway.h"

#include <gtest/gtest.h>

#include "bus/signing.h"
#include "edge/agent.h"

#include <filesystem>
#include <fstream>

namespace prescale::edge {
namespace {

// Keeps what the gateway sends (the Kafka sink is exercised by the integration test).
struct RecordingSink : Sink {
  std::vector<std::string> data_msgs, control_msgs;
  bool fail_data = false;
  core::Status data(const std::string& key, const std::string& payload) override {
    EXPECT_EQ(key, "gw-7");
    if (fail_data) return core::Error{"kafka: broker gone"};
    data_msgs.push_back(payload);
    return {};
  }
  core::Status control(const std::string& key, const std::string& payload) override {
    EXPECT_EQ(key, "gw-7");
    control_msgs.push_back(payload);
    return {};
  }
};

const std::vector<unsigned char> kKey(32, 0x42);

GatewayConfig config() {
  GatewayConfig c;
  c.device = "gw-7";
  c.interval_ms = 1000;
  c.horizon = 3;
  c.batch_readings = 3;
  c.linger_ms = 100;
  return c;
}

std::unique_ptr<Gateway> make(RecordingSink* sink, GatewayConfig c = config()) {
  return std::make_unique<Gateway>(c, std::make_unique<forecast::LastValue>(), kKey, sink, 0);
}

bus::Reading reading(int i) { return {"s-" + std::to_string(i % 2), 1000 + i, {double(i), 0.5}}; }

TEST(Gateway, BatchesEveryReadingInOrderWithSequenceNumbers) {
  RecordingSink sink;
  auto gw = make(&sink);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(gw->add(reading(i), 10).ok());
  EXPECT_EQ(sink.data_msgs.size(), 2u);  // full batches leave at once
  ASSERT_TRUE(gw->flush_batch().ok());
  ASSERT_EQ(sink.data_msgs.size(), 3u);
  int next = 0;
  for (size_t b = 0; b < sink.data_msgs.size(); ++b) {
    auto batch = bus::decode_reading_batch(sink.data_msgs[b]);
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    EXPECT_EQ(batch->device, "gw-7");
    EXPECT_EQ(batch->seq, b);
    for (const auto& r : batch->readings) {
      EXPECT_EQ(r.values[0], next);
      EXPECT_EQ(r.ts_ms, 1000 + next);
      ++next;
    }
  }
  EXPECT_EQ(next, 7);
  EXPECT_EQ(gw->stats().readings, 7u);
  EXPECT_EQ(gw->stats().batches, 3u);
}

TEST(Gateway, APartialBatchLeavesAfterItsLinger) {
  RecordingSink sink;
  auto gw = make(&sink);
  ASSERT_TRUE(gw->add(reading(0), 500).ok());
  EXPECT_EQ(gw->ms_until_due(500), 100);
  ASSERT_TRUE(gw->tick(599).ok());
  EXPECT_TRUE(sink.data_msgs.empty());
  ASSERT_TRUE(gw->tick(600).ok());
  EXPECT_EQ(sink.data_msgs.size(), 1u);
  EXPECT_EQ(gw->ms_until_due(600), 400);  // now only the interval end is due
}

TEST(Gateway, OneVerifiableSignalPerIntervalEvenWhenQuiet) {
  RecordingSink sink;
  auto gw = make(&sink);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(gw->add(reading(i), 100).ok());
  ASSERT_TRUE(gw->tick(999).ok());
  EXPECT_TRUE(sink.control_msgs.empty());
  ASSERT_TRUE(gw->tick(3500).ok());  // intervals ending at 1000, 2000, 3000
  ASSERT_EQ(sink.control_msgs.size(), 3u);

  bus::KeyRing ring;
  ring.add("gw-7", kKey);
  bus::SignalVerifier verifier(ring, 60'000);
  std::vector<bus::BurstSignal> sigs;
  for (const auto& text : sink.control_msgs) {
    auto s = bus::decode_burst_signal(text);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(verifier.verify(*s, 3500), bus::Verdict::kAccepted);
    sigs.push_back(*s);
  }
  EXPECT_EQ(sigs[0].ts_ms, 1000);
  EXPECT_EQ(sigs[2].ts_ms, 3000);
  EXPECT_EQ(sigs[0].forecast, 5.0);  // last value: 5 readings in a 1 s interval
  EXPECT_EQ(sigs[1].forecast, 0.0);  // a quiet interval is a sample of zero
  EXPECT_DOUBLE_EQ(sigs[0].horizon_s, 3.0);
  EXPECT_EQ(sigs[1].seq, sigs[0].seq + 1);

  // The same signal again is a replay; a tampered one fails its signature.
  EXPECT_EQ(verifier.verify(sigs[2], 3500), bus::Verdict::kReplayed);
  bus::BurstSignal forged = sigs[2];
  forged.seq += 1;
  forged.forecast = 1e9;
  forged.burst = true;
  EXPECT_EQ(verifier.verify(forged, 3500), bus::Verdict::kBadSignature);
}

TEST(Gateway, RaisesTheBurstWhenTheForecastDoublesTheBaseline) {
  RecordingSink sink;
  GatewayConfig c = config();
  c.clocked = false;  // intervals closed by hand, as in trace replay
  c.scale = 2.0;      // 2 readings per unit of load
  c.batch_readings = 1000;
  auto gw = make(&sink, c);
  auto interval = [&](int readings, std::int64_t now) {
    for (int i = 0; i < readings; ++i) ASSERT_TRUE(gw->add(reading(i), now).ok());
    ASSERT_TRUE(gw->close_interval(now).ok());
  };
  for (int t = 1; t <= 10; ++t) interval(20, t * 1000);  // load 10
  EXPECT_FALSE(gw->last_signal().burst);
  interval(50, 11'000);  // load 25 >= 2.0 x baseline 10
  const auto& s = gw->last_signal();
  EXPECT_TRUE(s.burst);
  EXPECT_DOUBLE_EQ(s.baseline, 20.0);  // 10 load units x 2 readings, per second
  EXPECT_DOUBLE_EQ(s.forecast, 50.0);
  EXPECT_DOUBLE_EQ(s.confidence, 1.0);
  interval(20, 12'000);  // held for min_on samples despite the drop
  EXPECT_TRUE(gw->last_signal().burst);
  EXPECT_EQ(gw->stats().signals_burst, 2u);
  EXPECT_EQ(gw->stats().intervals, 12u);
}

// A forecaster that says what the test tells it to.
struct Scripted : forecast::Forecaster {
  double next = 0;
  std::string_view name() const override { return "scripted"; }
  void reset() override {}
  void observe(double) override {}
  double forecast(int) const override { return next; }
};

// The detector lets go when the forecast h ahead sees the burst's end; the gateway holds
// the signal while the traffic itself is still at or above the release threshold, with the
// current rate as the forecast, and lowers it when the traffic falls back.
TEST(Gateway, HoldsTheSignalThroughABurstInProgress) {
  RecordingSink sink;
  GatewayConfig c = config();
  c.clocked = false;
  c.batch_readings = 1000;
  auto scripted = std::make_unique<Scripted>();
  Scripted* fc = scripted.get();
  Gateway gw(c, std::move(scripted), kKey, &sink, 0);
  auto interval = [&](int readings, double forecast, std::int64_t now) {
    fc->next = forecast;
    for (int i = 0; i < readings; ++i) ASSERT_TRUE(gw.add(reading(i), now).ok());
    ASSERT_TRUE(gw.close_interval(now).ok());
  };
  std::int64_t t = 0;
  for (int i = 0; i < 10; ++i) interval(10, 10, t += 1000);  // baseline 10
  interval(10, 40, t += 1000);                               // the forecast sees the burst
  EXPECT_TRUE(gw.last_signal().burst);
  for (int i = 0; i < 3; ++i) interval(10, 40, t += 1000);  // still ahead
  for (int i = 0; i < 5; ++i) {
    interval(40, 10, t += 1000);  // in the burst; the forecast h ahead sees its end
    EXPECT_TRUE(gw.last_signal().burst) << i;
    EXPECT_DOUBLE_EQ(gw.last_signal().forecast, 40.0) << i;
  }
  interval(12, 10, t += 1000);  // back below 1.5 x the baseline: calm
  EXPECT_FALSE(gw.last_signal().burst);
  EXPECT_DOUBLE_EQ(gw.last_signal().forecast, 10.0);
}

TEST(Gateway, ASinkErrorIsReturnedNotSwallowed) {
  RecordingSink sink;
  sink.fail_data = true;
  auto gw = make(&sink);
  ASSERT_TRUE(gw->add(reading(0), 0).ok());
  ASSERT_TRUE(gw->add(reading(1), 0).ok());
  auto st = gw->add(reading(2), 0);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("broker gone"), std::string::npos);
  EXPECT_EQ(gw->stats().batches, 0u);
}

TEST(Agent, LookaheadReadsTheTracesFutureAndOnlyForTraces) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("prescale-lookahead-" + std::to_string(::getpid()) + ".csv");
  {
    std::ofstream out(path);
    out << "timestamp,value\n";
    for (int t = 0; t < 20; ++t)
      out << "2024-01-01 00:" << (t < 10 ? "0" : "") << t << ":00," << t * 10 << "\n";
  }
  AgentOptions o;
  o.input = Input::kTrace;
  o.trace_file = path.string();
  o.forecaster = "lookahead";
  std::string label;
  auto trace = forecast::prepare_trace(o.trace_file);
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  auto f = make_forecaster(o, 1440, 3, &*trace, &label);
  ASSERT_TRUE(f.ok()) << f.error().message;
  (*f)->observe(0);
  (*f)->observe(10);
  EXPECT_EQ((*f)->forecast(3), 40);    // after sample 1, three ahead: sample 4
  EXPECT_EQ((*f)->forecast(50), 190);  // past the end: the last sample
  o.input = Input::kStdin;
  auto bad = make_forecaster(o, 1440, 3, nullptr, &label);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("only with --trace"), std::string::npos);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace prescale::edge
