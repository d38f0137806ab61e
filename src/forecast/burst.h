// Turning forecasts into a Burst_Signal, and scoring signals against the bursts that
// happened.
//
// Detector (online, per sample): baseline = median of the previous `baseline_window` samples;
// raise when forecast > raise_ratio x baseline (strictly, as the ground truth: a sample at
// exactly twice the median is not a burst, so persistence cannot lead), lower when forecast <
// release_ratio x baseline (hysteresis: release < raise, so the signal does not flap around the
// threshold), and hold at least `min_on` samples once raised. Ground truth = the arena's trace
// bursts (sim::mark_trace_bursts): rate > 2 x the median of the previous 60 samples.
#pragma once

#include <cstdint>
#include <vector>

#include "forecast/forecaster.h"

namespace prescale::forecast {

struct DetectorParams {
  double raise_ratio = 2.0;    // same threshold as the ground truth
  double release_ratio = 1.5;  // hysteresis
  int baseline_window = 60;    // samples in the rolling median (as the ground truth)
  int min_on = 3;              // samples the signal stays up once raised
};

// The detector, online: one update per sample, after the forecaster has seen it.
class BurstDetector {
 public:
  explicit BurstDetector(DetectorParams p);
  void reset();
  // x = the newest sample, forecast = the forecast made after it; returns the signal.
  bool update(double x, double forecast);
  bool up() const { return up_; }
  // The rolling baseline the last update compared against (median of the samples before x).
  double baseline() const { return baseline_; }
  const DetectorParams& params() const { return p_; }

 private:
  DetectorParams p_;
  History previous_;             // the last baseline_window samples before the newest
  std::vector<double> scratch_;  // for the median; no allocation after construction
  bool up_ = false;
  int held_ = 0;
  double baseline_ = 0;
};

// Runs forecaster + detector over a series; signal[t] is what the gateway would send after
// observing x[t]. With `forecasts`, also returns the forecast made after each x[t] (one
// pass: the forecaster may be the expensive part).
std::vector<std::uint8_t> detect_bursts(Forecaster& f, const std::vector<double>& series,
                                        int horizon, const DetectorParams& p,
                                        std::vector<double>* forecasts = nullptr);

// The arena's burst ground truth for a series.
std::vector<std::uint8_t> true_bursts(const std::vector<double>& series);

struct BurstMetrics {
  double precision = 0, recall = 0, f1 = 0;
  // Over detected bursts: burst start - the crediting signal's rise, at most the horizon
  // (negative = late).
  double mean_lead_steps = 0;
  int bursts = 0, detected = 0;
  int signals = 0;          // signal episodes still up at or after `from`
  int true_signals = 0;     // of those, the ones with at least one sample inside a burst window
  int signal_on_steps = 0;  // samples at or after `from` with the signal up
  int in_window_steps = 0;  // of those, the ones inside some burst window
};

// Scores a signal (a level held over time) against the bursts that start at or after
// `from`. Bursts = truth episodes merged when less than a horizon apart; burst b's window is
// [b.start - horizon, b.end].
// - Precision is time-based: in_window_steps / signal_on_steps over samples t >= from (an
//   always-on signal scores about window time / total time). No signal time: 1 if there are
//   no bursts, else 0.
// - Recall is event-based: b is detected by the first signal episode that overlaps its window
//   and rose after the previous burst (scored or not) ended (no previous burst: any rise). An
//   episode already up through the previous burst gets no credit for b.
// - Lead of a detected burst = b.start - that episode's rise, capped at the horizon (an
//   earlier rise is paid for in precision, not credited). Negative = late.
// No bursts: recall 1.
BurstMetrics score_bursts(const std::vector<std::uint8_t>& signal,
                          const std::vector<std::uint8_t>& truth, int horizon, size_t from);

}  // namespace prescale::forecast
