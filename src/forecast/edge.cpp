#include "forecast/edge.h"

#include <vector>

namespace prescale::forecast {

void drive_edge_signal(const LstmModel& model, double raw_per_rps, const DetectorParams& p,
                       sim::Workload* w) {
  const size_t n = w->arrivals_rps.size();
  std::vector<double> raw(n);
  for (size_t t = 0; t < n; ++t) raw[t] = w->arrivals_rps[t] * raw_per_rps;
  LstmForecaster f(model);
  std::vector<double> fc;
  const std::vector<std::uint8_t> sig = detect_bursts(f, raw, model.horizon, p, &fc);
  w->signal.assign(n, 0);
  w->forecast_rps.assign(n, 0.0);
  w->confidence.assign(n, 0.0);
  for (size_t t = 1; t < n; ++t) {
    w->signal[t] = sig[t - 1];
    w->forecast_rps[t] = fc[t - 1] / raw_per_rps;
    w->confidence[t] = sig[t - 1] ? 0.85 : 0.0;
  }
}

void drive_edge_signal(const GlobalModel& model, sim::Workload* w) {
  const size_t n = w->arrivals_rps.size();
  std::vector<double> p90;
  const std::vector<std::uint8_t> sig = global_signal(model, w->arrivals_rps, nullptr, &p90);
  w->signal.assign(n, 0);
  w->forecast_rps.assign(n, 0.0);
  w->confidence.assign(n, 0.0);
  for (size_t t = 1; t < n; ++t) {
    w->signal[t] = sig[t - 1];
    w->forecast_rps[t] = p90[t - 1];
    w->confidence[t] = sig[t - 1] ? 0.85 : 0.0;
  }
}

}  // namespace prescale::forecast
