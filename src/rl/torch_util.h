// Helpers shared by the torch-based agents (included by their .cpp files only).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/result.h"
#include "policy/rl_model.h"

namespace prescale::rl {

// Linear-Tanh-...-Linear; the last layer's activation as asked. Orthogonal init with
// gain sqrt(2) for hidden layers and `out_gain` for the last (PPO practice).
torch::nn::Sequential make_mlp(int in, int hidden, int layers, int out, bool out_tanh,
                               double out_gain);

// The Linear layers of a make_mlp network as shipped layers.
std::vector<policy::DenseLayer> export_layers(const torch::nn::Sequential& net, bool out_tanh);

// Atomic torch archive write / guarded read.
core::Status save_archive(torch::serialize::OutputArchive& archive, const std::string& path);
core::Status load_archive(torch::serialize::InputArchive& archive, const std::string& path);

// A checkpoint's shape record (numbers stored under `key`) read and compared with `expected`
// from position `offset` on; the error says the network differs.
core::Status check_shape(torch::serialize::InputArchive& archive, const char* key,
                         const std::vector<double>& expected, size_t offset,
                         const std::string& path, std::vector<double>* record);

// The error for a checkpoint whose entries could not be read (first line of the reason).
core::Error checkpoint_error(const std::string& path, const std::exception& e);

torch::Tensor to_tensor(const std::vector<double>& v);
std::vector<double> to_doubles(const torch::Tensor& t);

}  // namespace prescale::rl
