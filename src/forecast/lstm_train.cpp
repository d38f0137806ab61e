#include "forecast/lstm_train.h"

#include <torch/torch.h>

#include <dlfcn.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

#include "sim/rng.h"

namespace prescale::forecast {

namespace {

struct Net : torch::nn::Module {
  Net(int hidden)
      : lstm(torch::nn::LSTMOptions(kLstmInputs, hidden).batch_first(true)), head(hidden, 1) {
    register_module("lstm", lstm);
    register_module("head", head);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto out = std::get<0>(lstm->forward(x));  // [B, W, H]
    return head->forward(out.select(1, out.size(1) - 1)).squeeze(1);
  }
  torch::nn::LSTM lstm;
  torch::nn::Linear head;
};

void single_thread() {
  using SetThreads = void (*)(int);
  if (auto* set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set(1);
  at::set_num_threads(1);
}

}  // namespace

core::Result<LstmModel> train_lstm(const PreparedTrace& trace, const LstmTrainOptions& o) {
  single_thread();
  torch::manual_seed(o.seed);
  const auto& x = trace.series;
  const Split split = chronological_split(x.size());
  const int W = o.window, H = o.horizon;
  if (split.train_end < static_cast<size_t>(W + H + 10)) {
    return core::Error{trace.file + ": too short to train an LSTM (window " + std::to_string(W) +
                       ", horizon " + std::to_string(H) + ")"};
  }
  LstmModel m;
  m.trace = trace.file;
  m.horizon = H;
  m.window = W;
  m.period = trace.period;
  m.hidden = o.hidden;
  // Normalisation from the training split only.
  double sum = 0, sq = 0;
  for (size_t t = 0; t < split.train_end; ++t) sum += std::log1p(std::max(0.0, x[t]));
  const double mean = sum / static_cast<double>(split.train_end);
  for (size_t t = 0; t < split.train_end; ++t) {
    const double d = std::log1p(std::max(0.0, x[t])) - mean;
    sq += d * d;
  }
  m.mean = static_cast<float>(mean);
  m.std = static_cast<float>(std::max(1e-6, std::sqrt(sq / static_cast<double>(split.train_end))));

  std::vector<float> inputs(x.size() * kLstmInputs);
  for (size_t n = 0; n < x.size(); ++n)
    lstm_input(m, static_cast<long long>(n), x[n], &inputs[n * kLstmInputs]);
  // Windows ending at e, target z[e + H]: training targets < train_end, validation targets in
  // [train_end, validation_end).
  auto build = [&](size_t target_lo, size_t target_hi, torch::Tensor* X, torch::Tensor* Y,
                   std::vector<double>* raw) {
    std::vector<float> xs, ys;
    raw->clear();
    for (size_t target = std::max(target_lo, static_cast<size_t>(W - 1 + H)); target < target_hi;
         ++target) {
      const size_t e = target - static_cast<size_t>(H);
      xs.insert(xs.end(), inputs.begin() + static_cast<long>((e + 1 - W) * kLstmInputs),
                inputs.begin() + static_cast<long>((e + 1) * kLstmInputs));
      ys.push_back(inputs[target * kLstmInputs]);
      raw->push_back(x[target]);
    }
    const auto n = static_cast<int64_t>(ys.size());
    *X = torch::from_blob(xs.data(), {n, W, kLstmInputs}, torch::kFloat32).clone();
    *Y = torch::from_blob(ys.data(), {n}, torch::kFloat32).clone();
  };
  torch::Tensor Xt, Yt, Xv, Yv;
  std::vector<double> raw_t, raw_v;
  build(0, split.train_end, &Xt, &Yt, &raw_t);
  build(split.train_end, split.validation_end, &Xv, &Yv, &raw_v);

  if (o.loss != "log" && o.loss != "raw")
    return core::Error{"LSTM loss '" + o.loss + "': expected log or raw"};
  const bool raw_loss = o.loss == "raw";
  torch::Tensor Rt = torch::tensor(std::vector<float>(raw_t.begin(), raw_t.end()));
  const double raw_scale =
      std::max(1e-9, std::accumulate(raw_t.begin(), raw_t.end(), 0.0) /
                         static_cast<double>(std::max<size_t>(1, raw_t.size())));
  const float zlo = Yt.min().item<float>() - 2.0f, zhi = Yt.max().item<float>() + 2.0f;

  Net net(o.hidden);
  torch::optim::Adam opt(net.parameters(), torch::optim::AdamOptions(o.lr));
  sim::Rng rng(sim::derive_seed(o.seed, 17));
  const int64_t n = Xt.size(0);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  auto val_mae = [&]() {
    torch::NoGradGuard g;
    torch::Tensor z = net.forward(Xv);
    const float* zp = z.contiguous().data_ptr<float>();
    double s = 0;
    for (size_t i = 0; i < raw_v.size(); ++i) {
      s += std::abs(std::max(0.0, std::expm1(static_cast<double>(zp[i]) * m.std + m.mean)) -
                    raw_v[i]);
    }
    return s / std::max<size_t>(1, raw_v.size());
  };
  const auto t0 = std::chrono::steady_clock::now();
  double best = val_mae();
  std::vector<torch::Tensor> best_params;
  for (auto& p : net.parameters()) best_params.push_back(p.detach().clone());
  int since = 0, epochs = 0, best_epoch = 0;
  for (int epoch = 1; epoch <= o.max_epochs && since < o.patience; ++epoch) {
    for (size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[static_cast<size_t>(rng.uniform() * i) % i]);
    for (int64_t s = 0; s < n; s += o.batch) {
      const int64_t len = std::min<int64_t>(o.batch, n - s);
      torch::Tensor idx = torch::from_blob(order.data() + s, {len}, torch::kInt64);
      torch::Tensor pred = net.forward(Xt.index_select(0, idx));
      torch::Tensor loss;
      if (raw_loss) {
        // Back to the trace's units (clamped so that expm1 cannot overflow early on).
        torch::Tensor v = torch::expm1(torch::clamp(pred, zlo, zhi) * m.std + m.mean);
        loss = torch::abs(v - Rt.index_select(0, idx)).mean() / raw_scale;
      } else {
        loss = torch::smooth_l1_loss(pred, Yt.index_select(0, idx));
      }
      opt.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(net.parameters(), 1.0);
      opt.step();
    }
    epochs = epoch;
    const double v = val_mae();
    if (v < best) {
      best = v;
      best_epoch = epoch;
      since = 0;
      auto params = net.parameters();
      for (size_t i = 0; i < params.size(); ++i) best_params[i] = params[i].detach().clone();
    } else {
      ++since;
    }
  }
  // Export the best epoch's weights.
  {
    torch::NoGradGuard g;
    auto params = net.parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_params[i]);
  }
  auto to_matrix = [](const torch::Tensor& t) {
    torch::Tensor c = t.detach().contiguous();
    Eigen::MatrixXf out(c.size(0), c.size(1));
    const float* p = c.data_ptr<float>();
    for (int64_t r = 0; r < c.size(0); ++r)
      for (int64_t k = 0; k < c.size(1); ++k) out(r, k) = p[r * c.size(1) + k];
    return out;
  };
  m.w_ih = to_matrix(net.lstm->named_parameters()["weight_ih_l0"]);
  m.w_hh = to_matrix(net.lstm->named_parameters()["weight_hh_l0"]);
  torch::Tensor bias =
      (net.lstm->named_parameters()["bias_ih_l0"] + net.lstm->named_parameters()["bias_hh_l0"])
          .detach()
          .contiguous();
  m.b = Eigen::Map<const Eigen::VectorXf>(bias.data_ptr<float>(), bias.size(0));
  torch::Tensor hw = net.head->weight.detach().contiguous().view({-1});
  m.head_w = Eigen::Map<const Eigen::VectorXf>(hw.data_ptr<float>(), hw.size(0));
  m.head_b = net.head->bias.item<float>();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m.training_json =
      nlohmann::json{{"seed", o.seed},     {"loss", o.loss},           {"window", o.window},
                     {"epochs", epochs},   {"best_epoch", best_epoch}, {"validation_mae", best},
                     {"train_windows", n}, {"seconds", secs}}
          .dump();
  return m;
}

}  // namespace prescale::forecast
