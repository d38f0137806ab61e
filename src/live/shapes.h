// The traffic shapes of `prescale race --shape NAME` (and `make stack-demo SHAPE=NAME`,
// `make validate`): each fixes the trace (a file, or a window of one), the replay's speed-up
// and the scale, so that a race takes about 3 minutes per policy and the live job needs 1 to
// 3 executors (docs/sim2real.md, "Validation"):
//   burst    scenarios/race/burst.csv: the seed-like 4x burst, 60 samples of 2 s (120 s);
//   diurnal  one day of NYC taxi demand (data/traces/nab/realKnownCause/nyc_taxi.csv, 48
//            half-hour samples from 03:00), 3 s a sample (144 s): night, the morning rise,
//            the evening peak and the decline;
//   llm      15 minutes of the Azure LLM conversation trace (data/traces/azure_llm_2023/
//            conv_requests_per_second.csv, 900 one-second samples from minute 14), 5x
//            faster (180 s): per-second noise on a rise from ~4.6 to ~8 requests/s.
// The scale is derived, not written: the window's highest sample becomes `peak_rps`
// readings/s (scale = peak_rps x interval / the window's maximum), and the lookahead
// signal's horizon is `lead_s` in intervals.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace prescale::live {

struct Shape {
  std::string name, summary;
  std::string source;  // the trace, relative to the source tree
  std::string first;   // the window's first row's timestamp ("" = the file's first row)
  int samples = 0;     // rows in the window (0 = to the end of the file)
  double speedup = 30;
  double peak_rps = 2400;        // readings/s at the window's highest sample
  double burst_threshold = 2.0;  // the race's burst marker: samples >= this x the median
  double lead_s = 30;            // the lookahead signal's lead (horizon = lead / interval)
};

// Every shape, in the order `make validate` runs them.
const std::vector<Shape>& shapes();
// "burst, diurnal, llm".
std::string shape_names();
// The shape called `name`; the error lists the shapes.
core::Result<Shape> find_shape(const std::string& name);

// A shape made concrete: the window written out as a `timestamp,value` CSV and the replay's
// options.
struct ShapeReplay {
  std::string trace_file;  // the CSV written
  double speedup = 0;
  double scale = 1;
  int horizon = 1;  // intervals (the lookahead's)
  double burst_threshold = 2;
  int samples = 0;
  double interval_s = 0;  // one sample's replay time
};

// Cuts the shape's window out of `source_dir`/source (rows copied verbatim) into `out_csv`
// and derives the scale and the horizon. Errors name the file (missing, no row at `first`,
// fewer rows than `samples`, no positive sample).
core::Result<ShapeReplay> materialise(const Shape& shape, const std::string& source_dir,
                                      const std::string& out_csv);

}  // namespace prescale::live
