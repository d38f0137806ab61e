// The global edge forecaster (issue 14): one model for every stream, trained on many series
// (global_train.h) and run zero-shot on a stream it has never seen, with Eigen (no libtorch
// at the gateway).
//
// Scale-free by construction: every forecast looks at the last span() samples (fewer at
// start-up: the oldest held value fills the rest), divides them by their mean s, and feeds
// the MLP
//   - the newest `recent` samples, each as log1p(x / s), newest first;
//   - `blocks` block means of `block` samples each (newest block first, covering the span),
//     each as log1p(mean / s): the day behind a 5-minute stream, at a glance;
//   - four seasonal inputs, for load that repeats at a period nobody told it (a daily cycle
//     at a coarse step, a cron job): for every period P in 2..season_max, the mean absolute
//     difference between the last season_window samples and the ones P before them (over s);
//     at the best-matching P*: log1p(x[t+H-mP*] / s) (the newest sample at the target's
//     phase: a seasonal naive forecast at the detected period), that mismatch, the mismatch
//     of the value H before (how well the last value would have done), and P* / season_max.
//     With too little history for P = 2: the newest value, 1, 1 and 0.
// Two hidden layers (ReLU) and three outputs:
//   - z50 = log1p(x[t] / s) + o1: the median of log1p(x[t+H] / s), as a change from the
//     newest sample (an output of 0 is the last value, exact however smooth the stream), so
//     the rate forecast is s x expm1(z50) (the median is what minimises the MAE);
//   - z90 = z50 + softplus(o2): the 90% quantile, for provisioning;
//   - the logit of P(a burst within H), where a burst is the arena's ground truth
//     (true_bursts: rate > 2 x the median of the previous 60 samples) at any of the next H
//     samples.
// A context whose mean is 0 (nothing has arrived) forecasts 0 with the burst probability the
// model gives an all-zero input.
//
// Model file (JSON, format "prescale-global-forecaster", version 1): horizon, recent, blocks,
// block, hidden, season_max, season_window, w1 [hidden x inputs], b1, w2 [hidden x hidden], b2, w3
// [3 x hidden], b3 (row-major), raise and release (the detector's thresholds on the burst
// probability, chosen at training), checksum (FNV-1a 64 over every field but training), training
// (provenance: what it was trained on). Shapes are bounded before anything is allocated.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "core/result.h"
#include "forecast/forecaster.h"

namespace prescale::forecast {

inline constexpr int kGlobalVersion = 1;
inline constexpr int kMaxGlobalHorizon = 10'000;
inline constexpr int kMaxGlobalContext = 100'000;  // recent and blocks x block
inline constexpr int kMaxGlobalHidden = 1024;
inline constexpr int kMaxGlobalSeason = 10'000;  // season_max and season_window

struct GlobalModel {
  int horizon = 12;
  int recent = 96;  // newest samples fed one by one
  int blocks = 24;  // block means
  int block = 12;   // samples per block
  int hidden = 64;
  // The seasonal inputs: periods 2..season_max are tried, each matched over the last
  // season_window samples (0 = no seasonal inputs).
  int season_max = 96;
  int season_window = 48;
  Eigen::MatrixXf w1, w2, w3;  // hidden x inputs, hidden x hidden, 3 x hidden
  Eigen::VectorXf b1, b2, b3;
  float raise = 0.5f, release = 0.35f;  // the detector's thresholds on P(burst within H)
  std::string training_json = "{}";
  int seasonal_inputs() const { return season_max > 0 ? 4 : 0; }
  int inputs() const { return recent + blocks + seasonal_inputs(); }
  // Samples the scale s is the mean of.
  int span() const { return recent > blocks * block ? recent : blocks * block; }
  // Samples held: the span, and what the seasonal match looks back over.
  int context() const {
    const int season = season_max > 0 ? season_max + season_window : 0;
    return span() > season ? span() : season;
  }
};

// The limits on a model's shape beyond each field's own range (kMaxGlobal*): the block
// context and the seasonal match's work per forecast (season_max x season_window) are each at
// most kMaxGlobalContext. parse_global and train_global check it before allocating.
core::Status check_global_shape(const GlobalModel& m);

std::string global_checksum(const GlobalModel& m);
std::string serialize_global(const GlobalModel& m);
core::Result<GlobalModel> parse_global(const std::string& text, const std::string& origin);
core::Result<GlobalModel> load_global(const std::string& path);
core::Status save_global(const GlobalModel& m, const std::string& path);

// The model's input for the history `h` (newest = h.back(0)): writes m.inputs() numbers to
// `out` and returns the scale s (0 when the span's mean is 0 or nothing is held); `scratch`
// holds the context (sized on the first call, then reused). Training and inference both call
// this, so they cannot disagree.
double global_features(const GlobalModel& m, const History& h, float* out,
                       std::vector<double>* scratch);

// What the three heads say, back in the stream's units.
struct GlobalOutput {
  double median = 0;   // forecast of x[t+H]
  double p90 = 0;      // its 90% quantile
  double burst_p = 0;  // P(a burst within H)
};

class GlobalForecaster : public Forecaster {
 public:
  explicit GlobalForecaster(GlobalModel model);
  std::string_view name() const override { return "global"; }
  void reset() override;
  void observe(double x) override;
  // The median at the model's horizon (other horizons get the same: it was trained for one).
  double forecast(int h) const override;
  // All three heads for the samples observed so far (no allocation).
  GlobalOutput output() const;
  const GlobalModel& model() const { return m_; }

 private:
  GlobalModel m_;
  History history_;
  mutable std::vector<double> scratch_;
  mutable Eigen::VectorXf in_, h1_, h2_, out_;
};

// The Burst_Signal from the burst head: raise when P >= raise, lower when P < release (<=
// raise: hysteresis), held at least `min_on` samples once raised.
class BurstHeadDetector {
 public:
  BurstHeadDetector(double raise, double release, int min_on = 3)
      : raise_(raise), release_(release), min_on_(min_on) {}
  void reset() { up_ = false, held_ = 0; }
  bool update(double burst_p);
  bool up() const { return up_; }

 private:
  double raise_, release_;
  int min_on_;
  bool up_ = false;
  int held_ = 0;
};

// Runs the model over a series: signal[t] (the burst head's detector after observing x[t])
// and, when asked, the median and p90 forecasts made after each x[t].
std::vector<std::uint8_t> global_signal(const GlobalModel& m, const std::vector<double>& series,
                                        std::vector<double>* median = nullptr,
                                        std::vector<double>* p90 = nullptr,
                                        std::vector<double>* burst_p = nullptr);

}  // namespace prescale::forecast
