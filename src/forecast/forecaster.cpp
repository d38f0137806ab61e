#include "forecast/forecaster.h"

#include <algorithm>
#include <cmath>

namespace prescale::forecast {

SeasonalNaive::SeasonalNaive(int period) : ring_(static_cast<size_t>(std::max(1, period)), 0.0) {}

void SeasonalNaive::reset() {
  std::fill(ring_.begin(), ring_.end(), 0.0);
  n_ = 0;
}

void SeasonalNaive::observe(double x) {
  ring_[static_cast<size_t>(n_ % static_cast<long long>(ring_.size()))] = x;
  ++n_;
}

double SeasonalNaive::forecast(int h) const {
  if (n_ == 0) return 0;
  const auto p = static_cast<long long>(ring_.size());
  if (n_ < p) return ring_[static_cast<size_t>((n_ - 1) % p)];  // last value until a period is seen
  // Target index n_-1+h; the same phase one or more periods back, within the ring.
  long long idx = n_ - 1 + h;
  while (idx > n_ - 1) idx -= p;
  return ring_[static_cast<size_t>(((idx % p) + p) % p)];
}

void Ewma::observe(double x) {
  level_ = seen_ ? alpha_ * x + (1 - alpha_) * level_ : x;
  seen_ = true;
}

HoltWinters::HoltWinters(double alpha, double beta, double gamma, int period)
    : alpha_(alpha), beta_(beta), gamma_(gamma), period_(std::max(2, period)) {
  season_.assign(static_cast<size_t>(period_), 0.0);
  first_.reserve(static_cast<size_t>(period_));
}

void HoltWinters::reset() {
  level_ = trend_ = 0;
  std::fill(season_.begin(), season_.end(), 0.0);
  first_.clear();
  n_ = 0;
  seasonal_ready_ = false;
}

void HoltWinters::observe(double x) {
  const size_t phase = static_cast<size_t>(n_ % period_);
  if (!seasonal_ready_) {
    // Holt's linear method while the first period accumulates.
    if (n_ == 0) {
      level_ = x;
    } else {
      const double prev = level_;
      level_ = alpha_ * x + (1 - alpha_) * (level_ + trend_);
      trend_ = beta_ * (level_ - prev) + (1 - beta_) * trend_;
    }
    first_.push_back(x);
    if (static_cast<int>(first_.size()) == period_) {
      double mean = 0;
      for (double v : first_) mean += v / period_;
      for (int i = 0; i < period_; ++i)
        season_[static_cast<size_t>(i)] = first_[static_cast<size_t>(i)] - mean;
      level_ = mean;
      trend_ = 0;
      seasonal_ready_ = true;
    }
  } else {
    const double prev = level_;
    const double s = season_[phase];
    level_ = alpha_ * (x - s) + (1 - alpha_) * (level_ + trend_);
    trend_ = beta_ * (level_ - prev) + (1 - beta_) * trend_;
    season_[phase] = gamma_ * (x - level_) + (1 - gamma_) * s;
  }
  ++n_;
}

double HoltWinters::forecast(int h) const {
  if (n_ == 0) return 0;
  double f = level_ + h * trend_;
  if (seasonal_ready_) f += season_[static_cast<size_t>((n_ - 1 + h) % period_)];
  return std::max(0.0, f);
}

LinearRegression::LinearRegression(int window)
    : ring_(static_cast<size_t>(std::max(2, window)), 0.0) {}

void LinearRegression::reset() {
  std::fill(ring_.begin(), ring_.end(), 0.0);
  n_ = 0;
}

void LinearRegression::observe(double x) {
  ring_[static_cast<size_t>(n_ % static_cast<long long>(ring_.size()))] = x;
  ++n_;
}

double LinearRegression::forecast(int h) const {
  if (n_ == 0) return 0;
  const long long w = std::min<long long>(n_, static_cast<long long>(ring_.size()));
  if (w == 1) return ring_[0];
  // x = 0..w-1 (oldest to newest), y = the values.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (long long i = 0; i < w; ++i) {
    const long long idx = (n_ - w + i) % static_cast<long long>(ring_.size());
    const double y = ring_[static_cast<size_t>(idx)];
    const double xi = static_cast<double>(i);
    sx += xi;
    sy += y;
    sxx += xi * xi;
    sxy += xi * y;
  }
  const double wn = static_cast<double>(w);
  const double den = wn * sxx - sx * sx;
  const double slope = den != 0 ? (wn * sxy - sx * sy) / den : 0;
  const double intercept = (sy - slope * sx) / wn;
  return std::max(0.0, intercept + slope * (wn - 1 + h));
}

const std::vector<std::string>& baseline_names() {
  static const std::vector<std::string> kNames = {"last", "seasonal", "ewma", "holt-winters",
                                                  "linreg"};
  return kNames;
}

core::Result<std::unique_ptr<Forecaster>> make_baseline(const std::string& name, int period) {
  if (name == "last") return std::unique_ptr<Forecaster>(std::make_unique<LastValue>());
  if (name == "seasonal")
    return std::unique_ptr<Forecaster>(std::make_unique<SeasonalNaive>(period));
  if (name == "ewma") return std::unique_ptr<Forecaster>(std::make_unique<Ewma>(0.3));
  if (name == "holt-winters") {
    return std::unique_ptr<Forecaster>(std::make_unique<HoltWinters>(0.3, 0.02, 0.2, period));
  }
  if (name == "linreg") return std::unique_ptr<Forecaster>(std::make_unique<LinearRegression>(12));
  return core::Error{"unknown forecaster '" + name +
                     "'; expected one of: last, seasonal, ewma, holt-winters, linreg"};
}

}  // namespace prescale::forecast
