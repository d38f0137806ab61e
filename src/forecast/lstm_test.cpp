#include "forecast/lstm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "forecast/lstm_train.h"

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

TEST(Lstm, ShippedModelsLoadAndFitTheGatewayBudget) {
  const std::string path = std::string(PRESCALE_SOURCE_DIR) + "/models/forecast/nyc_taxi.json";
  auto m = load_lstm(path);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->horizon, 12);
  EXPECT_LE(std::filesystem::file_size(path), 256u * 1024u);
}

}  // namespace
}  // namespace prescale::forecast
