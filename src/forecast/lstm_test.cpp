#include "forecast/lstm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/checksum.h"
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

TEST(Lstm, ATraceOfMillisecondSamplesTrainsAModelThatLoads) {
  // 400 samples 0.1 ms apart: a day of 86.4 M samples. Training wrote that as the model's
  // period, which every loader refuses (kMaxLstmPeriod), and sized its seasonal candidates
  // for a day of history (851 MB resident for 400 rows).
  PreparedTrace t;
  t.file = "ms.csv";
  t.step_s = 1e-4;
  t.period = static_cast<int>(kMaxDaySamples);
  for (int i = 0; i < 400; ++i) t.series.push_back(100 + 10 * (i % 7));
  LstmTrainOptions o;
  o.max_epochs = 1;
  o.hidden = 8;
  o.window = 12;
  o.base = "auto";
  auto m = train_lstm(t, o);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->period, kMaxLstmPeriod);
  auto back = parse_lstm(serialize_lstm(*m), "ms.json");
  EXPECT_TRUE(back.ok()) << back.error().message;
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
  EXPECT_NE(text.find("\"version\":3"), std::string::npos);
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
  // A plain model (no base) is version 3 too, without the base fields.
  LstmModel plain = m;
  plain.base.clear();
  plain.base_params.clear();
  plain.w_ih = Eigen::MatrixXf::Random(16, 3);
  const std::string v3 = serialize_lstm(plain);
  EXPECT_NE(v3.find("\"version\":3"), std::string::npos);
  EXPECT_EQ(v3.find("\"base\""), std::string::npos);
  EXPECT_TRUE(parse_lstm(v3, "p.json").ok());
}

// A file's text with one JSON field's value replaced (the field must be a number or string).
std::string with_field(std::string text, const std::string& key, const std::string& value) {
  const size_t at = text.find("\"" + key + "\":");
  EXPECT_NE(at, std::string::npos) << key;
  const size_t from = at + key.size() + 3;
  const size_t to = text.find_first_of(",}", from);
  return text.replace(from, to - from, value);
}

// The checksum versions 1 and 2 wrote (numbers, and a residual model's base), rebuilt here
// from the format's description so that legacy files can be made in a test.
std::string legacy_checksum(const LstmModel& m) {
  core::Fnv1a64 f;
  f.add(m.mean);
  f.add(m.std);
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  for (const RowMajor& w : {RowMajor(m.w_ih), RowMajor(m.w_hh)})
    for (Eigen::Index i = 0; i < w.size(); ++i) f.add(w.data()[i]);
  for (Eigen::Index i = 0; i < m.b.size(); ++i) f.add(m.b[i]);
  for (Eigen::Index i = 0; i < m.head_w.size(); ++i) f.add(m.head_w[i]);
  f.add(m.head_b);
  for (char c : m.base) f.add(static_cast<float>(static_cast<unsigned char>(c)));
  f.add(-1.0f);
  for (char c : m.base_params) f.add(static_cast<float>(static_cast<unsigned char>(c)));
  return f.hex();
}

TEST(Lstm, EveryFieldIsUnderTheChecksumAndShapesAreBoundedFirst) {
  const std::string good = serialize_lstm(residual_model("ewma", "alpha=0.3"));
  ASSERT_TRUE(parse_lstm(good, "m.json").ok());
  const struct {
    const char* name;
    const char* key;
    std::string value;
    const char* expect;
  } cases[] = {
      // Versions 1 and 2 accepted these edits (the MAE went from 937 to 4692).
      {"an edited window is caught", "window", "9", "checksum mismatch"},
      {"an edited period is caught", "period", "24", "checksum mismatch"},
      {"an edited horizon is caught", "horizon", "3", "checksum mismatch"},
      {"an edited trace name is caught", "trace", "\"other.csv\"", "checksum mismatch"},
      {"a window of 2^30 is refused before allocating", "window", "1073741824",
       "window: expected an integer in [1, 10000]"},
      {"a period of 2^40 is not wrapped into range", "period", "1099511627776",
       "period: expected an integer in [2, 1000000]"},
      {"a fractional hidden size is refused", "hidden", "4.5", "hidden: expected an integer"},
      {"a number too large for a double is an error, not an abort", "head_b", "1e999",
       "unreadable field"},
      {"a mean too large for a float is refused", "mean", "1e300", "mean: expected a finite"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parse_lstm(with_field(good, c.key, c.value), "m.json");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(std::string("m.json: invalid LSTM model: ")),
              std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
}

TEST(Lstm, LegacyFilesLoadOnlyAfterAnUpgradeThatChecksTheirOldChecksum) {
  const LstmModel m = residual_model("ewma", "alpha=0.3");
  const std::string v2 = with_field(with_field(serialize_lstm(m), "version", "2"), "checksum",
                                    "\"" + legacy_checksum(m) + "\"");
  auto refused = parse_lstm(v2, "old.json");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("run `prescale models upgrade old.json`"),
            std::string::npos)
      << refused.error().message;
  auto upgraded = upgrade_lstm(v2, "old.json");
  ASSERT_TRUE(upgraded.ok()) << upgraded.error().message;
  EXPECT_EQ(*upgraded, serialize_lstm(m));  // only the version and the checksum change
  auto again = upgrade_lstm(*upgraded, "old.json");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *upgraded);  // idempotent
  // An old file whose old checksum does not hold is not upgraded.
  EXPECT_FALSE(upgrade_lstm(with_field(v2, "head_b", "0.5"), "old.json").ok());
}

TEST(Lstm, ShippedModelsAreCurrent) {
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(PRESCALE_SOURCE_DIR) + "/models/forecast")) {
    if (entry.path().filename() == "global.json") continue;  // the global model (global_test)
    SCOPED_TRACE(entry.path().string());
    auto m = load_lstm(entry.path().string());
    EXPECT_TRUE(m.ok()) << m.error().message;
  }
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
    if (e.path().extension() != ".json" || e.path().filename() == "global.json") continue;
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
