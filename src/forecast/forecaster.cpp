#include "forecast/forecaster.h"

#include <algorithm>
#include <cmath>

namespace prescale::forecast {

void History::clear() {
  std::fill(ring_.begin(), ring_.end(), 0.0);
  n_ = 0;
}

void History::push(double x) {
  ring_[static_cast<size_t>(n_ % static_cast<long long>(ring_.size()))] = x;
  ++n_;
}

int History::size() const {
  return static_cast<int>(std::min<long long>(n_, static_cast<long long>(ring_.size())));
}

double History::back(int age) const {
  const auto cap = static_cast<long long>(ring_.size());
  return ring_[static_cast<size_t>(((n_ - 1 - age) % cap + cap) % cap)];
}

double SeasonalNaive::forecast(int h) const {
  if (history_.count() == 0) return 0;
  const int p = history_.capacity();
  if (history_.count() < p) return history_.back(0);  // last value until a period is seen
  // The same phase as t + h, whole periods back: age = (p - h mod p) mod p.
  return history_.back(((p - h % p) % p));
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

double LinearRegression::forecast(int h) const {
  const int w = history_.size();
  if (w == 0) return 0;
  if (w == 1) return history_.back(0);
  // x = 0..w-1 (oldest to newest), y = the values.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int i = 0; i < w; ++i) {
    const double y = history_.back(w - 1 - i);
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

std::vector<std::string> baseline_grid(const std::string& name) {
  if (name == "ewma")
    return {"alpha=0.1", "alpha=0.2", "alpha=0.3", "alpha=0.5", "alpha=0.7", "alpha=0.9"};
  if (name == "linreg") return {"window=6", "window=12", "window=24", "window=48"};
  if (name == "holt-winters") {
    std::vector<std::string> g;
    for (const char* a : {"0.1", "0.3", "0.5"})
      for (const char* b : {"0", "0.02", "0.1"})
        for (const char* c : {"0.05", "0.2", "0.5"})
          g.push_back(std::string("alpha=") + a + ",beta=" + b + ",gamma=" + c);
    return g;
  }
  return {""};
}

namespace {

// "k=v,k=v" -> value of `key`, or `fallback` when absent; false on a malformed string.
bool param(const std::string& params, const std::string& key, double fallback, double* out) {
  *out = fallback;
  size_t pos = 0;
  while (pos < params.size()) {
    const size_t end = std::min(params.find(',', pos), params.size());
    const std::string item = params.substr(pos, end - pos);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return false;
    if (item.substr(0, eq) == key) {
      try {
        size_t used = 0;
        *out = std::stod(item.substr(eq + 1), &used);
        if (used != item.size() - eq - 1) return false;
      } catch (const std::exception&) {
        return false;
      }
    }
    pos = end + 1;
  }
  return true;
}

}  // namespace

core::Result<std::unique_ptr<Forecaster>> make_baseline(const std::string& name, int period,
                                                        const std::string& params) {
  double alpha = 0, beta = 0, gamma = 0, window = 0;
  const bool ok = param(params, "alpha", name == "ewma" ? 0.3 : 0.3, &alpha) &&
                  param(params, "beta", 0.02, &beta) && param(params, "gamma", 0.2, &gamma) &&
                  param(params, "window", 12, &window);
  if (!ok || alpha <= 0 || alpha > 1 || beta < 0 || beta > 1 || gamma < 0 || gamma > 1 ||
      window < 2) {
    return core::Error{"forecaster '" + name + "': bad parameters '" + params +
                       "' (expected alpha in (0,1], beta and gamma in [0,1], window >= 2)"};
  }
  if (name == "last") return std::unique_ptr<Forecaster>(std::make_unique<LastValue>());
  if (name == "seasonal")
    return std::unique_ptr<Forecaster>(std::make_unique<SeasonalNaive>(period));
  if (name == "ewma") return std::unique_ptr<Forecaster>(std::make_unique<Ewma>(alpha));
  if (name == "holt-winters") {
    return std::unique_ptr<Forecaster>(std::make_unique<HoltWinters>(alpha, beta, gamma, period));
  }
  if (name == "linreg")
    return std::unique_ptr<Forecaster>(
        std::make_unique<LinearRegression>(static_cast<int>(window)));
  return core::Error{"unknown forecaster '" + name +
                     "'; expected one of: last, seasonal, ewma, holt-winters, linreg"};
}

}  // namespace prescale::forecast
