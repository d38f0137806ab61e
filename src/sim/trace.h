// Real workload traces: `timestamp,value` CSV files (NAB format), resampled to the
// simulator's step and scaled to a configured peak rate.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace prescale::sim {

struct TracePoint {
  double t_s;    // seconds since 1970-01-01 00:00:00 (the file's clock, no time zone)
  double value;  // the series' value, any unit
};

struct Trace {
  std::string file;
  std::vector<TracePoint> points;  // strictly increasing t_s
  double median_gap_s() const;     // median spacing between consecutive samples
};

// Parses a CSV with a header line and rows `YYYY-MM-DD HH:MM:SS,value`. Errors name the
// file, the line and what was expected; non-increasing timestamps and negative or
// non-finite values are errors. At least two rows are required.
core::Result<Trace> load_trace(const std::string& path);

// Averages the samples falling in consecutive buckets of `bucket_s` seconds starting at
// the first timestamp. Empty buckets (gaps in the trace) are filled by linear
// interpolation between the neighbouring non-empty buckets.
std::vector<double> resample(const Trace& trace, double bucket_s);

// Scales a series so that its maximum equals `peak` (an all-zero series stays zero).
void scale_to_peak(std::vector<double>& series, double peak);

}  // namespace prescale::sim
