#include "forecast/edge.h"

#include <vector>

namespace prescale::forecast {

void drive_edge_signal(const LstmModel& model, double raw_per_rps, const DetectorParams& p,
                       sim::Workload* w) {
  const size_t n = w->arrivals_rps.size();
  std::vector<double> raw(n);
  for (size_t t = 0; t < n; ++t) raw[t] = w->arrivals_rps[t] * raw_per_rps;
  LstmForecaster f(model);
  const std::vector<std::uint8_t> sig = detect_bursts(f, raw, model.horizon, p);
  // The forecasts after each observation (detect_bursts reset and replayed the same
  // forecaster; replay once more for the values).
  std::vector<double> fc(n, 0.0);
  f.reset();
  for (size_t t = 0; t < n; ++t) {
    f.observe(raw[t]);
    fc[t] = f.forecast(model.horizon) / raw_per_rps;
  }
  w->signal.assign(n, 0);
  w->forecast_rps.assign(n, 0.0);
  w->confidence.assign(n, 0.0);
  for (size_t t = 1; t < n; ++t) {
    w->signal[t] = sig[t - 1];
    w->forecast_rps[t] = fc[t - 1];
    w->confidence[t] = sig[t - 1] ? 0.85 : 0.0;
  }
}

}  // namespace prescale::forecast
