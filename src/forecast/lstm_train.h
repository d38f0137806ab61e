// Training the edge LSTM (libtorch; this is the only libtorch user in src/forecast).
#pragma once

#include <cstdint>
#include <string>

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
  // "log": smooth-L1 on the normalised log values; "raw": L1 on the values themselves
  // (scaled by their training mean): the evaluation's MAE, so bursts weigh what they cost.
  std::string loss = "log";
  std::uint64_t seed = 1;
};

// Trains on the chronological training split of the trace (targets in the first 60%),
// keeps the epoch with the best MAE on the validation split (the next 20%); the test split
// is never seen. Deterministic for a seed on one machine.
core::Result<LstmModel> train_lstm(const PreparedTrace& trace, const LstmTrainOptions& o);

}  // namespace prescale::forecast
