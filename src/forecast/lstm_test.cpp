#include "forecast/lstm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "forecast/lstm_train.h"
#include "sim/rng.h"

namespace prescale::forecast {
namespace {

// A daily-shaped series with noise-free structure: the LSTM must learn it well enough to
// beat the last value by far at h = 12 (a test that fails if training or the Eigen
// inference of the exported weights is broken).
PreparedTrace sine_trace() {
  PreparedTrace t;
  t.file = "sine.csv";
  t.step_s = 300;
  t.period = 48;
  for (int i = 0; i < 2400; ++i) t.series.push_back(1000 + 600 * std::sin(2 * M_PI * i / 48.0));
  return t;
}

TEST(Lstm, LearnsASeasonalSeriesAndTheEigenForwardMatchesTraining) {
  const PreparedTrace t = sine_trace();
  LstmTrainOptions o;
  o.max_epochs = 12;
  o.hidden = 16;
  o.window = 24;
  auto m = train_lstm(t, o);
  ASSERT_TRUE(m.ok()) << m.error().message;
  LstmForecaster lstm(*m);
  LastValue last;
  const Split s = chronological_split(t.series.size());
  const double mae_lstm = evaluate(lstm, t.series, 12, s.validation_end).mae;
  const double mae_last = evaluate(last, t.series, 12, s.validation_end).mae;
  EXPECT_LT(mae_lstm, 0.25 * mae_last) << "lstm " << mae_lstm << " last " << mae_last;
}

TEST(Lstm, SaveLoadGivesIdenticalForecastsAndCorruptionIsAClearError) {
  const PreparedTrace t = sine_trace();
  LstmTrainOptions o;
  o.max_epochs = 1;
  o.hidden = 8;
  o.window = 12;
  auto m = train_lstm(t, o);
  ASSERT_TRUE(m.ok()) << m.error().message;
  const std::string path = testing::TempDir() + "/lstm.json";
  ASSERT_TRUE(save_lstm(*m, path).ok());
  auto back = load_lstm(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  LstmForecaster a(*m), b(*back);
  for (int i = 0; i < 100; ++i) {
    a.observe(t.series[static_cast<size_t>(i)]);
    b.observe(t.series[static_cast<size_t>(i)]);
    ASSERT_EQ(a.forecast(12), b.forecast(12)) << i;
  }
  std::string text = serialize_lstm(*m);
  const size_t at = text.find("\"head_b\":") + 9;
  text[at] = text[at] == '1' ? '2' : '1';
  auto bad = parse_lstm(text, "models/forecast/x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("models/forecast/x.json"), std::string::npos)
      << bad.error().message;
  EXPECT_FALSE(parse_lstm("{\"format\":\"prescale-lstm\"}", "y.json").ok());
  EXPECT_FALSE(parse_lstm("not json", "z.json").ok());
}

TEST(Lstm, SameSeedSameModel) {
  const PreparedTrace t = sine_trace();
  LstmTrainOptions o;
  o.max_epochs = 2;
  o.hidden = 8;
  o.window = 12;
  auto a = train_lstm(t, o);
  auto b = train_lstm(t, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(lstm_checksum(*a), lstm_checksum(*b));
}

// A model with random LSTM weights over a baseline and a zero head: exactly the baseline.
LstmModel residual_model(const std::string& base, const std::string& params) {
  LstmModel m;
  m.trace = "t.csv";
  m.window = 8;
  m.hidden = 4;
  m.period = 48;
  m.mean = 7;
  m.std = 0.5f;
  m.base = base;
  m.base_params = params;
  m.w_ih = Eigen::MatrixXf::Random(16, 4);
  m.w_hh = Eigen::MatrixXf::Random(16, 4);
  m.b = Eigen::VectorXf::Random(16);
  m.head_w = Eigen::VectorXf::Zero(4);
  return m;
}

TEST(Lstm, ResidualModelWithAZeroHeadIsItsBaseline) {
  const PreparedTrace t = sine_trace();
  LstmForecaster lstm(residual_model("ewma", "alpha=0.3"));
  auto ewma = make_baseline("ewma", 48, "alpha=0.3");
  ASSERT_TRUE(ewma.ok());
  for (int i = 0; i < 200; ++i) {
    lstm.observe(t.series[static_cast<size_t>(i)]);
    (*ewma)->observe(t.series[static_cast<size_t>(i)]);
    const double want = (*ewma)->forecast(12);
    ASSERT_NEAR(lstm.forecast(12), want, 1e-4 * want) << i;
  }
  lstm.reset();
  lstm.observe(500);
  EXPECT_NEAR(lstm.forecast(12), 500, 0.05);  // the base was reset too
}

TEST(Lstm, ResidualModelFileRoundTripsAndItsChecksumCoversTheBase) {
  const LstmModel m = residual_model("holt-winters", "alpha=0.1,beta=0,gamma=0.2");
  const std::string text = serialize_lstm(m);
  EXPECT_NE(text.find("\"version\":2"), std::string::npos);
  auto back = parse_lstm(text, "r.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->base, m.base);
  EXPECT_EQ(back->base_params, m.base_params);
  EXPECT_EQ(back->w_ih.cols(), 4);
  LstmForecaster a(m), b(*back);
  for (int i = 0; i < 100; ++i) {
    a.observe(100 + i);
    b.observe(100 + i);
    ASSERT_EQ(a.forecast(12), b.forecast(12));
  }
  std::string edited = text;
  edited.replace(edited.find("gamma=0.2"), 9, "gamma=0.5");
  auto bad = parse_lstm(edited, "models/forecast/r.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("models/forecast/r.json: invalid LSTM model: checksum"),
            std::string::npos)
      << bad.error().message;
  LstmModel unknown = m;
  unknown.base = "oracle";
  auto no = parse_lstm(serialize_lstm(unknown), "u.json");
  ASSERT_FALSE(no.ok());
  EXPECT_NE(no.error().message.find("u.json: invalid LSTM model"), std::string::npos);
  // Version 1 files (no base) still load as before.
  LstmModel plain = m;
  plain.base.clear();
  plain.base_params.clear();
  plain.w_ih = Eigen::MatrixXf::Random(16, 3);
  const std::string v1 = serialize_lstm(plain);
  EXPECT_NE(v1.find("\"version\":1"), std::string::npos);
  EXPECT_EQ(v1.find("\"base\""), std::string::npos);
  EXPECT_TRUE(parse_lstm(v1, "p.json").ok());
}

TEST(Lstm, BestBaselineIsChosenOnValidation) {
  const PreparedTrace t = sine_trace();
  auto b = best_baseline(t.series, t.period, 12, {"last", "seasonal", "linreg"});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->name, "seasonal");
  EXPECT_LT(b->validation_mae, 1.0);
  auto e = best_baseline(t.series, t.period, 12, {"ewma"});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->name, "ewma");
  EXPECT_FALSE(e->params.empty());
}

// A noisy daily series: the residual LSTM starts at its baseline and keeps an epoch only when
// the validation MAE improves, so it is never worse than the baseline on validation.
TEST(Lstm, ResidualTrainingIsNoWorseThanItsBaselineOnValidation) {
  PreparedTrace t = sine_trace();
  sim::Rng rng(3);
  for (auto& v : t.series) v *= 1 + 0.2 * rng.normal();
  LstmTrainOptions o;
  o.max_epochs = 3;
  o.hidden = 8;
  o.window = 12;
  o.base = "ewma";
  o.loss = "l1";
  o.burst_weight = 2;
  auto m = train_lstm(t, o);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->base, "ewma");
  auto base = make_baseline(m->base, t.period, m->base_params);
  ASSERT_TRUE(base.ok());
  const Split s = chronological_split(t.series.size());
  const double base_mae = evaluate(**base, t.series, 12, s.train_end, s.validation_end).mae;
  EXPECT_LE(lstm_validation_mae(*m, t.series), base_mae * 1.001);
}

TEST(Lstm, SelectionKeepsTheBestValidationModelAndFamilyAddsWindows) {
  const PreparedTrace t = sine_trace();
  PreparedTrace other = sine_trace();
  other.file = "other.csv";
  for (auto& v : other.series) v *= 3;
  LstmTrainOptions o;
  o.max_epochs = 1;
  o.hidden = 4;
  o.window = 12;
  LstmGrid grid;
  grid.bases = {"none", "seasonal"};
  grid.losses = {"l1"};
  auto m = train_lstm_selected(t, o, grid, {other});
  ASSERT_TRUE(m.ok()) << m.error().message;
  const std::string j = m->training_json;
  EXPECT_NE(j.find("selected_on_validation"), std::string::npos) << j;
  EXPECT_NE(j.find("other.csv"), std::string::npos) << j;
  // The kept model is the better of the two on validation (the seasonal base is exact here).
  EXPECT_EQ(m->base, "seasonal");
  auto alone = train_lstm(t, o);
  auto pooled = train_lstm(t, o, {other});
  ASSERT_TRUE(alone.ok() && pooled.ok());
  EXPECT_NE(alone->training_json.find("\"train_windows\":"), std::string::npos);
  EXPECT_GT(pooled->training_json.size(), alone->training_json.size());
}

TEST(Lstm, ShippedModelsLoadAndFitTheGatewayBudget) {
  const std::string dir = std::string(PRESCALE_SOURCE_DIR) + "/models/forecast";
  int models = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    auto m = load_lstm(e.path().string());
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->horizon, 12) << e.path();
    EXPECT_LE(std::filesystem::file_size(e.path()), 256u * 1024u) << e.path();
    ++models;
  }
  EXPECT_GE(models, 8);
}

}  // namespace
}  // namespace prescale::forecast
