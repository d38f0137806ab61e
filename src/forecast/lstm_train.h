// Training the edge LSTM (libtorch; this is the only libtorch user in src/forecast).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "forecast/evaluate.h"
#include "forecast/lstm.h"

namespace prescale::forecast {

struct LstmTrainOptions {
  int horizon = 12;
  int window = 48;
  int hidden = 32;
  int max_epochs = 40;
  int patience = 6;  // epochs without a better validation MAE before stopping
  int batch = 256;
  double lr = 3e-3;
  // "log": smooth-L1 on the normalised log values; "l1": L1 on them (the median of the
  // target, which is what minimises the MAE); "raw": L1 on the values themselves (scaled by
  // their training mean): the evaluation's MAE, so bursts weigh what they cost.
  std::string loss = "log";
  // Training windows whose target is in a burst (true_bursts) weigh 1 + burst_weight.
  double burst_weight = 0;
  // "none": the plain LSTM (model version 1). "auto": a residual model (version 2) over the
  // best baseline on the validation split; a baseline name: over that baseline (its
  // parameters chosen on the validation split).
  std::string base = "none";
  std::uint64_t seed = 1;
};

// Trains on the chronological training split of the trace (targets in the first 60%),
// keeps the epoch with the best MAE on the validation split (the next 20%); the test split
// is never seen. `family`: more traces (of the trace's family) whose training splits (their
// own first 60%, each normalised by its own training statistics, each over its own
// validation-chosen baseline) are added to the training windows; selection stays on the
// trace's own validation split. Deterministic for a seed on one machine.
core::Result<LstmModel> train_lstm(const PreparedTrace& trace, const LstmTrainOptions& o,
                                   const std::vector<PreparedTrace>& family = {});

// Trains every combination of the options' grid (each vector's values; empty = the value in
// `o`) and keeps the model with the lowest MAE on the validation split, run through
// LstmForecaster as the evaluation runs it. The training JSON names the grid and the choice.
struct LstmGrid {
  std::vector<int> windows, hiddens;
  std::vector<double> lrs;
  std::vector<std::string> losses, bases;
};
core::Result<LstmModel> train_lstm_selected(const PreparedTrace& trace, const LstmTrainOptions& o,
                                            const LstmGrid& grid,
                                            const std::vector<PreparedTrace>& family = {});

// One intra-op thread for libtorch and OpenBLAS: faster than two on this 2-core machine (the
// RL trainer's rl::use_single_torch_thread does the same). Both forecast trainers call it.
void use_single_torch_thread();

// MAE of a model at its horizon on the validation split of a series.
double lstm_validation_mae(const LstmModel& m, const std::vector<double>& series);

}  // namespace prescale::forecast
