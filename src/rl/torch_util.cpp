#include "rl/torch_util.h"

#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace prescale::rl {

torch::nn::Sequential make_mlp(int in, int hidden, int layers, int out, bool out_tanh,
                               double out_gain) {
  torch::nn::Sequential net;
  int width = in;
  for (int i = 0; i < layers; ++i) {
    torch::nn::Linear l(width, hidden);
    torch::nn::init::orthogonal_(l->weight, std::sqrt(2.0));
    torch::nn::init::zeros_(l->bias);
    net->push_back(l);
    net->push_back(torch::nn::Tanh());
    width = hidden;
  }
  torch::nn::Linear last(width, out);
  torch::nn::init::orthogonal_(last->weight, out_gain);
  torch::nn::init::zeros_(last->bias);
  net->push_back(last);
  if (out_tanh) net->push_back(torch::nn::Tanh());
  return net;
}

std::vector<policy::DenseLayer> export_layers(const torch::nn::Sequential& net, bool out_tanh) {
  std::vector<policy::DenseLayer> out;
  for (const auto& child : net->children()) {
    auto* lin = child->as<torch::nn::Linear>();
    if (!lin) continue;
    torch::Tensor w = lin->weight.detach().contiguous().to(torch::kFloat32);
    torch::Tensor b = lin->bias.detach().contiguous().to(torch::kFloat32);
    policy::DenseLayer d;
    const auto rows = w.size(0), cols = w.size(1);
    d.w.resize(rows, cols);
    const float* wp = w.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) d.w(r, c) = wp[r * cols + c];
    d.b = Eigen::Map<const Eigen::VectorXf>(b.data_ptr<float>(), rows);
    d.tanh = true;
    out.push_back(std::move(d));
  }
  if (!out.empty()) out.back().tanh = out_tanh;
  return out;
}

core::Status save_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  const std::string tmp = path + ".tmp";
  try {
    archive.save_to(tmp);
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    return core::Error{tmp + ": cannot write checkpoint: " + e.what()};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return core::Error{path + ": cannot move checkpoint into place: " + ec.message()};
  return core::Status::Ok();
}

core::Status load_archive(torch::serialize::InputArchive& archive, const std::string& path) {
  if (!std::filesystem::exists(path)) return core::Error{path + ": no such checkpoint"};
  try {
    archive.load_from(path);
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    return core::Error{path + ": not a readable checkpoint (" + what + ")"};
  }
  return core::Status::Ok();
}

core::Status check_shape(torch::serialize::InputArchive& archive, const char* key,
                         const std::vector<double>& expected, size_t offset,
                         const std::string& path, std::vector<double>* record) {
  torch::Tensor t;
  archive.read(key, t);
  *record = to_doubles(t);
  bool same = record->size() == offset + expected.size();
  for (size_t i = 0; same && i < expected.size(); ++i) same = (*record)[offset + i] == expected[i];
  if (!same) return core::Error{path + ": checkpoint is for a different network shape"};
  return core::Status::Ok();
}

core::Error checkpoint_error(const std::string& path, const std::exception& e) {
  std::string what = e.what();
  if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
  return core::Error{path + ": incomplete or mismatched checkpoint (" + what + ")"};
}

torch::Tensor to_tensor(const std::vector<double>& v) {
  return torch::tensor(v, torch::TensorOptions().dtype(torch::kFloat64));
}

std::vector<double> to_doubles(const torch::Tensor& t) {
  torch::Tensor c = t.contiguous().to(torch::kFloat64);
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

}  // namespace prescale::rl

#include "rl/trainer.h"

namespace prescale::rl {
void use_single_torch_thread() {
  // OpenBLAS (behind Debian's libtorch) keeps its own thread pool: two trainers each calling
  // it with two threads ran 4x slower than with one (measured 17k vs 85k steps/s each).
  using SetThreads = void (*)(int);
  if (auto* set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set(1);
  at::set_num_threads(1);
  try {
    at::set_num_interop_threads(1);
  } catch (const std::exception&) {
    // already set (it may be set once per process)
  }
}
}  // namespace prescale::rl
