#include "sim/traffic.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/types.h"
#include "sim/trace.h"

namespace prescale::sim {
namespace {

constexpr double kTwoPi = 2 * std::numbers::pi;

// Seed streams of this file (sim/workload.cpp uses 1..5 for the same seed).
enum Stream : std::uint64_t { kParams = 101, kShape = 102, kNoise = 103, kWindow = 104 };

double log_uniform(Rng& rng, double lo, double hi) { return lo * std::pow(hi / lo, rng.uniform()); }

int uniform_int(Rng& rng, int lo, int hi) {  // inclusive
  const int k = lo + static_cast<int>(rng.uniform() * (hi - lo + 1));
  return std::min(k, hi);
}

// Pareto(alpha, x_min) by inversion.
double pareto(Rng& rng, double alpha, double x_min) {
  double u = 1.0 - rng.uniform();  // (0, 1]
  return x_min * std::pow(u, -1.0 / alpha);
}

// Multiplies `v` by log-normal AR(1) noise with stationary s.d. sigma and mean 1.
void apply_log_ar1(double sigma, double phi, Rng& rng, std::vector<double>& v) {
  if (sigma <= 0 || v.empty()) return;
  const double innov = sigma * std::sqrt(std::max(0.0, 1 - phi * phi));
  double x = sigma * rng.normal();
  for (size_t t = 0; t < v.size(); ++t) {
    if (t > 0) x = phi * x + innov * rng.normal();
    v[t] *= std::exp(x - 0.5 * sigma * sigma);
  }
}

void normalise_max(std::vector<double>& v) {
  const double m = v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
  if (m > 0)
    for (double& x : v) x /= m;
}

// Burst ground truth and the edge signal, as a trace replay makes them.
void finish(const Scenario& s, double peak_rps, std::uint64_t seed, Workload* w) {
  for (double& x : w->arrivals_rps)
    if (!std::isfinite(x) || x < 0) x = 0;
  sim::scale_to_peak(w->arrivals_rps, peak_rps);
  mark_trace_bursts(s.trace, w);
  generate_edge_signal(s, seed, w);
}

}  // namespace

std::string_view to_string(TrafficFamily f) {
  switch (f) {
    case TrafficFamily::kOnOff:
      return "onoff";
    case TrafficFamily::kDiurnal:
      return "diurnal";
    case TrafficFamily::kSteps:
      return "steps";
    case TrafficFamily::kSpikes:
      return "spikes";
  }
  return "?";
}

double poisson(Rng& rng, double mean) {
  if (!(mean > 0)) return 0;
  if (mean < 30) {
    const double limit = std::exp(-mean);
    double p = rng.uniform();
    int k = 0;
    while (p > limit) {
      p *= rng.uniform();
      ++k;
    }
    return k;
  }
  return std::max(0.0, std::round(mean + std::sqrt(mean) * rng.normal()));
}

// --- on/off ---

OnOffParams draw_on_off(Rng& rng) {
  OnOffParams p;
  p.on_alpha = rng.uniform(1.2, 2.0);
  p.on_min_s = log_uniform(rng, 10, 300);
  p.off_alpha = rng.uniform(1.2, 2.0);
  p.off_min_s = log_uniform(rng, 10, 600);
  const int n_levels = uniform_int(rng, 1, 3);
  p.levels = {1.0};
  for (int i = 1; i < n_levels; ++i) p.levels.push_back(rng.uniform(0.25, 0.8));
  p.floor = rng.bernoulli(0.3) ? 0.0 : rng.uniform(0, 0.05);
  p.events_per_s_at_top = log_uniform(rng, 1, 1000);
  p.p_start_on = 0.5;
  return p;
}

TrafficShape on_off_shape(const OnOffParams& p, int steps, double step_s, Rng& rng) {
  TrafficShape sh;
  sh.level.assign(static_cast<size_t>(std::max(0, steps)), p.floor);
  sh.event.assign(sh.level.size(), 0);
  // Each period lasts at least one step and at most half the episode.
  const double cap_s = std::max(step_s, 0.5 * steps * step_s);
  bool on = rng.bernoulli(p.p_start_on);
  double t_s = 0;
  int t = 0;
  while (t < steps) {
    const double len_s = std::min(
        cap_s, on ? pareto(rng, p.on_alpha, p.on_min_s) : pareto(rng, p.off_alpha, p.off_min_s));
    double level = p.floor;
    if (on) {
      const size_t k =
          std::min(p.levels.size() - 1, static_cast<size_t>(rng.uniform() * p.levels.size()));
      level = p.levels[k];
    }
    t_s += len_s;
    const int end = std::min(steps, std::max(t + 1, static_cast<int>(std::lround(t_s / step_s))));
    for (; t < end; ++t) {
      sh.level[static_cast<size_t>(t)] = level;
      sh.event[static_cast<size_t>(t)] = on ? 1 : 0;
    }
    t_s = t * step_s;  // keep the clock on the step grid
    on = !on;
  }
  return sh;
}

// --- diurnal ---

DiurnalParams draw_diurnal(Rng& rng, double episode_s) {
  DiurnalParams p;
  p.period_s = log_uniform(rng, 0.2, 4.0) * episode_s;
  p.phase = rng.uniform(0, kTwoPi);
  p.ratio = log_uniform(rng, 1.5, 10);
  p.sharpness = rng.uniform(0.7, 3.0);
  p.second_hump = rng.bernoulli(0.5) ? 0.0 : rng.uniform(0.2, 0.6);
  p.second_phase = rng.uniform(0, kTwoPi);
  p.noise_sigma = rng.uniform(0.02, 0.2);
  p.noise_phi = rng.uniform(0.5, 0.95);
  return p;
}

TrafficShape diurnal_shape(const DiurnalParams& p, int steps, double step_s) {
  TrafficShape sh;
  const size_t n = static_cast<size_t>(std::max(0, steps));
  sh.level.assign(n, 0.0);
  sh.event.assign(n, 0);
  // day() over a whole period spans [0, 1 + second_hump] at most; normalise by the largest
  // value of the day (not of the episode, which may see only part of it).
  auto day = [&](double phi) {
    double d = std::pow(0.5 * (1 + std::sin(phi)), p.sharpness);
    if (p.second_hump > 0)
      d += p.second_hump * std::pow(0.5 * (1 + std::sin(2 * phi + p.second_phase)), p.sharpness);
    return d;
  };
  double d_max = 0, d_min = 1e300;
  for (int k = 0; k < 720; ++k) {
    const double d = day(kTwoPi * k / 720.0);
    d_max = std::max(d_max, d);
    d_min = std::min(d_min, d);
  }
  const double span = std::max(1e-12, d_max - d_min);
  const double trough = 1.0 / p.ratio;
  for (size_t t = 0; t < n; ++t) {
    const double phi = kTwoPi * static_cast<double>(t) * step_s / p.period_s + p.phase;
    const double d = std::clamp((day(phi) - d_min) / span, 0.0, 1.0);
    sh.level[t] = trough + (1 - trough) * d;
  }
  return sh;
}

// --- steps ---

StepParams draw_steps(Rng& rng) {
  StepParams p;
  const int shifts = uniform_int(rng, 1, 6);
  const double bound = std::log(12.0);
  double log_level = 0;
  for (int i = 0; i < shifts; ++i) {
    const double mag = std::log(log_uniform(rng, 1.5, 6.0));
    double dir = rng.bernoulli(0.5) ? 1.0 : -1.0;
    if (std::abs(log_level + dir * mag) > bound) dir = -dir;
    log_level += dir * mag;
    p.factors.push_back(std::exp(dir * mag));
  }
  for (int i = 0; i <= shifts; ++i) p.weights.push_back(-std::log(1.0 - rng.uniform()));
  p.ramp_s = rng.bernoulli(0.5) ? 0.0 : rng.uniform(5, 120);
  p.noise_sigma = rng.uniform(0.02, 0.15);
  p.noise_phi = rng.uniform(0.5, 0.95);
  return p;
}

int steps_min_dwell(int shifts, int steps) { return std::max(2, steps / (4 * (shifts + 1))); }

TrafficShape steps_shape(const StepParams& p, int steps, double step_s) {
  TrafficShape sh;
  const int n = std::max(0, steps);
  sh.level.assign(static_cast<size_t>(n), 1.0);
  sh.event.assign(static_cast<size_t>(n), 0);
  // As many shifts as fit with the shortest dwell.
  int m = static_cast<int>(p.factors.size());
  while (m > 0 && (m + 1) * steps_min_dwell(m, n) > n) --m;
  if (m == 0 || n == 0) return sh;
  const int dwell = steps_min_dwell(m, n);
  double total_w = 0;
  for (int i = 0; i <= m; ++i) total_w += p.weights[static_cast<size_t>(i)];
  const int free_steps = n - (m + 1) * dwell;
  // Level i starts at start[i]; each level gets `dwell` plus its share of the free steps.
  std::vector<int> start(static_cast<size_t>(m) + 1, 0);
  double cum = 0;
  for (int i = 1; i <= m; ++i) {
    cum += p.weights[static_cast<size_t>(i - 1)];
    start[static_cast<size_t>(i)] =
        i * dwell + static_cast<int>(std::floor(free_steps * cum / std::max(total_w, 1e-300)));
  }
  // A move (the shift step and its ramp) takes at most half the shortest level.
  const int ramp =
      std::min(std::max(0, dwell / 2 - 1), static_cast<int>(std::lround(p.ramp_s / step_s)));
  double level = 1.0;
  for (int i = 0; i <= m; ++i) {
    const int from = start[static_cast<size_t>(i)];
    const int to = i < m ? start[static_cast<size_t>(i) + 1] : n;
    const double prev = level;
    if (i > 0) level *= p.factors[static_cast<size_t>(i - 1)];
    for (int t = from; t < to; ++t) {
      const int k = t - from;  // steps into this level
      double v = level;
      if (i > 0 && k < ramp) v = prev + (level - prev) * (k + 1) / (ramp + 1.0);
      sh.level[static_cast<size_t>(t)] = v;
      sh.event[static_cast<size_t>(t)] = i > 0 && k <= ramp ? 1 : 0;
    }
  }
  normalise_max(sh.level);
  return sh;
}

// --- spikes ---

SpikeParams draw_spikes(Rng& rng, double episode_s, double step_s) {
  SpikeParams p;
  const int k = uniform_int(rng, 1, 8);
  for (int i = 0; i < k; ++i) {
    SpikeParams::Spike sp;
    sp.start_u = rng.uniform();
    sp.length_s = log_uniform(rng, step_s, std::max(step_s, kMaxSpikeS));
    sp.factor = log_uniform(rng, 3, 50);
    p.spikes.push_back(sp);
  }
  p.cycle_amplitude = rng.uniform(0, 0.3);
  p.cycle_period_s = log_uniform(rng, 0.5, 4.0) * episode_s;
  p.cycle_phase = rng.uniform(0, kTwoPi);
  p.noise_sigma = rng.uniform(0.02, 0.15);
  p.noise_phi = rng.uniform(0.5, 0.95);
  return p;
}

TrafficShape spikes_shape(const SpikeParams& p, int steps, double step_s) {
  TrafficShape sh;
  const int n = std::max(0, steps);
  sh.level.assign(static_cast<size_t>(n), 0.0);
  sh.event.assign(static_cast<size_t>(n), 0);
  if (n == 0) return sh;
  std::vector<double> mult(static_cast<size_t>(n), 1.0);
  const int k = static_cast<int>(p.spikes.size());
  if (k > 0) {
    const int seg = std::max(1, n / k);
    for (int i = 0; i < k && i * seg < n; ++i) {
      const SpikeParams::Spike& sp = p.spikes[static_cast<size_t>(i)];
      const int seg_len = std::min(seg, n - i * seg);
      const int len = std::clamp(static_cast<int>(std::lround(sp.length_s / step_s)), 1,
                                 std::max(1, seg_len - 1));
      const int start = i * seg + static_cast<int>(sp.start_u * std::max(0, seg_len - len));
      for (int t = start; t < std::min(n, start + len); ++t) {
        mult[static_cast<size_t>(t)] = sp.factor;
        sh.event[static_cast<size_t>(t)] = 1;
      }
    }
  }
  for (int t = 0; t < n; ++t) {
    const double base =
        1 + p.cycle_amplitude * std::sin(kTwoPi * t * step_s / p.cycle_period_s + p.cycle_phase);
    sh.level[static_cast<size_t>(t)] = base * mult[static_cast<size_t>(t)];
  }
  normalise_max(sh.level);
  return sh;
}

// --- workloads ---

void generate_traffic(TrafficFamily f, const Scenario& s, double peak_rps, std::uint64_t seed,
                      Workload* w) {
  Rng params_rng(sim::derive_seed(seed, kParams));
  Rng shape_rng(sim::derive_seed(seed, kShape));
  Rng noise_rng(sim::derive_seed(seed, kNoise));
  const int n = std::max(0, s.steps);
  const double dt = s.step_s;
  const double episode_s = n * dt;
  TrafficShape sh;
  std::vector<double>& a = w->arrivals_rps;
  switch (f) {
    case TrafficFamily::kOnOff: {
      const OnOffParams p = draw_on_off(params_rng);
      sh = on_off_shape(p, n, dt, shape_rng);
      a.resize(sh.level.size());
      const double per_step = p.events_per_s_at_top * dt;
      for (size_t t = 0; t < a.size(); ++t)
        a[t] = poisson(noise_rng, per_step * sh.level[t]) / per_step;
      break;
    }
    case TrafficFamily::kDiurnal: {
      const DiurnalParams p = draw_diurnal(params_rng, episode_s);
      a = diurnal_shape(p, n, dt).level;
      apply_log_ar1(p.noise_sigma, p.noise_phi, noise_rng, a);
      break;
    }
    case TrafficFamily::kSteps: {
      const StepParams p = draw_steps(params_rng);
      a = steps_shape(p, n, dt).level;
      apply_log_ar1(p.noise_sigma, p.noise_phi, noise_rng, a);
      break;
    }
    case TrafficFamily::kSpikes: {
      const SpikeParams p = draw_spikes(params_rng, episode_s, dt);
      a = spikes_shape(p, n, dt).level;
      apply_log_ar1(p.noise_sigma, p.noise_phi, noise_rng, a);
      break;
    }
  }
  finish(s, peak_rps, seed, w);
}

void replay_window(const std::vector<float>& series, const Scenario& s, double peak_rps,
                   std::uint64_t seed, Workload* w) {
  const int n = std::max(0, std::min(s.steps, static_cast<int>(series.size())));
  const int total = static_cast<int>(series.size());
  Rng rng(sim::derive_seed(seed, kWindow));
  const int offset = std::min(total - n, static_cast<int>(rng.uniform() * (total - n + 1)));
  w->arrivals_rps.assign(series.begin() + offset, series.begin() + offset + n);
  const double sigma = rng.uniform(0, 0.15), phi = rng.uniform(0.5, 0.95);
  Rng noise_rng(sim::derive_seed(seed, kNoise));
  apply_log_ar1(sigma, phi, noise_rng, w->arrivals_rps);
  finish(s, peak_rps, seed, w);
}

// --- the cluster ---

double max_throughput_rps(const Scenario& s) {
  const double record_mb = s.record_bytes / 1e6;
  double best = 0;
  for (int ti = 0; ti < core::kNumTiers; ++ti) {
    for (int ci = 0; ci < core::kNumCompressions; ++ci) {
      const sim::TierSpec& tier = s.shuffle.tiers[static_cast<size_t>(ti)];
      const sim::CompressionSpec& codec = s.shuffle.codecs[static_cast<size_t>(ci)];
      const double cpu =
          s.cluster.max_executors * s.cluster.capacity_rps / (1 + codec.cpu_overhead);
      const double mb_per_record = record_mb * s.shuffle.bytes_per_input_byte * codec.ratio;
      const double io = mb_per_record > 0 ? tier.bandwidth_mb_s / mb_per_record : cpu;
      best = std::max(best, std::min(cpu, io));
    }
  }
  return best;
}

double draw_peak_rps(const Scenario& s, Rng& rng) {
  const double rel = rng.bernoulli(0.9) ? log_uniform(rng, 0.2, 1.3) : rng.uniform(1.3, 1.6);
  return rel * max_throughput_rps(s);
}

void randomise_cluster(Rng& rng, Scenario* s, const ClusterRanges& r) {
  sim::ClusterSpec& c = s->cluster;
  c.cold_start_s = rng.uniform(r.cold_start_min_s, r.cold_start_max_s);
  c.capacity_rps *= log_uniform(rng, r.capacity_min_factor, r.capacity_max_factor);
  c.max_executors = uniform_int(rng, r.max_executors_min, r.max_executors_max);
  c.min_executors = std::min(c.min_executors, c.max_executors);
  c.initial_executors = uniform_int(rng, c.min_executors, c.max_executors);
}

}  // namespace prescale::sim
