// Point-forecast accuracy at a horizon, on the chronological test split of a trace.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "core/result.h"
#include "forecast/burst.h"
#include "forecast/forecaster.h"
#include "sim/trace.h"

namespace prescale::forecast {

// The chronological split: the first 60% train, the next 20% validation, the last 20% test.
// Forecasters are scored on the test part only (they may observe everything before it).
struct Split {
  size_t train_end, validation_end, n;
};
Split chronological_split(size_t n);

struct PointMetrics {
  double mae = 0, rmse = 0, smape = 0;  // sMAPE in % (0..200), 0/0 pairs skipped
  size_t points = 0;
};

// Feeds the series one value at a time and scores the forecast of x[t + h] made after
// observing x[t], for targets t + h in [from, to) (to = 0: the end of the series).
PointMetrics evaluate(Forecaster& f, const std::vector<double>& series, int h, size_t from,
                      size_t to = 0);

// The longest day prepare_trace gives, in samples (a day at 1 ms).
inline constexpr double kMaxDaySamples = 86'400'000;

// A trace prepared for forecasting: resampled to its median sample gap (gaps interpolated),
// with its daily period in samples.
struct PreparedTrace {
  std::string file;
  double step_s = 0;
  int period = 0;  // samples per day (at most kMaxDaySamples)
  // The period the seasonal baselines hold: the day, but at most one more than the series
  // holds. A period the series never completes leaves them on their fallback (the last value;
  // Holt's linear method) whatever its length, so this changes no forecast and keeps a file of
  // a few millisecond-spaced rows from sizing a day of history (86.4 M samples each).
  int baseline_period() const {
    const size_t cap = series.size() + 1;
    return static_cast<int>(std::max<size_t>(2, std::min(static_cast<size_t>(period), cap)));
  }
  std::vector<double> series;
};
// order: sim::TimeOrder::kDropClockChanges for a training corpus (sim/trace.h).
core::Result<PreparedTrace> prepare_trace(const std::string& path,
                                          sim::TimeOrder order = sim::TimeOrder::kStrict);

// The baseline (of `names`, each over its grid) with the lowest MAE at horizon h on the
// validation split; `names` empty = all of baseline_names().
struct BaselineChoice {
  std::string name, params;
  double validation_mae = 0;
};
core::Result<BaselineChoice> best_baseline(const std::vector<double>& series, int period, int h,
                                           const std::vector<std::string>& names = {});

struct ForecastRow {
  std::string trace, model;
  std::string params;  // the parameters chosen on the validation split
  PointMetrics metrics;
  BurstMetrics bursts;  // the detector on this model's forecasts, test split
};

// Every baseline on every trace at horizon h (samples): parameters chosen by MAE on the
// validation split from a small grid (forecaster.h: baseline_grid), then point metrics and
// burst detection on the test split.
// With `lstm_dir` set, a trace whose model `lstm_dir/<file stem>.json` exists also gets an
// "lstm" row (the model must have been trained for horizon h).
// With `on_validation`, everything is scored on the validation split instead (targets and
// bursts in [60%, 80%)): the split on which to compare training choices (the baselines'
// figures there are in-sample for their parameter choice).
// With `global_model` (a global.h model file), every trace also gets a "global" row: the
// global forecaster zero-shot, its signal from its burst head (BurstHeadDetector); with
// `finetune` too, a "global-ft" row: the same model fine-tuned on the trace's training
// split, early-stopped on its validation split (global_train.h: finetune_global), scored as
// the others (on the validation split, in-sample for its early stopping, as the baselines'
// figures are for their parameters).
core::Result<std::vector<ForecastRow>> evaluate_baselines(const std::vector<std::string>& traces,
                                                          int h, const std::string& lstm_dir = "",
                                                          bool on_validation = false,
                                                          const std::string& global_model = "",
                                                          bool finetune = false,
                                                          std::uint64_t finetune_seed = 1);
// on_validation: the header names the validation split (evaluate_baselines' on_validation).
std::string format_forecast_table(const std::vector<ForecastRow>& rows, int h,
                                  bool on_validation = false);
std::string format_forecast_json(const std::vector<ForecastRow>& rows);

}  // namespace prescale::forecast
