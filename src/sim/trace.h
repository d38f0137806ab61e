// Real workload traces: `timestamp,value` or `t_seconds,value` CSV files, resampled to the
// simulator's step and scaled to a configured peak rate.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace prescale::sim {

struct TracePoint {
  // Seconds on the file's clock: since 1970-01-01 00:00:00 for `timestamp` files (no time
  // zone), since the start for `t_seconds` files.
  double t_s;
  double value;  // the series' value, any unit
};

struct Trace {
  std::string file;
  std::vector<TracePoint> points;  // strictly increasing t_s
  size_t dropped_rows = 0;         // TimeOrder::kDropClockChanges: rows left out
  double median_gap_s() const;     // median spacing between consecutive samples
  double span_s() const;           // last minus first sample time (0 with fewer than 2)
};

// Parses a CSV with a header line and then rows of one of two kinds, chosen by the header:
//   `timestamp,value`: rows `YYYY-MM-DD HH:MM:SS,value` (NAB format);
//   `t_seconds,value`: rows `seconds,value`, seconds since the start (a finite number >= 0).
// Errors name the file, the line and what was expected; non-increasing times and negative
// or non-finite values are errors. At least two rows are required.
//
// TimeOrder::kDropClockChanges (for training corpora, never for a replay a user asked for):
// a row whose time is not after the previous kept row's by less than an hour (a daylight-
// saving change: NAB files clamp the skipped hour to 03:00:00, repeating it) is left out and
// counted in Trace::dropped_rows; more than 2% of the rows dropped, or a step back of an
// hour or more, is still an error.
enum class TimeOrder { kStrict, kDropClockChanges };
core::Result<Trace> load_trace(const std::string& path, TimeOrder order = TimeOrder::kStrict);

// The same from the file's text; `origin` names it in errors and becomes Trace::file.
// load_trace() reads the file and calls this.
core::Result<Trace> parse_trace(std::string_view text, const std::string& origin,
                                TimeOrder order = TimeOrder::kStrict);

// No resampling makes more steps than this: beyond it, a replay would need gigabytes
// (several arrays of doubles per step) and hours per policy, so it is an input error.
inline constexpr double kMaxResampledSteps = 20'000'000;

// Bucket means (resample) of a sparse trace: more buckets than this per sample means nearly
// every step would be made up by interpolation, as when one timestamp of a 4-row file is a
// year off (105,000 steps of 5 minutes, minutes of simulation, from 4 numbers). It is an
// input error; a short trace is stretched on purpose with resample_linear (speedup).
inline constexpr double kMaxBucketsPerSample = 1000;

// Averages the samples falling in consecutive buckets of `bucket_s` seconds starting at
// the first timestamp. Empty buckets (gaps in the trace) are filled by linear
// interpolation between the neighbouring non-empty buckets. One sample per bucket when
// bucket_s is the sample spacing. O(samples + buckets).
// Errors: bucket_s not > 0, more than `max_steps` buckets (at most kMaxResampledSteps; a
// caller may bound it lower, as the fuzz harness does) or more than kMaxBucketsPerSample
// buckets per sample (checked before anything is allocated; the message names the file,
// the span and the bucket).
core::Result<std::vector<double>> resample(const Trace& trace, double bucket_s,
                                           double max_steps = kMaxResampledSteps);

// The mean of the piecewise-linear interpolant of the samples over each consecutive bucket
// of `bucket_s` seconds from the first sample: ceil(span / bucket_s) buckets, the last one
// averaged over the part the trace covers. Buckets much shorter than the sample spacing
// follow the line between samples (a 30-minute series replayed at real speed in 5 s
// steps); buckets longer than it average the samples (a per-second series in 5 s steps,
// each sample weighted by the trapezoid rule). Gaps are interpolated linearly.
// O(samples + buckets); same errors as resample().
core::Result<std::vector<double>> resample_linear(const Trace& trace, double bucket_s,
                                                  double max_steps = kMaxResampledSteps);

// Scales a series so that its maximum equals `peak` (an all-zero series stays zero).
void scale_to_peak(std::vector<double>& series, double peak);

}  // namespace prescale::sim
