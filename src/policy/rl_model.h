// Trained networks as shipped in models/: a small JSON file per network and an
// allocation-free Eigen forward pass for deciding.
//
// Training (src/rl, libtorch) exports its actor networks into this format; deciding reads
// them without libtorch: one observation through a 24-64-64-23 MLP costs ~1 µs here against
// ~13 µs through libtorch's per-call dispatch (the project notes' stack.md), which is what keeps
// one hierarchical decision far below its 100 µs budget.
//
// File format (JSON object, version 2):
//   format   "prescale-model"          version  2
//   kind     "worker" | "manager"       variant  "rl-basic" | "rl-shuffle" | "rl-full" | "manager"
//   features [names of the inputs, in order]   obs_mean, obs_std: per-input normalisation
//   heads    sizes of the output heads (worker: categorical logits; manager: one tanh output)
//   layers   [{"in","out","activation":"tanh"|"linear","w":[out*in, row-major],"b":[out]}]
//   checksum FNV-1a 64 (hex) over every field the model is made of (model_checksum): all
//            but format, checksum and training, which is provenance (it holds the wall
//            time, so two runs of one seed still give one checksum) and no decision reads
//   training free-form provenance (command, seed, steps, time, evaluation), a JSON object
// Version 1 files differ only in the checksum, which covered the floats alone (an edited
// kind, head or activation went unnoticed); they load only after `prescale models upgrade`.
// Shapes are bounded before anything is allocated: at most kMaxModelWidth inputs per layer
// and outputs, kMaxModelLayers layers.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "core/result.h"

namespace prescale::policy {

inline constexpr int kModelVersion = 2;
inline constexpr int kMaxModelWidth = 4096;  // inputs, outputs of any layer
inline constexpr int kMaxModelLayers = 64;

struct DenseLayer {
  Eigen::MatrixXf w;  // out x in
  Eigen::VectorXf b;  // out
  bool tanh = true;   // false: linear
};

// A multi-layer perceptron with input normalisation. forward() reuses preallocated
// buffers: no allocation after construction.
class Mlp {
 public:
  Mlp() = default;
  Mlp(std::vector<DenseLayer> layers, Eigen::VectorXf mean, Eigen::VectorXf std);

  int inputs() const { return static_cast<int>(mean_.size()); }
  int outputs() const { return layers_.empty() ? 0 : static_cast<int>(layers_.back().b.size()); }
  const std::vector<DenseLayer>& layers() const { return layers_; }
  const Eigen::VectorXf& mean() const { return mean_; }
  const Eigen::VectorXf& stddev() const { return std_; }

  // x has inputs() values; returns the output layer (valid until the next call).
  const Eigen::VectorXf& forward(const float* x) const;

 private:
  std::vector<DenseLayer> layers_;
  Eigen::VectorXf mean_, std_;
  mutable std::vector<Eigen::VectorXf> act_;  // one buffer per layer output + the input
};

struct Model {
  std::string kind;     // "worker" | "manager"
  std::string variant;  // see the file format above
  std::vector<std::string> features;
  std::vector<int> heads;
  Mlp net;
  std::string training_json = "{}";  // provenance, a JSON object
};

// Loads and validates a model file. Errors name the file and what is wrong: unreadable,
// not JSON, wrong format/version, missing or mistyped field (by name), shapes that do not
// chain, non-finite numbers, checksum mismatch (a corrupted file).
core::Result<Model> load_model(const std::string& path);

// Parses a model from text; `origin` names it in errors.
core::Result<Model> parse_model(const std::string& text, const std::string& origin);

// Serialises (with checksum) and writes atomically.
std::string serialize_model(const Model& model);
core::Status save_model(const Model& model, const std::string& path);

// The checksum of a version-2 file: every field the model is made of (version, kind,
// variant, features, heads, the normalisation, each layer's shape, activation and numbers).
std::string model_checksum(const Model& model);
// The version-1 checksum, over the numbers alone (also a cheap fingerprint of the weights).
std::string model_checksum(const Mlp& net);

// A version-1 file's text (whose checksum must hold by version 1's rules) rewritten as
// version 2; a version-2 file comes back re-serialised. Nothing but the version and the
// checksum changes. This is `prescale models upgrade`.
core::Result<std::string> upgrade_model(const std::string& text, const std::string& origin);

}  // namespace prescale::policy
