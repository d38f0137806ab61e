#include "forecast/blend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace prescale::forecast {

namespace {
constexpr double kScaleAlpha = 0.02;  // the scale s: an EWMA of |x|
constexpr double kMaxLoss = 20.0;     // one sample's loss, in units of s: a spike counts, once
}  // namespace

std::string BlendParams::describe() const {
  char b[64];
  std::snprintf(b, sizeof b, "eta=%g,discount=%g", eta, discount);
  return b;
}

OnlineBlend::OnlineBlend(std::vector<std::unique_ptr<Forecaster>> experts, int horizon,
                         BlendParams params)
    : experts_(std::move(experts)), horizon_(std::max(1, horizon)), p_(params) {
  pending_.assign(static_cast<size_t>(horizon_) * experts_.size(), 0.0);
  reset();
}

void OnlineBlend::reset() {
  for (auto& e : experts_) e->reset();
  const size_t k = experts_.size();
  w_.assign(k, k == 0 ? 0.0 : 1.0 / static_cast<double>(k));
  loss_.assign(k, 0.0);
  std::fill(pending_.begin(), pending_.end(), 0.0);
  n_ = 0;
  scale_ = 0;
}

void OnlineBlend::observe(double x) {
  const size_t k = experts_.size();
  if (k == 0) return;
  if (!std::isfinite(x)) x = 0;  // traces are checked on load; a live reading might not be
  scale_ = n_ == 0 ? std::abs(x) : (1 - kScaleAlpha) * scale_ + kScaleAlpha * std::abs(x);
  // The forecasts made after x[t - H] sit in this slot until x[t] replaces them.
  const size_t slot = static_cast<size_t>(n_ % horizon_) * k;
  if (n_ >= horizon_ && scale_ > 0) {
    double best = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < k; ++i) {
      const double e = std::min(kMaxLoss, std::abs(pending_[slot + i] - x) / scale_);
      loss_[i] = p_.discount * loss_[i] + (std::isfinite(e) ? e : kMaxLoss);
      best = std::min(best, loss_[i]);
    }
    double sum = 0;
    for (size_t i = 0; i < k; ++i) sum += w_[i] = std::exp(-p_.eta * (loss_[i] - best));
    for (double& w : w_) w /= sum;  // sum >= 1: the best expert's term is exp(0)
  }
  for (size_t i = 0; i < k; ++i) {
    experts_[i]->observe(x);
    pending_[slot + i] = experts_[i]->forecast(horizon_);
  }
  ++n_;
}

double OnlineBlend::forecast(int h) const {
  double y = 0;
  if (h == horizon_ && n_ > 0) {
    // What observe() just asked every expert (the global model's forecast is not cheap).
    const double* f = &pending_[static_cast<size_t>((n_ - 1) % horizon_) * experts_.size()];
    for (size_t i = 0; i < experts_.size(); ++i) y += w_[i] * f[i];
    return y;
  }
  for (size_t i = 0; i < experts_.size(); ++i) y += w_[i] * experts_[i]->forecast(h);
  return y;
}

OnlineBlend make_global_blend(const GlobalModel& model, int period, BlendParams params) {
  std::vector<std::unique_ptr<Forecaster>> experts;
  experts.push_back(std::make_unique<GlobalForecaster>(model));
  experts.push_back(std::make_unique<LastValue>());
  for (double alpha : {0.02, 0.05, 0.1, 0.2, 0.3, 0.5})
    experts.push_back(std::make_unique<Ewma>(alpha));
  experts.push_back(std::make_unique<SeasonalNaive>(std::max(1, period)));
  return OnlineBlend(std::move(experts), model.horizon, params);
}

}  // namespace prescale::forecast
