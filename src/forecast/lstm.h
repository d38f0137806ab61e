// The edge's learned forecaster: a one-layer LSTM over the last `window` samples (each
// sample as log1p-normalised value + the sine and cosine of its phase in the day), with a
// linear head that predicts the normalised value `horizon` samples ahead. Trained by
// lstm_train.cpp (libtorch), run here with Eigen (no libtorch at the gateway).
//
// Model file (JSON, format "prescale-lstm", version 1): trace, horizon, window, period,
// hidden, mean, std (of log1p(x) on the training split), w_ih [4H x 3], w_hh [4H x H],
// b [4H] (PyTorch gate order i, f, g, o; both PyTorch biases summed), head_w [H], head_b,
// checksum (FNV-1a 64 over every number in that order), training (provenance).
//
// Version 2 (a residual model): also base and base_params, a classical baseline
// (forecaster.h: make_baseline, chosen on the validation split at training) that the LSTM
// corrects. Each sample's input row gets a 4th number, the normalised log1p of the
// baseline's forecast made after that sample (w_ih is 4H x 4), and the output is
// z = z_base + head (z_base = that number at the newest sample): a head of zero is exactly
// the baseline. The checksum also covers the characters of base and base_params.
//
// Version 3 (what is written now): either kind (residual when it has `base`), with the
// checksum over every field the model is made of: version, trace, horizon, window, period,
// hidden, the numbers, base and base_params (lstm_checksum); not training, which is
// provenance (with the wall time: two runs of one seed still give one checksum). Versions 1 and 2
// left window and period unprotected (an edited window was accepted, and moved the MAE from 937 to
// 4692); they load only after `prescale models upgrade FILE`, which checks their old
// checksum and rewrites them. Shapes are bounded before anything is allocated
// (kMaxLstm*): a window of 2^30 would ask for gigabytes.
#pragma once

#include <Eigen/Core>
#include <memory>
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
  std::string base, base_params;  // version 2: the baseline corrected ("" = none, version 1)
  std::string training_json = "{}";
  bool residual() const { return !base.empty(); }
  int inputs() const { return residual() ? 4 : 3; }
};

inline constexpr int kLstmInputs = 3;  // normalised value, sin(phase), cos(phase)

inline constexpr int kLstmVersion = 3;
inline constexpr int kMaxLstmWindow = 10'000;     // samples fed per forecast
inline constexpr int kMaxLstmPeriod = 1'000'000;  // samples per season
inline constexpr int kMaxLstmHorizon = 100'000;
inline constexpr int kMaxLstmHidden = 1024;

// The version-3 checksum (every field; see above).
std::string lstm_checksum(const LstmModel& m);
// A version 1 or 2 file's text (whose checksum must hold by its version's rules) rewritten
// as version 3; a version-3 file comes back re-serialised. `prescale models upgrade`.
core::Result<std::string> upgrade_lstm(const std::string& text, const std::string& origin);
std::string serialize_lstm(const LstmModel& m);
core::Result<LstmModel> parse_lstm(const std::string& text, const std::string& origin);
core::Result<LstmModel> load_lstm(const std::string& path);
core::Status save_lstm(const LstmModel& m, const std::string& path);

// The input row of sample number n with value x (its first kLstmInputs numbers; a residual
// model's 4th is lstm_normalise(m, the baseline's forecast after that sample)).
void lstm_input(const LstmModel& m, long long n, double x, float* out);
float lstm_normalise(const LstmModel& m, double x);     // (log1p(max(0, x)) - mean) / std
double lstm_denormalise(const LstmModel& m, double z);  // max(0, expm1(z * std + mean))

class LstmForecaster : public Forecaster {
 public:
  // A residual model's baseline must be valid (parse_lstm checks it).
  explicit LstmForecaster(LstmModel model);
  LstmForecaster(const LstmForecaster&) = delete;
  LstmForecaster& operator=(const LstmForecaster&) = delete;
  std::string_view name() const override { return "lstm"; }
  void reset() override;
  void observe(double x) override;
  // The model's own horizon; other horizons get the same forecast (it was trained for one).
  double forecast(int h) const override;
  const LstmModel& model() const { return m_; }

 private:
  LstmModel m_;
  History history_;
  std::unique_ptr<Forecaster> base_;  // residual models: the baseline, observing every sample
  History base_history_;              // its normalised forecasts after the held samples
  mutable Eigen::VectorXf h_, c_, gates_, x_;
};

}  // namespace prescale::forecast
