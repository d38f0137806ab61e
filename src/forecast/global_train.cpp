#include "forecast/global_train.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <numeric>

#include "forecast/burst.h"
#include "forecast/evaluate.h"
#include "forecast/lstm_train.h"
#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/traffic.h"
#include "sim/workload.h"

namespace prescale::forecast {

using nlohmann::json;

namespace {

// --- The corpus. ---

std::vector<double> aggregate(const std::vector<double>& x, int k) {
  std::vector<double> out;
  for (size_t i = 0; i + static_cast<size_t>(k) <= x.size(); i += static_cast<size_t>(k)) {
    double s = 0;
    for (int j = 0; j < k; ++j) s += x[i + static_cast<size_t>(j)];
    out.push_back(s / k);
  }
  return out;
}

// Linear interpolation, k points per original gap, with log-normal AR(1) noise.
std::vector<double> interpolate(const std::vector<double>& x, int k, sim::Rng& rng) {
  std::vector<double> out;
  if (x.size() < 2) return x;
  out.reserve((x.size() - 1) * static_cast<size_t>(k));
  constexpr double kSigma = 0.05, kPhi = 0.8;
  const double innovation = kSigma * std::sqrt(1 - kPhi * kPhi);
  double e = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    for (int j = 0; j < k; ++j) {
      const double u = static_cast<double>(j) / k;
      e = kPhi * e + innovation * rng.normal();
      out.push_back(std::max(0.0, (x[i] * (1 - u) + x[i + 1] * u) * std::exp(e)));
    }
  }
  return out;
}

void add_split(std::vector<CorpusSeries>* out, std::string name, std::vector<double> x) {
  const size_t from = x.size() * 4 / 5;
  out->push_back({std::move(name), std::move(x), from});
}

// Periodic load at an unknown period (cron jobs, devices reporting on a schedule, a daily
// cycle seen at a coarse step): one cycle's shape repeated every P samples, P uniform in
// [4, 96]; the shape is a base of 1 with 1-3 pulses (random phase, width 1 to P/4 samples,
// height log-uniform [1.5, 20]) or (half the series) a smooth cycle of two harmonics; each
// cycle's amplitude jitters by up to 10%, the level drifts (log AR(1), phi 0.995, sigma
// 0.01), and multiplicative noise (sigma U[0.01, 0.15]) is on top.
std::vector<double> periodic_series(int steps, std::uint64_t seed) {
  sim::Rng rng(seed);
  const int P = 4 + static_cast<int>(rng.uniform() * 93);
  std::vector<double> shape(static_cast<size_t>(P), 1.0);
  if (rng.bernoulli(0.5)) {
    const int pulses = 1 + static_cast<int>(rng.uniform() * 3);
    for (int k = 0; k < pulses; ++k) {
      const int at = static_cast<int>(rng.uniform() * P);
      const int width = 1 + static_cast<int>(rng.uniform() * std::max(1, P / 4));
      const double height = std::exp(rng.uniform(std::log(1.5), std::log(20.0)));
      for (int j = 0; j < width; ++j) shape[static_cast<size_t>((at + j) % P)] = height;
    }
  } else {
    const double a1 = rng.uniform(0.2, 0.9), a2 = rng.uniform(0, 0.4);
    const double p1 = rng.uniform(0, 6.283), p2 = rng.uniform(0, 6.283);
    for (int j = 0; j < P; ++j) {
      const double u = 6.283185307 * j / P;
      shape[static_cast<size_t>(j)] = 1 + a1 * std::sin(u + p1) + a2 * std::sin(2 * u + p2);
    }
  }
  const double sigma = rng.uniform(0.01, 0.15);
  std::vector<double> x;
  x.reserve(static_cast<size_t>(steps));
  double drift = 0, amp = 1;
  for (int t = 0; t < steps; ++t) {
    if (t % P == 0) amp = rng.uniform(0.9, 1.1);
    drift = 0.995 * drift + 0.01 * rng.normal();
    const double base = shape[static_cast<size_t>(t % P)];
    x.push_back(
        std::max(0.0, 100 * (1 + (base - 1) * amp) * std::exp(drift + sigma * rng.normal())));
  }
  return x;
}

// The synthetic families: sim/traffic.h's four, the seed scenario's bursts and periodic load.
void add_synthetic(const GlobalTrainOptions& o, std::vector<CorpusSeries>* out) {
  sim::Scenario s = sim::default_scenario();
  s.steps = o.episode_steps;
  const int validation = std::max(1, o.episodes / 4);
  const char* names[] = {"onoff", "diurnal", "steps", "spikes", "seed", "periodic"};
  for (int fam = 0; fam < 6; ++fam) {
    for (int e = 0; e < o.episodes + validation; ++e) {
      const std::uint64_t seed =
          sim::derive_seed(o.seed, static_cast<std::uint64_t>(fam * 100'000 + e));
      sim::Workload w;
      if (fam < sim::kNumTrafficFamilies) {
        sim::generate_traffic(static_cast<sim::TrafficFamily>(fam), s, 1000.0, seed, &w);
      } else if (fam == sim::kNumTrafficFamilies) {
        sim::generate_synthetic(s, seed, &w);
      } else {
        w.arrivals_rps = periodic_series(o.episode_steps, seed);
      }
      const bool val = e >= o.episodes;
      out->push_back(
          {std::string(names[fam]) + "#" + std::to_string(e), std::move(w.arrivals_rps), 0});
      if (!val) out->back().validation_from = out->back().x.size();
    }
  }
}

// --- Windows. ---

struct Windows {
  std::vector<float> xs, y, burst;
  int64_t n = 0;
};

// Appends up to o.max_windows windows of `x` whose targets lie in [lo, hi) (a seeded
// subsample when there are more). Windows whose context is all zero are left out: the
// forecaster answers 0 there by rule.
void add_windows(const GlobalModel& m, const std::vector<double>& x,
                 const std::vector<std::uint8_t>& truth, size_t lo, size_t hi, int max_windows,
                 std::uint64_t seed, Windows* out) {
  const auto H = static_cast<size_t>(m.horizon);
  if (hi <= lo + H) return;
  // Ends e (the newest observed sample): e + H in [lo, hi).
  std::vector<size_t> ends;
  for (size_t e = (lo >= H ? lo - H : 0); e + H < hi; ++e) ends.push_back(e);
  if (ends.size() > static_cast<size_t>(max_windows)) {
    sim::Rng rng(seed);
    for (size_t i = 0; i < static_cast<size_t>(max_windows); ++i) {  // partial Fisher-Yates
      const size_t j =
          i + static_cast<size_t>(rng.uniform() * static_cast<double>(ends.size() - i));
      std::swap(ends[i], ends[std::min(j, ends.size() - 1)]);
    }
    ends.resize(static_cast<size_t>(max_windows));
    std::sort(ends.begin(), ends.end());
  }
  History h(m.context());
  std::vector<float> row(static_cast<size_t>(m.inputs()));
  std::vector<double> scratch;
  size_t pushed = 0;
  for (size_t e : ends) {
    while (pushed <= e) h.push(x[pushed++]);
    const double s = global_features(m, h, row.data(), &scratch);
    if (!(s > 0)) continue;
    out->xs.insert(out->xs.end(), row.begin(), row.end());
    out->y.push_back(static_cast<float>(std::log1p(std::max(0.0, x[e + H]) / s)));
    bool b = false;
    for (size_t k = e + 1; k <= e + H; ++k) b = b || truth[k];
    out->burst.push_back(b ? 1.0f : 0.0f);
    ++out->n;
  }
}

// --- The network. ---

struct Net : torch::nn::Module {
  Net(int inputs, int hidden) : l1(inputs, hidden), l2(hidden, hidden), l3(hidden, 3) {
    register_module("l1", l1);
    register_module("l2", l2);
    register_module("l3", l3);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return l3->forward(torch::relu(l2->forward(torch::relu(l1->forward(x)))));
  }
  torch::nn::Linear l1, l2, l3;
};

struct Losses {
  double q50 = 0, q90 = 0, bce = 0, total = 0;
};

torch::Tensor pinball(const torch::Tensor& pred, const torch::Tensor& y, double tau) {
  const auto d = y - pred;
  return torch::max(tau * d, (tau - 1) * d).mean();
}

// The three terms for a batch; total = q50 + q90 + w x bce.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> terms(Net& net, const torch::Tensor& x,
                                                              const torch::Tensor& y,
                                                              const torch::Tensor& b) {
  const auto o = net.forward(x);
  const auto z50 = x.select(1, 0) + o.select(1, 0);  // a change from the newest sample
  const auto z90 = z50 + torch::softplus(o.select(1, 1));
  return {pinball(z50, y, 0.5), pinball(z90, y, 0.9),
          torch::binary_cross_entropy_with_logits(o.select(1, 2), b)};
}

Losses evaluate_losses(Net& net, const torch::Tensor& x, const torch::Tensor& y,
                       const torch::Tensor& b, double burst_weight) {
  torch::NoGradGuard g;
  auto [a, c, d] = terms(net, x, y, b);
  Losses l{a.item<double>(), c.item<double>(), d.item<double>(), 0};
  l.total = l.q50 + l.q90 + burst_weight * l.bce;
  return l;
}

GlobalModel to_model(Net& net, const GlobalModel& shape) {
  GlobalModel m = shape;
  auto mat = [](const torch::Tensor& t) {
    auto c = t.contiguous().to(torch::kFloat32);
    using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    return Eigen::MatrixXf(Eigen::Map<const RowMajor>(c.data_ptr<float>(), c.size(0), c.size(1)));
  };
  auto vec = [](const torch::Tensor& t) {
    auto c = t.contiguous().to(torch::kFloat32);
    return Eigen::VectorXf(Eigen::Map<const Eigen::VectorXf>(c.data_ptr<float>(), c.size(0)));
  };
  torch::NoGradGuard g;
  m.w1 = mat(net.l1->weight);
  m.b1 = vec(net.l1->bias);
  m.w2 = mat(net.l2->weight);
  m.b2 = vec(net.l2->bias);
  m.w3 = mat(net.l3->weight);
  m.b3 = vec(net.l3->bias);
  return m;
}

// The inverse of to_model: the network with `m`'s weights.
void load_weights(const GlobalModel& m, Net* net) {
  auto mat = [](const Eigen::MatrixXf& w, torch::Tensor* t) {
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = w;
    t->copy_(torch::from_blob(r.data(), {r.rows(), r.cols()}, torch::kFloat32));
  };
  auto vec = [](const Eigen::VectorXf& b, torch::Tensor* t) {
    Eigen::VectorXf c = b;
    t->copy_(torch::from_blob(c.data(), {c.size()}, torch::kFloat32));
  };
  torch::NoGradGuard g;
  mat(m.w1, &net->l1->weight);
  vec(m.b1, &net->l1->bias);
  mat(m.w2, &net->l2->weight);
  vec(m.b2, &net->l2->bias);
  mat(m.w3, &net->l3->weight);
  vec(m.b3, &net->l3->bias);
}

torch::Tensor as_tensor(std::vector<float>& v, int64_t rows, int64_t cols) {
  auto t = torch::from_blob(v.data(), {rows * cols}, torch::kFloat32).clone();
  return cols == 1 ? t : t.view({rows, cols});
}

// The detector's thresholds: the raise with the best mean F1 over the validation series with
// bursts (each run whole, scored from its validation start).
json choose_thresholds(GlobalModel* m, const std::vector<CorpusSeries>& corpus) {
  std::vector<std::vector<double>> probs;
  std::vector<std::vector<std::uint8_t>> truths;
  std::vector<size_t> froms;
  for (const auto& c : corpus) {
    if (c.validation_from >= c.x.size()) continue;
    // From a little before the validation part (the context and the bursts' rolling median
    // warm up there), scored from the validation start.
    const size_t start = c.validation_from > static_cast<size_t>(2 * m->context())
                             ? c.validation_from - static_cast<size_t>(2 * m->context())
                             : 0;
    const std::vector<double> x(c.x.begin() + static_cast<long>(start), c.x.end());
    auto truth = true_bursts(x);
    const size_t from = c.validation_from - start;
    if (std::none_of(truth.begin() + static_cast<long>(from), truth.end(),
                     [](std::uint8_t v) { return v != 0; }))
      continue;
    std::vector<double> p;
    global_signal(*m, x, nullptr, nullptr, &p);
    probs.push_back(std::move(p));
    truths.push_back(std::move(truth));
    froms.push_back(from);
  }
  json tried = json::array();
  // The best F1 among the thresholds that warn at least half the horizon ahead on average (a
  // signal after the cold start has begun is of little use to the controller); if none does,
  // the best F1.
  double best_f1 = -1;
  bool best_leads = false;
  for (int k = 2; k <= 18; ++k) {
    const double raise = 0.05 * k, release = 0.7 * raise;
    double f1 = 0, lead = 0, precision = 0;
    for (size_t i = 0; i < probs.size(); ++i) {
      BurstHeadDetector d(raise, release);
      std::vector<std::uint8_t> sig(probs[i].size());
      for (size_t t = 0; t < sig.size(); ++t) sig[t] = d.update(probs[i][t]) ? 1 : 0;
      const BurstMetrics bm = score_bursts(sig, truths[i], m->horizon, froms[i]);
      f1 += bm.f1, lead += bm.mean_lead_steps, precision += bm.precision;
    }
    const double n = std::max<double>(1, static_cast<double>(probs.size()));
    f1 /= n, lead /= n, precision /= n;
    tried.push_back({{"raise", raise}, {"f1", f1}, {"precision", precision}, {"lead_steps", lead}});
    const bool leads = lead >= 0.5 * m->horizon;
    if ((leads && !best_leads) || (leads == best_leads && f1 > best_f1)) {
      best_f1 = f1, best_leads = leads;
      m->raise = static_cast<float>(raise);
      m->release = static_cast<float>(release);
    }
  }
  return {{"series", probs.size()}, {"tried", tried}, {"raise", m->raise}, {"release", m->release}};
}

// Adam with early stopping on the validation loss; the network as it starts is epoch 0.
struct Fit {
  GlobalModel best;
  Losses best_loss;
  int best_epoch = 0;
  json epochs = json::array();
};
struct FitOptions {
  int max_epochs, patience, batch;
  double lr, burst_weight;
};
Fit fit(Net& net, const GlobalModel& shape, Windows& train, Windows& val, const FitOptions& o,
        const std::function<double()>& elapsed) {
  const int64_t I = shape.inputs();
  const auto tx = as_tensor(train.xs, train.n, I), ty = as_tensor(train.y, train.n, 1),
             tb = as_tensor(train.burst, train.n, 1);
  const auto vx = as_tensor(val.xs, val.n, I), vy = as_tensor(val.y, val.n, 1),
             vb = as_tensor(val.burst, val.n, 1);
  torch::optim::Adam opt(net.parameters(), torch::optim::AdamOptions(o.lr));
  Fit f{to_model(net, shape), evaluate_losses(net, vx, vy, vb, o.burst_weight)};
  int since = 0;
  for (int epoch = 1; epoch <= o.max_epochs && since < o.patience; ++epoch) {
    const auto perm = torch::randperm(train.n, torch::kLong);
    for (int64_t i = 0; i < train.n; i += o.batch) {
      const auto idx = perm.slice(0, i, std::min<int64_t>(i + o.batch, train.n));
      auto [a, c, d] =
          terms(net, tx.index_select(0, idx), ty.index_select(0, idx), tb.index_select(0, idx));
      auto loss = a + c + o.burst_weight * d;
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    const Losses tl = evaluate_losses(net, tx, ty, tb, o.burst_weight);
    const Losses vl = evaluate_losses(net, vx, vy, vb, o.burst_weight);
    f.epochs.push_back({{"epoch", epoch},
                        {"train", tl.total},
                        {"validation", vl.total},
                        {"validation_q50", vl.q50},
                        {"validation_q90", vl.q90},
                        {"validation_bce", vl.bce}});
    std::fprintf(
        stderr, "  epoch %d: train %.4f, validation %.4f (q50 %.4f, q90 %.4f, bce %.4f) (%.0f s)\n",
        epoch, tl.total, vl.total, vl.q50, vl.q90, vl.bce, elapsed());
    if (vl.total < f.best_loss.total) {
      f.best_loss = vl, f.best_epoch = epoch, since = 0;
      f.best = to_model(net, shape);
    } else {
      ++since;
    }
  }
  return f;
}

// What a fit records in a model's provenance: its windows, options, epochs and the best one.
json describe_fit(const Fit& f, const FitOptions& o, const Windows& train, const Windows& val,
                  int max_windows, std::uint64_t seed) {
  return {{"training_windows", train.n},
          {"validation_windows", val.n},
          {"options",
           {{"max_epochs", o.max_epochs},
            {"patience", o.patience},
            {"batch", o.batch},
            {"lr", o.lr},
            {"burst_weight", o.burst_weight},
            {"max_windows", max_windows},
            {"seed", seed}}},
          {"epochs", f.epochs},
          {"best_epoch", f.best_epoch},
          {"validation_loss", f.best_loss.total}};
}

}  // namespace

core::Result<std::vector<CorpusSeries>> build_corpus(const std::vector<std::string>& traces,
                                                     const GlobalTrainOptions& o) {
  std::vector<CorpusSeries> out;
  sim::Rng rng(sim::derive_seed(o.seed, 0x6c6f6261));
  for (const auto& file : traces) {
    auto t = prepare_trace(file, sim::TimeOrder::kDropClockChanges);
    if (!t.ok()) {  // as the RL trainer does: one unreadable trace does not stop training
      std::fprintf(stderr, "global forecaster: skipping trace: %s\n", t.error().message.c_str());
      continue;
    }
    const std::string stem = std::filesystem::path(file).stem().string();
    for (int k : o.aggregate)
      add_split(&out, stem + "@x" + std::to_string(k), aggregate(t->series, k));
    add_split(&out, stem, t->series);
    for (int k : o.interpolate)
      add_split(&out, stem + "@/" + std::to_string(k), interpolate(t->series, k, rng));
  }
  add_synthetic(o, &out);
  return out;
}

core::Result<GlobalModel> train_global(const std::vector<CorpusSeries>& corpus,
                                       const GlobalTrainOptions& o) {
  if (auto st = check_global_shape(o.shape); !st.ok())
    return core::Error{"global forecaster: " + st.message()};
  use_single_torch_thread();
  torch::manual_seed(o.seed);
  const auto t0 = std::chrono::steady_clock::now();
  GlobalModel shape = o.shape;
  Windows train, val;
  json series = json::array();
  for (size_t i = 0; i < corpus.size(); ++i) {
    const auto& c = corpus[i];
    const int64_t before_t = train.n, before_v = val.n;
    const std::uint64_t seed = sim::derive_seed(o.seed, i);
    const std::vector<std::uint8_t> truth = true_bursts(c.x);  // once for both splits
    add_windows(shape, c.x, truth, 0, c.validation_from, o.max_windows, seed, &train);
    add_windows(shape, c.x, truth, c.validation_from + static_cast<size_t>(shape.horizon),
                c.x.size(), o.max_windows / 4, seed + 1, &val);
    series.push_back({{"name", c.name},
                      {"samples", c.x.size()},
                      {"train_windows", train.n - before_t},
                      {"validation_windows", val.n - before_v}});
  }
  if (train.n < 100 || val.n < 10)
    return core::Error{"global forecaster: too little data (" + std::to_string(train.n) +
                       " training and " + std::to_string(val.n) + " validation windows)"};
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::fprintf(
      stderr, "global forecaster: %zu series, %lld training and %lld validation windows (%.0f s)\n",
      corpus.size(), static_cast<long long>(train.n), static_cast<long long>(val.n), elapsed());
  Net net(static_cast<int>(shape.inputs()), shape.hidden);
  const FitOptions fo{o.max_epochs, o.patience, o.batch, o.lr, o.burst_weight};
  Fit f = fit(net, shape, train, val, fo, elapsed);
  GlobalModel& best = f.best;
  json thresholds = choose_thresholds(&best, corpus);
  json provenance = describe_fit(f, fo, train, val, o.max_windows, o.seed);
  provenance["trained_on"] =
      "training traces at six time scales and the synthetic families (never the development "
      "traces); see docs/forecast.md";
  provenance["series"] = series;
  provenance["options"]["episodes"] = o.episodes;
  provenance["options"]["episode_steps"] = o.episode_steps;
  provenance["thresholds"] = thresholds;
  provenance["seconds"] = std::round(elapsed());
  best.training_json = provenance.dump();
  return best;
}

core::Result<GlobalModel> finetune_global(const GlobalModel& base,
                                          const std::vector<double>& series, size_t train_end,
                                          size_t validation_end, const FinetuneOptions& o) {
  if (auto st = check_global_shape(base); !st.ok())
    return core::Error{"fine-tuning: " + st.message()};
  if (!(train_end < validation_end && validation_end <= series.size()))
    return core::Error{"fine-tuning: expected train_end < validation_end <= " +
                       std::to_string(series.size()) + " samples"};
  use_single_torch_thread();
  torch::manual_seed(o.seed);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // Nothing at or after validation_end: not the windows, not the burst truth.
  const std::vector<double> x(series.begin(), series.begin() + static_cast<long>(validation_end));
  const std::vector<std::uint8_t> truth = true_bursts(x);
  Windows train, val;
  add_windows(base, x, truth, 0, train_end, o.max_windows, o.seed, &train);
  add_windows(base, x, truth, train_end + static_cast<size_t>(base.horizon), x.size(),
              o.max_windows, o.seed + 1, &val);
  if (train.n < 100 || val.n < 10)
    return core::Error{"fine-tuning: too little history (" + std::to_string(train.n) +
                       " training and " + std::to_string(val.n) +
                       " validation windows; at least 100 and 10)"};
  std::fprintf(stderr, "fine-tuning %s: %lld training and %lld validation windows\n",
               o.source.c_str(), static_cast<long long>(train.n), static_cast<long long>(val.n));
  Net net(static_cast<int>(base.inputs()), base.hidden);
  load_weights(base, &net);
  const FitOptions fo{o.max_epochs, o.patience, o.batch, o.lr, o.burst_weight};
  Fit f = fit(net, base, train, val, fo, elapsed);
  // The detector's thresholds stay base's, chosen on 412 series: a stream's validation part
  // holds 0-20 bursts, too few to choose from (docs/forecast.md).
  GlobalModel tuned = std::move(f.best);
  tuned.raise = base.raise, tuned.release = base.release;
  json provenance = describe_fit(f, fo, train, val, o.max_windows, o.seed);
  provenance["trained_on"] = "fine-tuned from the global forecaster (checksum " +
                             global_checksum(base) + ") on the first " + std::to_string(train_end) +
                             " samples of " + o.source + ", early-stopped on the next " +
                             std::to_string(validation_end - train_end);
  provenance["thresholds"] = "the base model's";
  provenance["seconds"] = std::round(elapsed());
  tuned.training_json = provenance.dump();
  return tuned;
}

}  // namespace prescale::forecast
