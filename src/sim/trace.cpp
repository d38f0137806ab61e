#include "sim/trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>

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

core::Result<Trace> load_trace(const std::string& path) {
  std::ifstream in(path);
  if (!in) return core::Error{path + ": cannot open trace file"};
  Trace trace;
  trace.file = path;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) {
      if (line.rfind("timestamp", 0) != 0) {
        return core::Error{path + ":1: expected the header 'timestamp,value', got '" + line + "'"};
      }
      continue;
    }
    if (line.empty()) continue;
    const auto comma = line.find(',');
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (comma == std::string::npos) {
      return core::Error{where + "expected 'YYYY-MM-DD HH:MM:SS,value', got '" + line + "'"};
    }
    TracePoint p{};
    if (!parse_timestamp(std::string_view(line).substr(0, comma), &p.t_s)) {
      return core::Error{where + "timestamp: got '" + line.substr(0, comma) +
                         "', expected YYYY-MM-DD HH:MM:SS"};
    }
    const std::string value = line.substr(comma + 1);
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), p.value);
    if (ec != std::errc() || ptr != value.data() + value.size() || !std::isfinite(p.value) ||
        p.value < 0) {
      return core::Error{where + "value: got '" + value + "', expected a number >= 0"};
    }
    if (!trace.points.empty() && p.t_s <= trace.points.back().t_s) {
      return core::Error{where + "timestamp " + line.substr(0, comma) +
                         " is not after the previous row's; expected increasing timestamps"};
    }
    trace.points.push_back(p);
  }
  if (line_no == 0) return core::Error{path + ": empty file; expected 'timestamp,value' rows"};
  if (trace.points.size() < 2) {
    return core::Error{path + ": " + std::to_string(trace.points.size()) +
                       " data rows; expected at least 2"};
  }
  return trace;
}

std::vector<double> resample(const Trace& trace, double bucket_s) {
  const auto& pts = trace.points;
  if (pts.empty() || bucket_s <= 0) return {};
  const double t0 = pts.front().t_s;
  const size_t n = static_cast<size_t>((pts.back().t_s - t0) / bucket_s) + 1;
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

void scale_to_peak(std::vector<double>& series, double peak) {
  const double mx = series.empty() ? 0.0 : *std::max_element(series.begin(), series.end());
  if (mx <= 0) return;
  const double k = peak / mx;
  for (double& v : series) v *= k;
}

}  // namespace prescale::sim
