// Turning forecasts into a Burst_Signal, and scoring signals against the bursts that
// happened.
//
// Detector (online, per sample): baseline = median of the previous `baseline_window` samples;
// raise when forecast >= raise_ratio x baseline, lower when forecast < release_ratio x
// baseline (hysteresis: release < raise, so the signal does not flap around the threshold),
// and hold at least `min_on` samples once raised.
// Ground truth = the arena's trace bursts (sim::mark_trace_bursts): rate > 2 x the median of
// the previous 60 samples.
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
  double mean_lead_steps = 0;  // over detected bursts: burst start - signal rise (negative = late)
  int bursts = 0, detected = 0, signals = 0, true_signals = 0;
};

// Scores signal episodes against burst episodes that start at or after `from`. Truth
// episodes less than a horizon apart are one burst. A burst is detected when a signal
// episode overlaps [start - horizon, end]; its lead is start - the episode's rise (negative
// when late; the horizon when the signal was already up before the window). A signal
// episode is a true positive when it overlaps such a window of some burst (else a false
// alarm). No bursts and no signals: precision = recall = F1 = 1.
BurstMetrics score_bursts(const std::vector<std::uint8_t>& signal,
                          const std::vector<std::uint8_t>& truth, int horizon, size_t from);

}  // namespace prescale::forecast
