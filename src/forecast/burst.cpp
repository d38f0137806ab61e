#include "forecast/burst.h"

#include <algorithm>

#include "sim/workload.h"

namespace prescale::forecast {

namespace {

struct Episode {
  size_t start, end;  // inclusive
};

std::vector<Episode> episodes(const std::vector<std::uint8_t>& on) {
  std::vector<Episode> out;
  for (size_t t = 0; t < on.size(); ++t) {
    if (!on[t]) continue;
    size_t e = t;
    while (e + 1 < on.size() && on[e + 1]) ++e;
    out.push_back({t, e});
    t = e;
  }
  return out;
}

}  // namespace

BurstDetector::BurstDetector(DetectorParams p) : p_(p), previous_(std::max(1, p.baseline_window)) {
  scratch_.reserve(static_cast<size_t>(previous_.capacity()));
}

void BurstDetector::reset() {
  previous_.clear();
  up_ = false;
  held_ = 0;
  baseline_ = 0;
}

bool BurstDetector::update(double x, double forecast) {
  // Median of the previous baseline_window samples (not x), as in the ground truth; the
  // first sample is its own baseline.
  if (previous_.size() == 0) {
    baseline_ = x;
  } else {
    scratch_.clear();
    for (int a = 0; a < previous_.size(); ++a) scratch_.push_back(previous_.back(a));
    const auto mid = scratch_.begin() + static_cast<long>(scratch_.size() / 2);
    std::nth_element(scratch_.begin(), mid, scratch_.end());
    baseline_ = *mid;
  }
  previous_.push(x);
  if (!up_) {
    if (baseline_ > 0 && forecast >= p_.raise_ratio * baseline_) {
      up_ = true;
      held_ = 0;
    }
  } else if (held_ >= p_.min_on && forecast < p_.release_ratio * baseline_) {
    up_ = false;
  }
  if (up_) ++held_;
  return up_;
}

std::vector<std::uint8_t> detect_bursts(Forecaster& f, const std::vector<double>& series,
                                        int horizon, const DetectorParams& p,
                                        std::vector<double>* forecasts) {
  std::vector<std::uint8_t> signal(series.size(), 0);
  if (forecasts) forecasts->assign(series.size(), 0.0);
  BurstDetector d(p);
  f.reset();
  for (size_t t = 0; t < series.size(); ++t) {
    f.observe(series[t]);
    const double forecast = f.forecast(horizon);
    if (forecasts) (*forecasts)[t] = forecast;
    signal[t] = d.update(series[t], forecast) ? 1 : 0;
  }
  return signal;
}

std::vector<std::uint8_t> true_bursts(const std::vector<double>& series) {
  sim::Workload w;
  w.arrivals_rps = series;
  sim::TraceSpec spec;  // threshold 2.0, window 60: the arena's definition
  sim::mark_trace_bursts(spec, &w);
  return w.burst;
}

BurstMetrics score_bursts(const std::vector<std::uint8_t>& signal,
                          const std::vector<std::uint8_t>& truth, int horizon, size_t from) {
  BurstMetrics m;
  const auto h = static_cast<size_t>(std::max(0, horizon));
  // Bursts: truth episodes, merged when less than a horizon apart (a burst that dips below
  // the threshold for a few samples is one burst, not several).
  std::vector<Episode> bursts;
  for (const auto& e : episodes(truth)) {
    if (!bursts.empty() && e.start - bursts.back().end <= h) {
      bursts.back().end = e.end;
    } else {
      bursts.push_back(e);
    }
  }
  bursts.erase(std::remove_if(bursts.begin(), bursts.end(),
                              [&](const Episode& b) { return b.start < from; }),
               bursts.end());
  const std::vector<Episode> all_signals = episodes(signal);
  std::vector<Episode> signals;
  for (const auto& e : all_signals)
    if (e.end >= from) signals.push_back(e);
  m.bursts = static_cast<int>(bursts.size());
  m.signals = static_cast<int>(signals.size());
  double lead_sum = 0;
  for (const auto& b : bursts) {
    const size_t lo = b.start >= h ? b.start - h : 0;
    // The first signal episode overlapping [start - h, end]: lead = how long before the
    // burst it rose (negative: late; capped at h when it was already up before the window).
    for (const auto& s : all_signals) {
      if (s.end < lo || s.start > b.end) continue;
      ++m.detected;
      lead_sum += s.start < lo ? static_cast<double>(h)
                               : static_cast<double>(b.start) - static_cast<double>(s.start);
      break;
    }
  }
  for (const auto& s : signals) {
    for (const auto& b : bursts) {
      const size_t lo = b.start >= h ? b.start - h : 0;
      if (s.start <= b.end && s.end >= lo) {
        ++m.true_signals;
        break;
      }
    }
  }
  m.precision =
      m.signals > 0 ? static_cast<double>(m.true_signals) / m.signals : (m.bursts == 0 ? 1.0 : 0.0);
  m.recall = m.bursts > 0 ? static_cast<double>(m.detected) / m.bursts : 1.0;
  m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
  m.mean_lead_steps = m.detected > 0 ? lead_sum / m.detected : 0;
  return m;
}

}  // namespace prescale::forecast
