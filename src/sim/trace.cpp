#include "sim/trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace prescale::sim {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
long long days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

bool parse_int(std::string_view s, int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// "YYYY-MM-DD HH:MM:SS" -> seconds since the epoch.
bool parse_timestamp(std::string_view s, double* out) {
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
      s[16] != ':') {
    return false;
  }
  int y, mo, d, h, mi, se;
  if (!parse_int(s.substr(0, 4), &y) || !parse_int(s.substr(5, 2), &mo) ||
      !parse_int(s.substr(8, 2), &d) || !parse_int(s.substr(11, 2), &h) ||
      !parse_int(s.substr(14, 2), &mi) || !parse_int(s.substr(17, 2), &se)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  *out = static_cast<double>(days_from_civil(y, mo, d)) * 86400.0 + h * 3600.0 + mi * 60.0 + se;
  return true;
}

}  // namespace

double Trace::median_gap_s() const {
  if (points.size() < 2) return 0;
  std::vector<double> gaps;
  gaps.reserve(points.size() - 1);
  for (size_t i = 1; i < points.size(); ++i) gaps.push_back(points[i].t_s - points[i - 1].t_s);
  std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
  return gaps[gaps.size() / 2];
}

double Trace::span_s() const {
  return points.size() < 2 ? 0.0 : points.back().t_s - points.front().t_s;
}

core::Result<Trace> load_trace(const std::string& path, TimeOrder order) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Error{path + ": cannot open trace file"};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return core::Error{path + ": cannot read trace file"};
  return parse_trace(text.str(), path, order);
}

core::Result<Trace> parse_trace(std::string_view text, const std::string& path, TimeOrder order) {
  Trace trace;
  trace.file = path;
  bool relative = false;  // t_seconds,value rather than timestamp,value
  std::string line;
  int line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t eol = std::min(text.find('\n', pos), text.size());
    line.assign(text.substr(pos, eol - pos));
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) {
      relative = line.rfind("t_seconds", 0) == 0;
      if (!relative && line.rfind("timestamp", 0) != 0) {
        return core::Error{path +
                           ":1: expected the header 'timestamp,value' or 't_seconds,value', got " +
                           core::echo(line)};
      }
      continue;
    }
    if (line.empty()) continue;
    const auto comma = line.find(',');
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    const std::string time_text = line.substr(0, comma == std::string::npos ? 0 : comma);
    if (comma == std::string::npos) {
      return core::Error{where + "expected '" + (relative ? "seconds" : "YYYY-MM-DD HH:MM:SS") +
                         ",value', got " + core::echo(line)};
    }
    TracePoint p{};
    if (relative) {
      auto [ptr, ec] =
          std::from_chars(time_text.data(), time_text.data() + time_text.size(), p.t_s);
      if (ec != std::errc() || ptr != time_text.data() + time_text.size() ||
          !std::isfinite(p.t_s) || p.t_s < 0) {
        return core::Error{where + "t_seconds: got " + core::echo(time_text) +
                           ", expected seconds since the start, a finite number >= 0"};
      }
    } else if (!parse_timestamp(time_text, &p.t_s)) {
      return core::Error{where + "timestamp: got " + core::echo(time_text) +
                         ", expected YYYY-MM-DD HH:MM:SS"};
    }
    const std::string value = line.substr(comma + 1);
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), p.value);
    if (ec != std::errc() || ptr != value.data() + value.size() || !std::isfinite(p.value) ||
        p.value < 0) {
      return core::Error{where + "value: got " + core::echo(value) + ", expected a number >= 0"};
    }
    if (!trace.points.empty() && p.t_s <= trace.points.back().t_s) {
      if (order == TimeOrder::kDropClockChanges && trace.points.back().t_s - p.t_s < 3600) {
        ++trace.dropped_rows;
        continue;
      }
      return core::Error{where + (relative ? "t_seconds " : "timestamp ") + core::echo(time_text) +
                         " is not after the previous row's; expected strictly increasing " +
                         (relative ? "seconds" : "timestamps")};
    }
    trace.points.push_back(p);
  }
  if (line_no == 0) return core::Error{path + ": empty file; expected 'timestamp,value' rows"};
  if (trace.dropped_rows * 50 > trace.points.size() + trace.dropped_rows) {
    return core::Error{path + ": " + std::to_string(trace.dropped_rows) + " of " +
                       std::to_string(trace.points.size() + trace.dropped_rows) +
                       " rows are not after the previous row's; expected strictly increasing "
                       "times (at most 2% of the rows are left out as clock changes)"};
  }
  if (trace.points.size() < 2) {
    return core::Error{path + ": " + std::to_string(trace.points.size()) +
                       " data rows; expected at least 2"};
  }
  return trace;
}

namespace {

// The number of buckets, or an error when bucket_s is unusable or the count exceeds
// max_steps (never more than kMaxResampledSteps); computed in double so nothing overflows
// before the check.
core::Result<size_t> bucket_count(const Trace& trace, double bucket_s, bool with_last_sample,
                                  double max_steps) {
  if (!(max_steps <= kMaxResampledSteps)) max_steps = kMaxResampledSteps;  // NaN too
  const std::string file = trace.file.empty() ? "trace" : trace.file;
  if (!(bucket_s > 0) || !std::isfinite(bucket_s)) {
    char b[160];
    std::snprintf(b, sizeof b, ": bucket of %g s; expected a finite bucket > 0 s", bucket_s);
    return core::Error{file + b};
  }
  if (trace.points.empty()) return core::Error{file + ": no samples to resample"};
  const double ratio = trace.span_s() / bucket_s;
  const double n =
      with_last_sample ? std::floor(ratio) + 1 : std::max(1.0, std::ceil(ratio - 1e-9));
  if (n > max_steps) {
    char b[400];
    std::snprintf(b, sizeof b,
                  ": resampling the trace's span of %.0f s (%.1f days) into buckets of %g s "
                  "would make %.0f steps; expected at most %.0f (use a larger bucket or speedup, "
                  "or a shorter trace)",
                  trace.span_s(), trace.span_s() / 86400.0, bucket_s, n, max_steps);
    return core::Error{file + b};
  }
  const double samples = static_cast<double>(trace.points.size());
  if (with_last_sample && n > kMaxBucketsPerSample * samples) {
    char b[400];
    std::snprintf(b, sizeof b,
                  ": %.0f samples over a span of %.0f s (%.1f days) would make %.0f steps of "
                  "%g s, %.0f per sample; expected at most %.0f per sample (is a timestamp "
                  "wrong? to stretch a short trace, replay it with speedup)",
                  samples, trace.span_s(), trace.span_s() / 86400.0, n, bucket_s, n / samples,
                  kMaxBucketsPerSample);
    return core::Error{file + b};
  }
  return static_cast<size_t>(n);
}

}  // namespace

core::Result<std::vector<double>> resample(const Trace& trace, double bucket_s, double max_steps) {
  auto count_or = bucket_count(trace, bucket_s, /*with_last_sample=*/true, max_steps);
  if (!count_or.ok()) return count_or.error();
  const size_t n = *count_or;
  const auto& pts = trace.points;
  const double t0 = pts.front().t_s;
  std::vector<double> sum(n, 0.0);
  std::vector<int> count(n, 0);
  for (const auto& p : pts) {
    const size_t b = std::min(n - 1, static_cast<size_t>((p.t_s - t0) / bucket_s));
    sum[b] += p.value;
    ++count[b];
  }
  std::vector<double> out(n, 0.0);
  size_t prev = n;  // index of the previous non-empty bucket
  for (size_t i = 0; i < n; ++i) {
    if (count[i] == 0) continue;
    out[i] = sum[i] / count[i];
    if (prev != n && i - prev > 1) {
      for (size_t j = prev + 1; j < i; ++j) {
        const double f = static_cast<double>(j - prev) / static_cast<double>(i - prev);
        out[j] = out[prev] + f * (out[i] - out[prev]);
      }
    }
    prev = i;
  }
  return out;
}

core::Result<std::vector<double>> resample_linear(const Trace& trace, double bucket_s,
                                                  double max_steps) {
  auto count_or = bucket_count(trace, bucket_s, /*with_last_sample=*/false, max_steps);
  if (!count_or.ok()) return count_or.error();
  const size_t n = *count_or;
  const auto& pts = trace.points;
  std::vector<double> out(n, 0.0);
  if (pts.size() == 1) {
    out.assign(n, pts.front().value);
    return out;
  }
  const double t0 = pts.front().t_s;
  const double t_end = pts.back().t_s;
  // The interpolant on segment i (between samples i and i + 1) at time x.
  auto at = [&](size_t i, double x) {
    const TracePoint& a = pts[i];
    const TracePoint& b = pts[i + 1];
    return a.value + (b.value - a.value) * (x - a.t_s) / (b.t_s - a.t_s);
  };
  size_t seg = 0;  // segment holding the current position; only moves forward
  for (size_t k = 0; k < n; ++k) {
    const double lo = t0 + static_cast<double>(k) * bucket_s;
    const double hi = std::min(t_end, t0 + static_cast<double>(k + 1) * bucket_s);
    if (!(hi > lo)) {  // rounding left nothing of the last bucket: extend the last value
      out[k] = k > 0 ? out[k - 1] : pts.front().value;
      continue;
    }
    double area = 0;
    double x = lo;
    while (seg + 2 < pts.size() && pts[seg + 1].t_s <= x) ++seg;
    while (x < hi) {
      const double seg_end = std::min(hi, pts[seg + 1].t_s);
      area += (seg_end - x) * 0.5 * (at(seg, x) + at(seg, seg_end));
      x = seg_end;
      if (x < hi) {
        if (seg + 2 >= pts.size()) break;  // hi is clamped to t_end: not reached in practice
        ++seg;
      }
    }
    out[k] = area / (hi - lo);
  }
  return out;
}

void scale_to_peak(std::vector<double>& series, double peak) {
  const double mx = series.empty() ? 0.0 : *std::max_element(series.begin(), series.end());
  if (mx <= 0) return;
  const double k = peak / mx;
  for (double& v : series) v *= k;
}

}  // namespace prescale::sim
