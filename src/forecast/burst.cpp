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
    if (baseline_ > 0 && forecast > p_.raise_ratio * baseline_) {
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
  // the threshold for a few samples is one burst, not several). All of them, also those
  // before `from`: they bound which rises count and whose windows a signal sample lies in.
  std::vector<Episode> bursts;
  for (const auto& e : episodes(truth)) {
    if (!bursts.empty() && e.start - bursts.back().end <= h) {
      bursts.back().end = e.end;
    } else {
      bursts.push_back(e);
    }
  }
  const auto window_start = [h](const Episode& b) { return b.start >= h ? b.start - h : 0; };

  // Precision, by time: the signal's samples at or after `from` inside some window.
  std::vector<std::uint8_t> in_window(signal.size(), 0);
  for (const auto& b : bursts) {
    for (size_t t = window_start(b); t <= b.end && t < in_window.size(); ++t) in_window[t] = 1;
  }
  for (size_t t = from; t < signal.size(); ++t) {
    if (!signal[t]) continue;
    ++m.signal_on_steps;
    m.in_window_steps += in_window[t];
  }
  const std::vector<Episode> all_signals = episodes(signal);
  for (const auto& s : all_signals) {
    if (s.end < from) continue;
    ++m.signals;
    for (size_t t = std::max(s.start, from); t <= s.end; ++t) {
      if (in_window[t]) {
        ++m.true_signals;
        break;
      }
    }
  }

  // Recall and lead, by event: a burst is detected by the first signal episode that rose
  // after the previous burst ended and overlaps the burst's window.
  double lead_sum = 0;
  for (size_t i = 0; i < bursts.size(); ++i) {
    const Episode& b = bursts[i];
    if (b.start < from) continue;
    ++m.bursts;
    const size_t lo = window_start(b);
    const size_t earliest_rise = i > 0 ? bursts[i - 1].end + 1 : 0;
    for (const auto& s : all_signals) {
      if (s.start < earliest_rise || s.end < lo) continue;
      if (s.start > b.end) break;
      ++m.detected;
      lead_sum += std::min(static_cast<double>(h),
                           static_cast<double>(b.start) - static_cast<double>(s.start));
      break;
    }
  }

  m.precision = m.signal_on_steps > 0 ? static_cast<double>(m.in_window_steps) / m.signal_on_steps
                                      : (m.bursts == 0 ? 1.0 : 0.0);
  m.recall = m.bursts > 0 ? static_cast<double>(m.detected) / m.bursts : 1.0;
  m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
  m.mean_lead_steps = m.detected > 0 ? lead_sum / m.detected : 0;
  return m;
}

}  // namespace prescale::forecast
