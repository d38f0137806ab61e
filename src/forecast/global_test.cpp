#include "forecast/global.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "forecast/burst.h"
#include "forecast/edge.h"
#include "forecast/evaluate.h"
#include "forecast/global_testing.h"
#include "forecast/global_train.h"
#include "sim/rng.h"

namespace prescale::forecast {
namespace {

// A small model with seeded random weights (forecast/global_testing.h).
GlobalModel random_model(std::uint64_t seed = 7, int hidden = 8) {
  return random_global_model(seed, hidden);
}

std::vector<double> wavy(int n, double scale) {
  std::vector<double> x;
  for (int i = 0; i < n; ++i)
    x.push_back(scale * (10 + 6 * std::sin(i / 7.0) + (i % 50 == 0 ? 30 : 0)));
  return x;
}

TEST(Global, FileRoundTripsExactly) {
  const GlobalModel m = random_model();
  const std::string text = serialize_global(m);
  auto back = parse_global(text, "m.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(serialize_global(*back), text);
  GlobalForecaster a(m), b(*back);
  for (double v : wavy(200, 1)) {
    a.observe(v);
    b.observe(v);
    ASSERT_EQ(a.output().median, b.output().median);
    ASSERT_EQ(a.output().burst_p, b.output().burst_p);
  }
}

TEST(Global, EveryFieldIsUnderTheChecksumAndShapesAreBoundedFirst) {
  const nlohmann::json j = nlohmann::json::parse(serialize_global(random_model()));
  auto expect_error = [](const nlohmann::json& edited, const std::string& what) {
    auto r = parse_global(edited.dump(), "edited.json");
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_NE(r.error().message.find("edited.json"), std::string::npos) << r.error().message;
  };
  for (const char* key : {"horizon", "recent", "block"}) {
    nlohmann::json e = j;
    e[key] = e[key].get<int>() + 1;
    expect_error(e, key);  // checksum (or shape) mismatch
  }
  nlohmann::json w = j;
  w["w2"][3] = w["w2"][3].get<double>() + 0.001;
  expect_error(w, "a weight");
  nlohmann::json r = j;
  r["raise"] = 0.2;
  expect_error(r, "raise below release");
  nlohmann::json big = j;
  big["hidden"] = 1 << 30;  // bounded before anything is allocated
  expect_error(big, "huge hidden");
  nlohmann::json blocks = j;
  blocks["blocks"] = 100'000;
  blocks["block"] = 100'000;
  expect_error(blocks, "huge context");
  nlohmann::json season = j;
  season["season_max"] = 10'000;
  season["season_window"] = 10'000;
  expect_error(season, "a seasonal match of 10^8 per forecast");
  EXPECT_FALSE(
      parse_global("{\"format\": \"prescale-global-forecaster\", \"version\": 1e999}", "x.json")
          .ok());
  EXPECT_FALSE(parse_global("[1, 2]", "x.json").ok());
  EXPECT_FALSE(parse_global("not json", "x.json").ok());
}

TEST(Global, ForecastsAreScaleFree) {
  const GlobalModel m = random_model();
  GlobalForecaster a(m), b(m);
  const auto x = wavy(300, 1), y = wavy(300, 1000);
  for (size_t t = 0; t < x.size(); ++t) {
    a.observe(x[t]);
    b.observe(y[t]);
    const GlobalOutput oa = a.output(), ob = b.output();
    ASSERT_NEAR(ob.median, 1000 * oa.median, 1e-3 * (1 + ob.median)) << t;
    ASSERT_NEAR(ob.p90, 1000 * oa.p90, 1e-3 * (1 + ob.p90)) << t;
    ASSERT_NEAR(ob.burst_p, oa.burst_p, 1e-5) << t;
    ASSERT_GE(oa.p90, oa.median);
    ASSERT_GE(oa.median, 0);
  }
}

TEST(Global, NothingSeenOrNothingArrivedForecastsZero) {
  GlobalForecaster f(random_model());
  EXPECT_EQ(f.forecast(12), 0);
  for (int i = 0; i < 100; ++i) f.observe(0);
  EXPECT_EQ(f.output().median, 0);
  EXPECT_EQ(f.output().p90, 0);
  const double p = f.output().burst_p;
  EXPECT_TRUE(p > 0 && p < 1);
}

TEST(Global, FeaturesFillTheUnseenPastWithTheOldestValue) {
  GlobalModel m = random_model();
  History h(m.context());
  h.push(4);
  h.push(2);
  std::vector<float> f(static_cast<size_t>(m.inputs()));
  std::vector<double> scratch;
  // Span = 2, 4, 4, 4, ...: the mean is (2 + 4 (L - 1)) / L.
  const int L = m.span();
  const double s = global_features(m, h, f.data(), &scratch);
  EXPECT_DOUBLE_EQ(s, (2.0 + 4.0 * (L - 1)) / L);
  EXPECT_FLOAT_EQ(f[0], static_cast<float>(std::log1p(2 / s)));
  EXPECT_FLOAT_EQ(f[1], static_cast<float>(std::log1p(4 / s)));
  EXPECT_FLOAT_EQ(f[static_cast<size_t>(m.recent)],
                  static_cast<float>(std::log1p((2.0 + 4 * (m.block - 1)) / m.block / s)));
  // Too little history for any period: the newest value, mismatches 1, period 0.
  const float* season = f.data() + m.recent + m.blocks;
  EXPECT_EQ(season[0], f[0]);
  EXPECT_EQ(season[1], 1.0f);
  EXPECT_EQ(season[2], 1.0f);
  EXPECT_EQ(season[3], 0.0f);
}

TEST(Global, DetectorRaisesAtRaiseHoldsMinOnAndReleasesBelowRelease) {
  BurstHeadDetector d(0.5, 0.3, 3);
  EXPECT_FALSE(d.update(0.49));
  EXPECT_TRUE(d.update(0.5));
  EXPECT_TRUE(d.update(0.0));  // held: min_on
  EXPECT_TRUE(d.update(0.0));
  EXPECT_FALSE(d.update(0.0));
  EXPECT_TRUE(d.update(0.9));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(d.update(0.35));  // between release and raise: stays
  EXPECT_FALSE(d.update(0.29));
}

TEST(Global, EdgeSignalOfStepTIsWhatTheModelKnewAfterStepTMinusOne) {
  const GlobalModel m = random_model();
  sim::Workload w;
  w.arrivals_rps = wavy(400, 50);
  drive_edge_signal(m, &w);
  std::vector<double> p90;
  const auto sig = global_signal(m, w.arrivals_rps, nullptr, &p90);
  ASSERT_EQ(w.signal.size(), w.arrivals_rps.size());
  EXPECT_EQ(w.signal[0], 0);
  for (size_t t = 1; t < sig.size(); ++t) {
    ASSERT_EQ(w.signal[t], sig[t - 1]) << t;
    ASSERT_EQ(w.forecast_rps[t], p90[t - 1]) << t;
    ASSERT_EQ(w.confidence[t], sig[t - 1] ? 0.85 : 0.0) << t;
  }
}

// Training end to end on a small synthetic corpus: a repeating burst pattern the model can
// learn. It must forecast the pattern better than the last value does, its burst head must
// raise before the bursts, and the same seed must give the same model.
std::vector<CorpusSeries> burst_corpus() {
  std::vector<CorpusSeries> c;
  for (int k = 0; k < 4; ++k) {
    CorpusSeries s;
    s.name = "pattern#" + std::to_string(k);
    sim::Rng rng(static_cast<std::uint64_t>(k + 1));
    for (int i = 0; i < 3000; ++i) {
      const int phase = i % 100;  // a ramp to a burst every 100 samples
      const double level = phase >= 70 && phase < 85 ? 5.0 : phase >= 55 && phase < 70 ? 1.5 : 1.0;
      s.x.push_back((k + 1) * 100 * level * (1 + 0.02 * rng.normal()));
    }
    s.validation_from = k == 3 ? 0 : s.x.size();  // the fourth validates
    c.push_back(std::move(s));
  }
  return c;
}

GlobalTrainOptions small_options() {
  GlobalTrainOptions o;
  o.shape.recent = 24;
  o.shape.blocks = 8;
  o.shape.block = 8;
  o.shape.hidden = 16;
  o.max_epochs = 25;
  o.patience = 25;
  o.lr = 3e-3;
  o.batch = 128;
  return o;
}

TEST(Global, LearnsARepeatingBurstAndWarnsAheadOfIt) {
  const auto corpus = burst_corpus();
  auto m = train_global(corpus, small_options());
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto& x = corpus[3].x;
  GlobalForecaster g(*m);
  LastValue last;
  const double mae_g = evaluate(g, x, 12, 500).mae, mae_last = evaluate(last, x, 12, 500).mae;
  EXPECT_LT(mae_g, 0.5 * mae_last) << "global " << mae_g << " last " << mae_last;
  const auto sig = global_signal(*m, x);
  const BurstMetrics bm = score_bursts(sig, true_bursts(x), 12, 500);
  EXPECT_GT(bm.f1, 0.8) << bm.precision << " " << bm.recall;
  EXPECT_GT(bm.mean_lead_steps, 6);
  const auto j = nlohmann::json::parse(m->training_json);
  EXPECT_EQ(j.at("series").size(), 4u);
  EXPECT_GT(j.at("best_epoch").get<int>(), 0);
}

// Fine-tuning a model that has never seen the stream: it starts from the model's weights
// (epoch 0 = the model as given, never worse on the validation loss), learns the stream's
// burst, keeps the base's detector thresholds, and reads nothing after validation_end.
TEST(Global, FineTuningLearnsTheLocalStreamAndNeverReadsItsTestPart) {
  const GlobalModel base = random_model(11, 16);
  std::vector<double> x = wavy(3000, 1.0);
  FinetuneOptions o;
  o.source = "wavy";
  o.max_epochs = 15;
  auto tuned = finetune_global(base, x, 1800, 2400, o);
  ASSERT_TRUE(tuned.ok()) << tuned.error().message;
  GlobalForecaster before(base), after(*tuned);
  const double mae_before = evaluate(before, x, 12, 2400).mae;
  const double mae_after = evaluate(after, x, 12, 2400).mae;
  EXPECT_LT(mae_after, 0.5 * mae_before) << mae_before << " -> " << mae_after;
  EXPECT_EQ(tuned->raise, base.raise);
  EXPECT_EQ(tuned->release, base.release);
  const auto j = nlohmann::json::parse(tuned->training_json);
  EXPECT_GT(j.at("best_epoch").get<int>(), 0);
  EXPECT_NE(j.at("trained_on").get<std::string>().find("checksum " + global_checksum(base)),
            std::string::npos);
  // The test part changed beyond recognition: the same model.
  for (size_t i = 2400; i < x.size(); ++i) x[i] = 1e6 * static_cast<double>(i % 3);
  auto again = finetune_global(base, x, 1800, 2400, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(global_checksum(*again), global_checksum(*tuned));
  // Too little history, or splits that do not fit: an error, no model.
  auto shorter = finetune_global(base, std::vector<double>(x.begin(), x.begin() + 60), 40, 60, o);
  ASSERT_FALSE(shorter.ok());
  EXPECT_NE(shorter.error().message.find("too little history"), std::string::npos)
      << shorter.error().message;
  EXPECT_FALSE(finetune_global(base, x, 2400, 1800, o).ok());
  EXPECT_FALSE(finetune_global(base, x, 10, 5000, o).ok());
}

TEST(Global, TrainingRefusesAShapeNoFileCouldHave) {
  GlobalTrainOptions o = small_options();
  o.shape.blocks = 4096;
  o.shape.block = 4096;
  auto m = train_global(burst_corpus(), o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("blocks x block"), std::string::npos) << m.error().message;
}

TEST(Global, SameSeedSameModel) {
  const auto corpus = burst_corpus();
  GlobalTrainOptions o = small_options();
  o.max_epochs = 2;
  auto a = train_global(corpus, o), b = train_global(corpus, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(global_checksum(*a), global_checksum(*b));
  o.seed = 2;
  auto c = train_global(corpus, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(global_checksum(*a), global_checksum(*c));
}

TEST(Global, CorpusLeavesUnreadableTracesOutAndCoversEveryTimeScaleAndFamily) {
  const std::string dir = testing::TempDir() + "/global_corpus";
  std::filesystem::create_directories(dir);
  const std::string good = dir + "/good.csv", bad = dir + "/bad.csv";
  {
    std::FILE* f = std::fopen(good.c_str(), "w");
    std::fprintf(f, "timestamp,value\n");
    for (int i = 0; i < 600; ++i)
      std::fprintf(f, "2020-01-%02d %02d:%02d:00,%d\n", 1 + i * 5 / 1440, (i * 5 / 60) % 24,
                   i * 5 % 60, 10 + i % 7);
    std::fclose(f);
    f = std::fopen(bad.c_str(), "w");
    std::fprintf(f, "timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:00:00,2\n");
    std::fclose(f);
  }
  GlobalTrainOptions o;
  o.episodes = 2;
  o.episode_steps = 500;
  auto c = build_corpus({good, bad}, o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  // 8 time scales of good.csv, then 6 families x (2 training + 1 validation) series.
  ASSERT_EQ(c->size(), 8u + 6u * 3u);
  EXPECT_EQ((*c)[0].name, "good@x8");
  EXPECT_EQ((*c)[0].x.size(), 75u);
  EXPECT_EQ((*c)[7].name, "good@/60");
  EXPECT_EQ((*c)[7].x.size(), 599u * 60u);
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ((*c)[i].validation_from, (*c)[i].x.size() * 4 / 5);
  int validation_only = 0;
  for (size_t i = 8; i < c->size(); ++i) {
    EXPECT_EQ((*c)[i].x.size(), 500u);
    validation_only += (*c)[i].validation_from == 0;
  }
  EXPECT_EQ(validation_only, 6);
}

}  // namespace
}  // namespace prescale::forecast

namespace prescale::forecast {
namespace {

TEST(Global, ShippedModelLoadsAndFitsTheGatewayBudget) {
  const std::string path = std::string(PRESCALE_SOURCE_DIR) + "/models/forecast/global.json";
  auto m = load_global(path);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->horizon, 12);
  EXPECT_LE(std::filesystem::file_size(path), 256u * 1024u);
  EXPECT_EQ(serialize_global(*m), *core::read_file(path));  // as written, nothing else
}

TEST(Global, SeasonalInputsFindTheRepeatingPeriodAndItsPhase) {
  GlobalModel m = random_model();
  m.horizon = 12;
  History h(m.context());
  // Period 7: 1, 2, ..., 7, repeated; a distinct value per phase.
  const int n = 200;
  for (int t = 0; t < n; ++t) h.push(1 + t % 7);
  std::vector<float> f(static_cast<size_t>(m.inputs()));
  std::vector<double> scratch;
  const double s = global_features(m, h, f.data(), &scratch);
  const float* season = f.data() + m.recent + m.blocks;
  EXPECT_FLOAT_EQ(season[3], 7.0f / static_cast<float>(m.season_max));  // P* = 7
  EXPECT_FLOAT_EQ(season[1], 0.0f);                                     // an exact repeat
  // The target t + 12 has the phase of t + 12 - 14 = t - 2: value 1 + (n - 1 - 2) % 7.
  EXPECT_FLOAT_EQ(season[0], static_cast<float>(std::log1p((1 + (n - 3) % 7) / s)));
  EXPECT_GT(season[2], 0.1f);  // the value 12 before does not match
}

}  // namespace
}  // namespace prescale::forecast
