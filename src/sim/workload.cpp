#include "sim/workload.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "sim/rng.h"
#include "sim/trace.h"

namespace prescale::sim {
namespace {

// Seed streams: one per random process, so changing one does not shift the others.
enum Stream : std::uint64_t { kBase = 1, kBursts = 2, kEdge = 3, kJitter = 4, kWindow = 5 };

int steps_of(double seconds, double step_s) {
  return static_cast<int>(std::ceil(seconds / step_s - 1e-9));
}

}  // namespace

void generate_synthetic(const Scenario& s, std::uint64_t seed, Workload* w) {
  const SyntheticSpec& g = s.synthetic;
  const int n = s.steps;
  const double dt = s.step_s;
  w->arrivals_rps.assign(n, 0.0);
  w->baseline_rps.assign(n, 0.0);
  w->burst.assign(n, 0);

  // Base: slow cycle x stationary log-normal AR(1) noise with mean 1.
  Rng base_rng(derive_seed(seed, kBase));
  const double phase = base_rng.uniform(0, 2 * std::numbers::pi);
  const double innov = g.noise_sigma * std::sqrt(1 - g.noise_phi * g.noise_phi);
  double x = g.noise_sigma * base_rng.normal();
  for (int t = 0; t < n; ++t) {
    if (t > 0) x = g.noise_phi * x + innov * base_rng.normal();
    const double cycle =
        1 + g.cycle_amplitude * std::sin(2 * std::numbers::pi * t * dt / g.cycle_period_s + phase);
    w->baseline_rps[t] = g.base_rps * cycle * std::exp(x - 0.5 * g.noise_sigma * g.noise_sigma);
  }

  // Bursts: one per equal segment of [first_burst_after_s, end), random length and start.
  std::vector<double> shape(n, 0.0);
  Rng burst_rng(derive_seed(seed, kBursts));
  const double t_begin = g.first_burst_after_s;
  const double t_end = n * dt;
  if (g.bursts > 0 && t_end > t_begin) {
    const double seg = (t_end - t_begin) / g.bursts;
    for (int k = 0; k < g.bursts; ++k) {
      const double seg_start = t_begin + k * seg;
      const double len = std::min(burst_rng.uniform(g.burst_min_s, g.burst_max_s), seg);
      const double start = seg_start + burst_rng.uniform(0, std::max(0.0, seg - len));
      const double ramp = std::min(g.burst_ramp_s, len / 2);
      for (int t = 0; t < n; ++t) {
        const double tm = t * dt;  // step start
        if (tm < start || tm >= start + len) continue;
        double v = 1.0;
        if (ramp > 0) {
          v = std::min({1.0, (tm - start + dt) / ramp, (start + len - tm) / ramp});
        }
        shape[t] = std::max(shape[t], std::clamp(v, 0.0, 1.0));
      }
    }
  }
  for (int t = 0; t < n; ++t) {
    w->arrivals_rps[t] = w->baseline_rps[t] * (1 + (g.burst_factor - 1) * shape[t]);
    w->burst[t] = shape[t] >= 0.5 ? 1 : 0;
  }
}

void mark_trace_bursts(const TraceSpec& spec, Workload* w) {
  const int n = w->steps();
  w->baseline_rps.assign(n, 0.0);
  w->burst.assign(n, 0);
  std::vector<double> window;
  for (int t = 0; t < n; ++t) {
    const int lo = std::max(0, t - spec.baseline_window);
    if (t == 0) {
      w->baseline_rps[t] = w->arrivals_rps[0];
    } else {
      window.assign(w->arrivals_rps.begin() + lo, w->arrivals_rps.begin() + t);
      std::nth_element(window.begin(), window.begin() + window.size() / 2, window.end());
      w->baseline_rps[t] = window[window.size() / 2];
    }
    w->burst[t] =
        w->arrivals_rps[t] > spec.burst_threshold * w->baseline_rps[t] && w->baseline_rps[t] > 0
            ? 1
            : 0;
  }
}

void generate_edge_signal(const Scenario& s, std::uint64_t seed, Workload* w) {
  const int n = w->steps();
  const int h = steps_of(s.edge.horizon_s, s.step_s);
  Rng rng(derive_seed(seed, kEdge));
  w->signal.assign(n, 0);
  w->forecast_rps.assign(n, 0.0);
  w->confidence.assign(n, 0.0);
  std::vector<std::uint8_t> missed(n, 0);  // steps of bursts the edge did not see

  // Real bursts: raise the signal h steps before each episode and hold it through it.
  for (int t = 0; t < n;) {
    if (!w->burst[t]) {
      ++t;
      continue;
    }
    int end = t;
    while (end + 1 < n && w->burst[end + 1]) ++end;
    if (rng.bernoulli(s.edge.miss_rate)) {
      std::fill(missed.begin() + t, missed.begin() + end + 1, 1);
    } else {
      for (int u = std::max(0, t - h); u <= end; ++u) w->signal[u] = 1;
    }
    t = end + 1;
  }
  // False alarms: a Poisson process; each raises the signal for h + 1 steps.
  const double p_false = s.edge.false_alarms_per_hour * s.step_s / 3600.0;
  std::vector<std::uint8_t> false_alarm(n, 0);
  for (int t = 0; t < n; ++t) {
    if (!rng.bernoulli(p_false)) continue;
    for (int u = t; u <= std::min(n - 1, t + h); ++u) {
      if (!w->signal[u]) false_alarm[u] = 1;
    }
  }
  const double burst_factor =
      s.source == WorkloadSource::kSynthetic ? s.synthetic.burst_factor : s.trace.burst_threshold;
  const double sigma = s.edge.forecast_sigma;
  for (int t = 0; t < n; ++t) {
    const int ahead = std::min(n - 1, t + h);
    double truth = w->arrivals_rps[ahead];
    if (missed[ahead]) truth = w->baseline_rps[ahead];  // the forecaster did not see it
    if (false_alarm[t]) truth = burst_factor * w->baseline_rps[t];
    w->forecast_rps[t] = truth * std::exp(sigma * rng.normal() - 0.5 * sigma * sigma);
    if (false_alarm[t]) w->signal[t] = 1;
    w->confidence[t] = w->signal[t] ? std::clamp(0.85 + 0.1 * rng.normal(), 0.5, 1.0) : 0.0;
  }
}

core::Result<std::vector<double>> replay_series(const Trace& trace, const TraceSpec& spec,
                                                double step_s, double max_steps) {
  if (spec.speedup > 0 && spec.bucket_s > 0) {
    return core::Error{
        trace.file +
        ": workload.trace.bucket_s and workload.trace.speedup are both set; expected at most one"};
  }
  if (spec.speedup > 0) return resample_linear(trace, step_s * spec.speedup, max_steps);
  return resample(trace, spec.bucket_s > 0 ? spec.bucket_s : trace.median_gap_s(), max_steps);
}

core::Result<WorkloadGenerator> WorkloadGenerator::create(const Scenario& scenario) {
  WorkloadGenerator gen(scenario);
  if (scenario.source == WorkloadSource::kTrace) {
    auto trace = load_trace(scenario.trace.file);
    if (!trace.ok()) return trace.error();
    auto series = replay_series(*trace, scenario.trace, scenario.step_s);
    if (!series.ok()) return series.error();
    gen.trace_rps_ = std::move(*series);
    scale_to_peak(gen.trace_rps_, scenario.trace.peak_rps);
    double bucket = scenario.trace.bucket_s > 0 ? scenario.trace.bucket_s : trace->median_gap_s();
    if (scenario.trace.speedup > 0) bucket = scenario.step_s * scenario.trace.speedup;
    if (gen.trace_rps_.size() < 2) {
      return core::Error{scenario.trace.file + ": fewer than 2 steps after resampling to " +
                         std::to_string(bucket) + " s buckets"};
    }
  }
  return gen;
}

int WorkloadGenerator::steps() const {
  if (scenario_.source == WorkloadSource::kSynthetic) return scenario_.steps;
  const int n = static_cast<int>(trace_rps_.size());
  return scenario_.steps <= 0 || scenario_.steps >= n ? n : scenario_.steps;
}

Workload WorkloadGenerator::generate(std::uint64_t seed) const {
  Workload w;
  if (scenario_.source == WorkloadSource::kSynthetic) {
    generate_synthetic(scenario_, seed, &w);
  } else {
    const int n = steps();
    const int total = static_cast<int>(trace_rps_.size());
    int offset = 0;
    if (n < total) {
      Rng rng(derive_seed(seed, kWindow));
      offset = static_cast<int>(rng.uniform() * (total - n + 1));
      offset = std::min(offset, total - n);
    }
    w.arrivals_rps.assign(trace_rps_.begin() + offset, trace_rps_.begin() + offset + n);
    if (scenario_.trace.jitter_sigma > 0) {
      Rng rng(derive_seed(seed, kJitter));
      const double sg = scenario_.trace.jitter_sigma;
      for (double& v : w.arrivals_rps) v *= std::exp(sg * rng.normal() - 0.5 * sg * sg);
    }
    mark_trace_bursts(scenario_.trace, &w);
  }
  generate_edge_signal(scenario_, seed, &w);
  return w;
}

}  // namespace prescale::sim
