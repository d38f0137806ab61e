#include "forecast/lstm_train.h"

#include <torch/torch.h>

#include <dlfcn.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "forecast/burst.h"
#include "sim/rng.h"

namespace prescale::forecast {

namespace {

struct Net : torch::nn::Module {
  Net(int inputs, int hidden, bool is_residual)
      : lstm(torch::nn::LSTMOptions(inputs, hidden).batch_first(true)),
        head(hidden, 1),
        residual(is_residual) {
    register_module("lstm", lstm);
    register_module("head", head);
    if (residual) {
      // A zero head is exactly the baseline: training starts from it.
      torch::NoGradGuard g;
      head->weight.zero_();
      head->bias.zero_();
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto out = std::get<0>(lstm->forward(x));  // [B, W, H]
    auto z = head->forward(out.select(1, out.size(1) - 1)).squeeze(1);
    if (residual) z = z + x.select(1, x.size(1) - 1).select(1, 3);  // + the newest z_base
    return z;
  }
  torch::nn::LSTM lstm;
  torch::nn::Linear head;
  bool residual;
};

// mean and std of log1p(x) over the training split.
void normalisation(const std::vector<double>& x, size_t train_end, LstmModel* m) {
  double sum = 0, sq = 0;
  for (size_t t = 0; t < train_end; ++t) sum += std::log1p(std::max(0.0, x[t]));
  const double mean = sum / static_cast<double>(train_end);
  for (size_t t = 0; t < train_end; ++t) {
    const double d = std::log1p(std::max(0.0, x[t])) - mean;
    sq += d * d;
  }
  m->mean = static_cast<float>(mean);
  m->std = static_cast<float>(std::max(1e-6, std::sqrt(sq / static_cast<double>(train_end))));
}

// Training/validation windows: inputs [n, W, inputs], normalised targets, the raw targets and
// per-window mean, std and raw scale (windows of several traces differ in them), weights.
struct Windows {
  std::vector<float> xs, ys, raw, mean, std, scale, weight;
  int64_t n = 0;
};

// Appends the windows of one trace (described by m: normalisation, period, window, horizon,
// base) whose targets lie in [lo, hi).
core::Status add_windows(const std::vector<double>& x, const LstmModel& m, size_t lo, size_t hi,
                         double burst_weight, double raw_scale, Windows* out) {
  const int W = m.window, H = m.horizon, I = m.inputs();
  std::vector<float> inputs(x.size() * static_cast<size_t>(I));
  std::unique_ptr<Forecaster> base;
  if (m.residual()) {
    auto f = make_baseline(m.base, m.period, m.base_params);
    if (!f.ok()) return f.error();
    base = std::move(*f);
  }
  for (size_t n = 0; n < x.size(); ++n) {
    float* row = &inputs[n * static_cast<size_t>(I)];
    lstm_input(m, static_cast<long long>(n), x[n], row);
    if (base) {
      base->observe(x[n]);
      row[3] = lstm_normalise(m, base->forecast(H));
    }
  }
  const std::vector<std::uint8_t> bursts =
      burst_weight > 0 ? true_bursts(x) : std::vector<std::uint8_t>(x.size(), 0);
  for (size_t target = std::max(lo, static_cast<size_t>(W - 1 + H)); target < hi; ++target) {
    const size_t e = target - static_cast<size_t>(H);
    out->xs.insert(out->xs.end(), inputs.begin() + static_cast<long>((e + 1 - W) * I),
                   inputs.begin() + static_cast<long>((e + 1) * I));
    out->ys.push_back(inputs[target * static_cast<size_t>(I)]);
    out->raw.push_back(static_cast<float>(x[target]));
    out->mean.push_back(m.mean);
    out->std.push_back(m.std);
    out->scale.push_back(static_cast<float>(raw_scale));
    out->weight.push_back(bursts[target] ? static_cast<float>(1 + burst_weight) : 1.0f);
    ++out->n;
  }
  return {};
}

torch::Tensor tensor(std::vector<float>& v) {
  return torch::from_blob(v.data(), {static_cast<int64_t>(v.size())}, torch::kFloat32).clone();
}

// The model description of a trace (normalisation, period, base with validation-chosen
// parameters) for the options.
core::Result<LstmModel> describe(const PreparedTrace& trace, const LstmTrainOptions& o,
                                 const std::string& base_name) {
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
  // The day in samples, as the model file may hold it (kMaxLstmPeriod): a trace of
  // millisecond samples has a day of 86.4 M, which every loader refuses. Beyond the bound the
  // phase inputs cycle every kMaxLstmPeriod samples instead of once a day.
  m.period = std::min(trace.period, kMaxLstmPeriod);
  m.hidden = o.hidden;
  normalisation(x, split.train_end, &m);
  if (base_name != "none") {
    std::vector<std::string> names;
    if (base_name != "auto") names.push_back(base_name);
    // Chosen as `forecast eval` chooses: at most one season more than the series holds, so a
    // few rows cannot size a day of history per candidate (no forecast changes: a season the
    // series never completes leaves a seasonal baseline on its fallback).
    auto b = best_baseline(x, trace.baseline_period(), H, names);
    if (!b.ok()) return b.error();
    m.base = b->name;
    m.base_params = b->params;
  }
  return m;
}

double mean_of(const std::vector<double>& x, size_t end) {
  double s = 0;
  for (size_t t = 0; t < end; ++t) s += x[t];
  return std::max(1e-9, s / static_cast<double>(std::max<size_t>(1, end)));
}

}  // namespace

core::Result<LstmModel> train_lstm(const PreparedTrace& trace, const LstmTrainOptions& o,
                                   const std::vector<PreparedTrace>& family) {
  use_single_torch_thread();
  torch::manual_seed(o.seed);
  if (o.loss != "log" && o.loss != "raw" && o.loss != "l1")
    return core::Error{"LSTM loss '" + o.loss + "': expected log, l1 or raw"};
  const auto& x = trace.series;
  const Split split = chronological_split(x.size());
  auto described = describe(trace, o, o.base);
  if (!described.ok()) return described.error();
  LstmModel m = std::move(*described);
  const int W = o.window, I = m.inputs();

  // Windows ending at e, target z[e + H]: training targets < train_end (of each trace),
  // validation targets in [train_end, validation_end) of the trace itself.
  Windows tw, vw;
  const double raw_scale = mean_of(x, split.train_end);
  if (auto st = add_windows(x, m, 0, split.train_end, o.burst_weight, raw_scale, &tw); !st.ok())
    return st.error();
  if (auto st = add_windows(x, m, split.train_end, split.validation_end, 0, raw_scale, &vw);
      !st.ok())
    return st.error();
  std::vector<std::string> pooled;
  for (const auto& other : family) {
    if (other.file == trace.file) continue;
    // Its own normalisation and its own validation-chosen parameters of the trace's base.
    auto d = describe(other, o, m.residual() ? m.base : "none");
    if (!d.ok()) continue;  // too short: skipped
    const Split s = chronological_split(other.series.size());
    if (auto st = add_windows(other.series, *d, 0, s.train_end, o.burst_weight,
                              mean_of(other.series, s.train_end), &tw);
        !st.ok())
      return st.error();
    pooled.push_back(other.file);
  }
  const int64_t n = tw.n;
  torch::Tensor Xt = torch::from_blob(tw.xs.data(), {n, W, I}, torch::kFloat32).clone();
  torch::Tensor Yt = tensor(tw.ys), Rt = tensor(tw.raw), Mt = tensor(tw.mean), St = tensor(tw.std),
                Ct = tensor(tw.scale), Wt = tensor(tw.weight);
  torch::Tensor Xv = torch::from_blob(vw.xs.data(), {vw.n, W, I}, torch::kFloat32).clone();
  const float zlo = Yt.min().item<float>() - 2.0f, zhi = Yt.max().item<float>() + 2.0f;

  Net net(I, o.hidden, m.residual());
  torch::optim::Adam opt(net.parameters(), torch::optim::AdamOptions(o.lr));
  sim::Rng rng(sim::derive_seed(o.seed, 17));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  // blend: the share of the LSTM's correction kept (1 = all of it).
  auto val_mae = [&](double blend = 1.0) {
    torch::NoGradGuard g;
    torch::Tensor z = net.forward(Xv);
    if (m.residual() && blend != 1.0) {
      const torch::Tensor zb = Xv.select(1, Xv.size(1) - 1).select(1, 3);
      z = zb + blend * (z - zb);
    }
    z = z.contiguous();
    const float* zp = z.data_ptr<float>();
    double s = 0;
    for (int64_t i = 0; i < vw.n; ++i)
      s += std::abs(lstm_denormalise(m, static_cast<double>(zp[i])) -
                    static_cast<double>(vw.raw[static_cast<size_t>(i)]));
    return s / static_cast<double>(std::max<int64_t>(1, vw.n));
  };
  const auto t0 = std::chrono::steady_clock::now();
  double best = val_mae();
  const double start_mae = best;
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
      torch::Tensor err;
      if (o.loss == "raw") {
        // Back to the trace's units (clamped so that expm1 cannot overflow early on), scaled
        // by each trace's training mean.
        torch::Tensor v = torch::expm1(torch::clamp(pred, zlo, zhi) * St.index_select(0, idx) +
                                       Mt.index_select(0, idx));
        err = torch::abs(v - Rt.index_select(0, idx)) / Ct.index_select(0, idx);
      } else if (o.loss == "l1") {
        err = torch::abs(pred - Yt.index_select(0, idx));
      } else {
        err = torch::smooth_l1_loss(pred, Yt.index_select(0, idx), at::Reduction::None);
      }
      torch::Tensor wi = Wt.index_select(0, idx);
      torch::Tensor loss = (err * wi).sum() / wi.sum();
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
  // The ensemble with the baseline, chosen on the validation split: a residual model's
  // output z_base + c blended with the baseline's z_base is z_base + blend x c, i.e. the
  // same model with its head scaled by blend (no new field in the model file).
  double blend = 1.0;
  if (m.residual() && best_epoch > 0) {
    for (double b : {0.25, 0.5, 0.75}) {
      const double v = val_mae(b);
      if (v < best) {
        best = v;
        blend = b;
      }
    }
    torch::NoGradGuard g;
    net.head->weight.mul_(blend);
    net.head->bias.mul_(blend);
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
  nlohmann::json tj = {{"seed", o.seed},
                       {"loss", o.loss},
                       {"window", o.window},
                       {"hidden", o.hidden},
                       {"lr", o.lr},
                       {"epochs", epochs},
                       {"best_epoch", best_epoch},
                       {"validation_mae", best},
                       {"train_windows", n},
                       {"seconds", secs}};
  if (o.burst_weight > 0) tj["burst_weight"] = o.burst_weight;
  if (m.residual()) {
    tj["base_validation_mae"] = start_mae;
    tj["blend"] = blend;
  }
  if (!pooled.empty()) tj["family"] = pooled;
  m.training_json = tj.dump();
  return m;
}

double lstm_validation_mae(const LstmModel& m, const std::vector<double>& series) {
  const Split split = chronological_split(series.size());
  LstmForecaster f(m);
  return evaluate(f, series, m.horizon, split.train_end, split.validation_end).mae;
}

core::Result<LstmModel> train_lstm_selected(const PreparedTrace& trace, const LstmTrainOptions& o,
                                            const LstmGrid& grid,
                                            const std::vector<PreparedTrace>& family) {
  auto or_default = [](auto values, auto fallback) {
    if (values.empty()) values.push_back(fallback);
    return values;
  };
  const auto windows = or_default(grid.windows, o.window);
  const auto hiddens = or_default(grid.hiddens, o.hidden);
  const auto lrs = or_default(grid.lrs, o.lr);
  const auto losses = or_default(grid.losses, o.loss);
  const auto bases = or_default(grid.bases, o.base);
  std::optional<LstmModel> best;
  double best_mae = 0;
  nlohmann::json tried = nlohmann::json::array();
  for (const auto& base : bases)
    for (const auto& loss : losses)
      for (int window : windows)
        for (int hidden : hiddens)
          for (double lr : lrs) {
            LstmTrainOptions c = o;
            c.base = base;
            c.loss = loss;
            c.window = window;
            c.hidden = hidden;
            c.lr = lr;
            auto m = train_lstm(trace, c, family);
            if (!m.ok()) return m.error();
            const double mae = lstm_validation_mae(*m, trace.series);
            tried.push_back({{"base", base},
                             {"loss", loss},
                             {"window", window},
                             {"hidden", hidden},
                             {"lr", lr},
                             {"validation_mae", mae}});
            if (!best || mae < best_mae) {
              best = std::move(*m);
              best_mae = mae;
            }
          }
  if (tried.size() > 1) {
    auto tj = nlohmann::json::parse(best->training_json);
    tj["selected_on_validation"] = tried;
    best->training_json = tj.dump();
  }
  return std::move(*best);
}

void use_single_torch_thread() {
  using SetThreads = void (*)(int);
  if (auto* set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set(1);
  at::set_num_threads(1);
}

}  // namespace prescale::forecast
