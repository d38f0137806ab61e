// Training the global edge forecaster (global.h) with libtorch, on many series at many time
// scales: never on the development traces (the caller passes the training traces; the CLI
// takes them from rl::training_traces, which excludes the nine of data/traces/README.md).
//
// The corpus (docs/forecast.md "The global forecaster"):
//   - every training trace (prepare_trace: resampled to its median gap) at six time scales:
//     aggregated x4 and x2 (means of consecutive samples), as sampled, and linearly
//     interpolated x4, x12 and x60 (a 5-minute trace replayed at real speed in the arena's 5 s
//     steps is x60), the interpolations with log-normal AR(1) noise (sigma 0.05, phi 0.8)
//     as a replay's jitter; the first 80% of each trains, the last 20% validates;
//   - the arena's load families (sim/traffic.h: intermittent on/off, diurnal, steps, spikes)
//     and the seed scenario's synthetic bursts, `episodes` series of `episode_steps` 5 s
//     steps each per family, the validation series on other seeds.
// Windows per series are capped (a seeded subsample of their ends) so that long series do
// not outweigh short ones. Labels: the target log1p(x[t+H] / s) and whether true_bursts has a
// burst at any of t+1..t+H.
//
// Loss: pinball at 0.5 and 0.9 on the normalised target plus burst_weight x binary cross
// entropy. Adam, early stopping on the validation loss (the best epoch kept). Then the
// detector's thresholds: raise in {0.1, 0.15, ..., 0.9}, release = 0.7 x raise: the best mean
// burst F1 (score_bursts, honest) over the validation series that have bursts, among the
// thresholds whose mean lead is at least H/2 (any, if none is).
// Deterministic for a seed on one machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "forecast/global.h"

namespace prescale::forecast {

struct GlobalTrainOptions {
  GlobalModel shape;  // horizon, recent, blocks, block, hidden (weights ignored)
  int max_epochs = 40;
  int patience = 5;
  int batch = 512;
  double lr = 1e-3;
  double burst_weight = 1.0;
  int episodes = 40;         // synthetic training series per family (a quarter more validate)
  int episode_steps = 3000;  // 5 s steps per synthetic series
  int max_windows = 4000;    // per series and time scale
  // The time scales of every training trace: aggregated by these factors (means of
  // consecutive samples), as sampled, and interpolated by these (k points per gap).
  std::vector<int> aggregate = {8, 6, 4, 2};
  std::vector<int> interpolate = {4, 12, 60};
  std::uint64_t seed = 1;
};

// One series of the corpus: its name (file and time scale, or family and seed), its values,
// and where its validation part starts (0 = all validation, n = all training).
struct CorpusSeries {
  std::string name;
  std::vector<double> x;
  size_t validation_from = 0;
};

// The corpus of the header, from the training traces' files; a file that does not load is
// skipped with a line on stderr naming it and why (as the RL trainer does).
core::Result<std::vector<CorpusSeries>> build_corpus(const std::vector<std::string>& traces,
                                                     const GlobalTrainOptions& o);

// Trains on the corpus; the model's training JSON lists the corpus (series, windows), the
// options, every epoch's losses and the threshold search. Progress lines go to stderr.
core::Result<GlobalModel> train_global(const std::vector<CorpusSeries>& corpus,
                                       const GlobalTrainOptions& o);

// Fine-tuning on a stream's own history (docs/forecast.md, "Fine-tuned on local history"),
// an option beside zero-shot, for a gateway that has some: starts from `base`'s weights,
// trains on the windows of `series` whose targets lie in [0, train_end), early-stopped on
// those in [train_end, validation_end). `base` itself is epoch 0, so the result is never
// worse than `base` on that validation loss. The detector keeps base's thresholds. Nothing
// at or after validation_end is read. Deterministic for a seed on one machine.
struct FinetuneOptions {
  int max_epochs = 100;  // early stopping decides (validation loss)
  int patience = 10;
  int batch = 256;
  double lr = 3e-4;  // a third of the global training's: a nudge, not a new model
  double burst_weight = 1.0;
  int max_windows = 20'000;  // training windows (a seeded subsample of more)
  std::uint64_t seed = 1;
  std::string source;  // what the history was (a file name), for the provenance
};
core::Result<GlobalModel> finetune_global(const GlobalModel& base,
                                          const std::vector<double>& series, size_t train_end,
                                          size_t validation_end, const FinetuneOptions& o);

}  // namespace prescale::forecast
