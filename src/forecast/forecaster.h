// Load forecasters for the edge (issue 4): a gateway sees its own traffic one sample at a
// time and forecasts it `h` samples ahead (h = the cloud's cold start in samples), early
// enough to scale before a burst arrives.
//
// This file holds the interface and the classical baselines every learned forecaster must
// beat: last value, seasonal naive, EWMA, additive Holt-Winters, and linear regression on a
// recent window. All are online (observe one value, forecast any horizon), allocate nothing
// after construction, and are deterministic. The LSTM (libtorch) is still to come.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace prescale::forecast {

class Forecaster {
 public:
  virtual ~Forecaster() = default;
  virtual std::string_view name() const = 0;
  virtual void reset() = 0;
  // The next value of the series.
  virtual void observe(double x) = 0;
  // The value h >= 1 samples after the last observed one (0 before any observation).
  virtual double forecast(int h) const = 0;
};

// The last `capacity` observations, oldest first by age: back(0) is the newest.
class History {
 public:
  explicit History(int capacity) : ring_(static_cast<size_t>(capacity < 1 ? 1 : capacity), 0.0) {}
  void clear();
  void push(double x);
  long long count() const { return n_; }  // observations ever pushed
  int size() const;                       // observations held: min(count, capacity)
  int capacity() const { return static_cast<int>(ring_.size()); }
  double back(int age) const;  // age < size()

 private:
  std::vector<double> ring_;
  long long n_ = 0;
};

// Last value: x[t+h] = x[t].
class LastValue : public Forecaster {
 public:
  std::string_view name() const override { return "last"; }
  void reset() override { last_ = 0; }
  void observe(double x) override { last_ = x; }
  double forecast(int) const override { return last_; }

 private:
  double last_ = 0;
};

// Seasonal naive: x[t+h] = x[t+h-period*k] for the smallest k >= 1 that is observed; the last
// value until a whole period has been seen.
class SeasonalNaive : public Forecaster {
 public:
  explicit SeasonalNaive(int period) : history_(period) {}
  std::string_view name() const override { return "seasonal"; }
  void reset() override { history_.clear(); }
  void observe(double x) override { history_.push(x); }
  double forecast(int h) const override;

 private:
  History history_;  // the last `period` values
};

// Exponentially weighted moving average (flat forecast).
class Ewma : public Forecaster {
 public:
  explicit Ewma(double alpha) : alpha_(alpha) {}
  std::string_view name() const override { return "ewma"; }
  void reset() override { level_ = 0, seen_ = false; }
  void observe(double x) override;
  double forecast(int) const override { return level_; }

 private:
  double alpha_;
  double level_ = 0;
  bool seen_ = false;
};

// Additive Holt-Winters (level, trend, seasonal with `period`), initialised from the first
// period (level = its mean, trend 0, seasonal = deviations from the mean); Holt's linear
// method until then.
class HoltWinters : public Forecaster {
 public:
  HoltWinters(double alpha, double beta, double gamma, int period);
  std::string_view name() const override { return "holt-winters"; }
  void reset() override;
  void observe(double x) override;
  double forecast(int h) const override;

 private:
  double alpha_, beta_, gamma_;
  int period_;
  double level_ = 0, trend_ = 0;
  std::vector<double> season_;  // indexed by sample number mod period
  std::vector<double> first_;   // the first period, for initialisation
  long long n_ = 0;
  bool seasonal_ready_ = false;
};

// Least-squares line through the last `window` values, extrapolated h samples ahead
// (never below 0: loads are non-negative).
class LinearRegression : public Forecaster {
 public:
  explicit LinearRegression(int window) : history_(window < 2 ? 2 : window) {}
  std::string_view name() const override { return "linreg"; }
  void reset() override { history_.clear(); }
  void observe(double x) override { history_.push(x); }
  double forecast(int h) const override;

 private:
  History history_;
};

// The baseline names, in report order.
const std::vector<std::string>& baseline_names();

// Builds a baseline by name; `period` is the seasonal period in samples (a day for the NAB
// traces); `params` is one entry of baseline_grid(name) ("" = the defaults of
// docs/forecast.md). Errors name the model or the parameter string.
core::Result<std::unique_ptr<Forecaster>> make_baseline(const std::string& name, int period,
                                                        const std::string& params = "");

// The parameter settings tried for a baseline on the validation split, e.g. "alpha=0.3".
std::vector<std::string> baseline_grid(const std::string& name);

}  // namespace prescale::forecast
