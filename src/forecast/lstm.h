// The edge's learned forecaster: a one-layer LSTM over the last `window` samples (each
// sample as log1p-normalised value + the sine and cosine of its phase in the day), with a
// linear head that predicts the normalised value `horizon` samples ahead. Trained by
// lstm_train.cpp (libtorch), run here with Eigen (no libtorch at the gateway).
//
// Model file (JSON, format "prescale-lstm", version 1): trace, horizon, window, period,
// hidden, mean, std (of log1p(x) on the training split), w_ih [4H x 3], w_hh [4H x H],
// b [4H] (PyTorch gate order i, f, g, o; both PyTorch biases summed), head_w [H], head_b,
// checksum (FNV-1a 64 over every number in that order), training (provenance).
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "core/result.h"
#include "forecast/forecaster.h"

namespace prescale::forecast {

struct LstmModel {
  std::string trace;
  int horizon = 12, window = 48, period = 288, hidden = 32;
  float mean = 0, std = 1;     // of log1p(x) on the training split (float: as stored)
  Eigen::MatrixXf w_ih, w_hh;  // 4H x 3, 4H x H
  Eigen::VectorXf b, head_w;   // 4H, H
  float head_b = 0;
  std::string training_json = "{}";
};

inline constexpr int kLstmInputs = 3;  // normalised value, sin(phase), cos(phase)

std::string lstm_checksum(const LstmModel& m);
std::string serialize_lstm(const LstmModel& m);
core::Result<LstmModel> parse_lstm(const std::string& text, const std::string& origin);
core::Result<LstmModel> load_lstm(const std::string& path);
core::Status save_lstm(const LstmModel& m, const std::string& path);

// The input row of sample number n with value x.
void lstm_input(const LstmModel& m, long long n, double x, float* out);

class LstmForecaster : public Forecaster {
 public:
  explicit LstmForecaster(LstmModel model);
  std::string_view name() const override { return "lstm"; }
  void reset() override { history_.clear(); }
  void observe(double x) override { history_.push(x); }
  // The model's own horizon; other horizons get the same forecast (it was trained for one).
  double forecast(int h) const override;
  const LstmModel& model() const { return m_; }

 private:
  LstmModel m_;
  History history_;
  mutable Eigen::VectorXf h_, c_, gates_, x_;
};

}  // namespace prescale::forecast
