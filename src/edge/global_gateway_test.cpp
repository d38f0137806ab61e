// The gateway with the global forecaster (its burst head and p90, not the ratio detector),
// the other forecasters' signal unchanged, and the model file's errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "edge/agent.h"
#include "edge/gateway.h"
#include "forecast/burst.h"
#include "forecast/global.h"
#include "forecast/global_testing.h"
#include "sim/rng.h"

namespace prescale::edge {
namespace {

// A small model with seeded random weights (forecast/global_testing.h).
forecast::GlobalModel random_model(std::uint64_t seed = 7, int hidden = 8) {
  return forecast::random_global_model(seed, hidden, /*horizon=*/5);
}

// Whole loads (so readings / scale gives them back exactly) with bursts.
std::vector<double> bursty(int n) {
  std::vector<double> x;
  for (int i = 0; i < n; ++i) {
    double v = std::round(20 + 8 * std::sin(i / 6.0));
    if (i % 70 >= 50 && i % 70 < 58) v *= 4;  // a burst every 70 intervals
    x.push_back(v);
  }
  return x;
}

// A model whose thresholds sit inside the range its burst head gives on `series`, so the
// signal both rises and falls there.
forecast::GlobalModel model_for(const std::vector<double>& series) {
  forecast::GlobalModel m = random_model();
  std::vector<double> p;
  forecast::global_signal(m, series, nullptr, nullptr, &p);
  std::sort(p.begin(), p.end());
  m.raise = static_cast<float>(p[p.size() * 8 / 10]);
  m.release = static_cast<float>(p[p.size() * 5 / 10]);
  return m;
}

struct RecordingSink : Sink {
  std::vector<bus::BurstSignal> signals;
  core::Status data(const std::string&, const std::string&) override { return {}; }
  core::Status control(const std::string&, const std::string& payload) override {
    auto s = bus::decode_burst_signal(payload);
    EXPECT_TRUE(s.ok()) << s.error().message;
    if (s.ok()) signals.push_back(*s);
    return {};
  }
};

const std::vector<unsigned char> kKey(32, 0x42);

// Replays `series` (loads) through a gateway, one closed interval a sample.
std::vector<bus::BurstSignal> run_gateway(std::unique_ptr<forecast::Forecaster> f,
                                          const std::vector<double>& series, double scale,
                                          std::int64_t interval_ms, int horizon = 3) {
  GatewayConfig c;
  c.device = "gw-1";
  c.interval_ms = interval_ms;
  c.horizon = horizon;
  c.scale = scale;
  c.clocked = false;
  c.batch_readings = 100'000;
  RecordingSink sink;
  Gateway gw(c, std::move(f), kKey, &sink, 0);
  std::int64_t now = 0;
  for (double x : series) {
    const auto n = static_cast<long long>(std::llround(x * scale));
    for (long long k = 0; k < n; ++k)
      EXPECT_TRUE(gw.add({"s", now, {static_cast<double>(k)}}, now).ok());
    EXPECT_TRUE(gw.close_interval(now += interval_ms).ok());
  }
  EXPECT_EQ(gw.stats().signals, series.size());
  return sink.signals;
}

void expect_global_signal(const forecast::GlobalModel& m, const std::vector<double>& series,
                          const std::vector<bus::BurstSignal>& sent, double scale,
                          double interval_s) {
  std::vector<double> p90;
  const auto expected = forecast::global_signal(m, series, nullptr, &p90);
  ASSERT_EQ(sent.size(), series.size());
  int ups = 0, downs = 0;
  for (size_t t = 0; t < series.size(); ++t) {
    EXPECT_EQ(sent[t].burst, expected[t] != 0) << "interval " << t;
    EXPECT_DOUBLE_EQ(sent[t].forecast, p90[t] * scale / interval_s) << "interval " << t;
    EXPECT_DOUBLE_EQ(sent[t].horizon_s, m.horizon * interval_s);
    EXPECT_EQ(sent[t].confidence, expected[t] ? 0.85 : 0.0);
    ups += t > 0 && expected[t] && !expected[t - 1];
    downs += t > 0 && !expected[t] && expected[t - 1];
  }
  EXPECT_GE(ups, 2);  // the comparison saw the signal rise and fall
  EXPECT_GE(downs, 1);
}

TEST(GlobalGateway, SendsWhatGlobalSignalGivesOnTheSameSeries) {
  const auto series = bursty(300);
  const forecast::GlobalModel m = model_for(series);
  // 2 readings per unit of load, 500 ms intervals: the forecast goes out in records/s.
  auto sent = run_gateway(std::make_unique<forecast::GlobalForecaster>(m), series, 2.0, 500);
  expect_global_signal(m, series, sent, 2.0, 0.5);
}

// The ratio detector alone would say otherwise: the signal really is the burst head's.
TEST(GlobalGateway, IsNotTheRatioDetectorsSignal) {
  const auto series = bursty(300);
  const forecast::GlobalModel m = model_for(series);
  auto sent = run_gateway(std::make_unique<forecast::GlobalForecaster>(m), series, 1.0, 1000);
  forecast::GlobalForecaster f(m);
  const auto ratio = forecast::detect_bursts(f, series, m.horizon, {});
  size_t differ = 0;
  for (size_t t = 0; t < series.size(); ++t) differ += sent[t].burst != (ratio[t] != 0);
  EXPECT_GT(differ, 0u);
}

TEST(GlobalGateway, MakeSignalSourcePicksTheHeadsOnlyForTheGlobalForecaster) {
  auto g = make_signal_source(std::make_unique<forecast::GlobalForecaster>(random_model()), 3, {});
  EXPECT_EQ(dynamic_cast<RatioSignal*>(g.get()), nullptr);
  EXPECT_EQ(g->horizon(), 5);  // the model's, whatever the gateway's
  auto r = make_signal_source(std::make_unique<forecast::LastValue>(), 3, {});
  EXPECT_NE(dynamic_cast<RatioSignal*>(r.get()), nullptr);
  EXPECT_EQ(r->horizon(), 3);
}

// The gateway's signal before SignalSource existed, verbatim: every other forecaster must
// send exactly this.
std::vector<bus::BurstSignal> old_gateway(forecast::Forecaster& fc,
                                          const std::vector<double>& series, double scale,
                                          double interval_s, int horizon) {
  forecast::DetectorParams d;
  forecast::BurstDetector detector(d);
  bool in_burst = false;
  std::vector<bus::BurstSignal> out;
  for (double load : series) {
    fc.observe(load);
    const double f = std::max(0.0, fc.forecast(horizon));
    const bool forecast_up = detector.update(load, f);
    const double base = detector.baseline();
    const bool ongoing = in_burst && base > 0 && load >= d.release_ratio * base;
    const bool up = forecast_up || ongoing;
    in_burst = up;
    const double need = ongoing ? std::max(f, load) : f;
    bus::BurstSignal s;
    s.horizon_s = horizon * interval_s;
    s.forecast = need * scale / interval_s;
    s.baseline = base * scale / interval_s;
    s.burst = up;
    s.confidence = base > 0 ? std::clamp((need / base - d.release_ratio) /
                                             std::max(1e-9, d.raise_ratio - d.release_ratio),
                                         0.0, 1.0)
                            : 0.0;
    out.push_back(s);
  }
  return out;
}

TEST(GlobalGateway, OtherForecastersSendExactlyWhatTheyDidBefore) {
  const auto series = bursty(300);
  AgentOptions o;
  o.input = Input::kStdin;
  for (const char* name : {"last", "seasonal", "ewma", "holt-winters", "linreg"}) {
    o.forecaster = name;
    std::string label;
    auto a = make_forecaster(o, 70, 3, nullptr, &label);
    auto b = make_forecaster(o, 70, 3, nullptr, &label);
    ASSERT_TRUE(a.ok() && b.ok()) << name;
    const auto sent = run_gateway(std::move(*a), series, 2.0, 500, 3);
    const auto want = old_gateway(**b, series, 2.0, 0.5, 3);
    ASSERT_EQ(sent.size(), want.size());
    int bursts = 0;
    for (size_t t = 0; t < want.size(); ++t) {
      EXPECT_EQ(sent[t].burst, want[t].burst) << name << " " << t;
      EXPECT_EQ(sent[t].forecast, want[t].forecast) << name << " " << t;
      EXPECT_EQ(sent[t].baseline, want[t].baseline) << name << " " << t;
      EXPECT_EQ(sent[t].confidence, want[t].confidence) << name << " " << t;
      EXPECT_EQ(sent[t].horizon_s, want[t].horizon_s) << name << " " << t;
      bursts += want[t].burst;
    }
    EXPECT_GT(bursts, 0) << name;
  }
}

// A temporary directory, removed at the end.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("prescale-global-gw-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

AgentOptions stdin_options(const TempDir& dir, const std::string& forecaster) {
  AgentOptions o;
  o.input = Input::kStdin;
  o.key_file = dir.file("keys.txt");
  std::ofstream(o.key_file) << "gw-1 " << std::string(64, 'a') << "\n";
  std::filesystem::permissions(
      o.key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  o.forecaster = forecaster;
  o.models_dir = dir.path.string();
  return o;
}

TEST(GlobalAgent, GlobalLoadsTheModelsDirsGlobalJsonAndGlobalFileThatFile) {
  TempDir dir;
  const auto series = bursty(200);
  const forecast::GlobalModel m = model_for(series);
  ASSERT_TRUE(forecast::save_global(m, dir.file("global.json")).ok());
  ASSERT_TRUE(forecast::save_global(m, dir.file("other.json")).ok());
  const std::vector<std::string> specs = {"global", "global:" + dir.file("other.json")};
  for (const std::string& spec : specs) {
    AgentOptions o = stdin_options(dir, spec);
    o.gateway.horizon = 0;  // the model's
    auto p = prepare_agent(o);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->opts.gateway.horizon, m.horizon);
    EXPECT_EQ(p->forecaster_label,
              "global:" + dir.file(spec == "global" ? "global.json" : "other.json"));
    // What prepare_agent gives is what run_agent hands the gateway.
    GatewayConfig c = p->opts.gateway;
    c.clocked = false;
    auto sent = run_gateway(std::move(p->forecaster), series, 1.0, 1000, c.horizon);
    expect_global_signal(m, series, sent, 1.0, 1.0);
  }
  // The model's horizon given explicitly is fine; another one is refused.
  AgentOptions o = stdin_options(dir, "global");
  o.gateway.horizon = m.horizon;
  EXPECT_TRUE(prepare_agent(o).ok());
  o.gateway.horizon = 12;
  auto bad = prepare_agent(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("trained for horizon 5, --horizon is 12"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find(dir.file("global.json")), std::string::npos);
  // 0 means the model's only for the global forecaster.
  o = stdin_options(dir, "linreg");
  o.gateway.horizon = 0;
  EXPECT_FALSE(prepare_agent(o).ok());
}

TEST(Agent, AReplayThatWouldSendWithoutBoundIsRefusedBeforeItStarts) {
  // A huge --scale asks a sample for an endless count of readings (or overflows it); --sensors
  // 2e9 would allocate 2e9 sensor names.
  TempDir dir;
  AgentOptions o = stdin_options(dir, "linreg");
  o.input = Input::kTrace;
  o.trace_file = dir.file("trace.csv");
  std::ofstream out(o.trace_file);
  out << "t_seconds,value\n";
  for (int i = 0; i < 40; ++i) out << i * 5 << "," << (i == 20 ? 1000 : 10) << "\n";
  out.close();
  EXPECT_TRUE(prepare_agent(o).ok());
  o.gateway.scale = 1e6;  // the peak: 1e9 readings, the most a sample may be
  EXPECT_TRUE(prepare_agent(o).ok());
  o.gateway.scale = 1e308;
  auto big = prepare_agent(o);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("expected at most 1e+09 per sample"), std::string::npos)
      << big.error().message;
  o.gateway.scale = 1;
  o.sensors = 2'000'000'000;
  auto many = prepare_agent(o);
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.error().message.find("--sensors: 2000000000; expected 1 to 1000000"),
            std::string::npos)
      << many.error().message;
}

TEST(GlobalAgent, AMissingOrCorruptModelIsAClearErrorNamingTheFile) {
  TempDir dir;
  // No global.json in the models dir.
  auto r = prepare_agent(stdin_options(dir, "global"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--forecaster global"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(dir.file("global.json")), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("train-global"), std::string::npos) << r.error().message;
  // global:FILE that does not exist.
  r = prepare_agent(stdin_options(dir, "global:" + dir.file("nope.json")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(dir.file("nope.json")), std::string::npos) << r.error().message;
  // Not JSON; JSON of another format; a tampered model (checksum).
  std::ofstream(dir.file("garbage.json")) << "not a model";
  std::ofstream(dir.file("lstm.json")) << R"({"format":"prescale-lstm-forecaster"})";
  std::string text = forecast::serialize_global(random_model());
  text.replace(text.find("\"horizon\":5"), 11, "\"horizon\":6");
  std::ofstream(dir.file("tampered.json")) << text;
  for (const char* f : {"garbage.json", "lstm.json", "tampered.json"}) {
    r = prepare_agent(stdin_options(dir, "global:" + dir.file(f)));
    ASSERT_FALSE(r.ok()) << f;
    EXPECT_NE(r.error().message.find(dir.file(f)), std::string::npos) << r.error().message;
  }
  // global: with no file.
  r = prepare_agent(stdin_options(dir, "global:"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("expected a model file"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace prescale::edge
