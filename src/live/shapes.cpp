#include "live/shapes.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/files.h"
#include "sim/trace.h"

namespace prescale::live {

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = {
      {"burst", "the seed-like 4x burst (scenarios/race/burst.csv, 120 s)",
       "scenarios/race/burst.csv", "", 0, 30, 2400, 2.0, 30},
      // Median ~18,600 passengers per half hour, evening peak 26,872: the "burst" marker
      // (1.3 x the median) is the evening peak; 3 s a sample.
      {"diurnal",
       "one day of NYC taxi demand (nab/realKnownCause/nyc_taxi.csv from 2014-07-02 "
       "03:00, 48 half-hour samples, 144 s)",
       "data/traces/nab/realKnownCause/nyc_taxi.csv", "2014-07-02 03:00:00", 48, 600, 3000, 1.3,
       30},
      {"llm",
       "15 minutes of LLM conversation requests per second (azure_llm_2023, from "
       "18:29:46, 900 samples, 5x: 180 s)",
       "data/traces/azure_llm_2023/conv_requests_per_second.csv", "2023-11-16 18:29:46", 900, 5,
       5500, 2.0, 30},
  };
  return all;
}

std::string shape_names() {
  std::string out;
  for (const auto& s : shapes()) out += (out.empty() ? "" : ", ") + s.name;
  return out;
}

core::Result<Shape> find_shape(const std::string& name) {
  for (const auto& s : shapes())
    if (s.name == name) return s;
  return core::Error{"--shape: unknown shape '" + name + "'; expected one of: " + shape_names()};
}

core::Result<ShapeReplay> materialise(const Shape& shape, const std::string& source_dir,
                                      const std::string& out_csv) {
  const std::string path = source_dir + "/" + shape.source;
  auto text = core::read_file(path);
  if (!text.ok()) return text.error();
  std::istringstream in(*text);
  std::string line, header;
  if (!std::getline(in, header)) return core::Error{path + ": empty file"};
  std::string out = header + "\n";
  int line_no = 1, taken = 0;
  bool started = shape.first.empty();
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!started && line.rfind(shape.first + ",", 0) == 0) started = true;
    if (!started) continue;
    out += line + "\n";
    if (++taken == shape.samples) break;
  }
  if (!started)
    return core::Error{path + ": no row at " + shape.first + " (shape " + shape.name + ")"};
  if (shape.samples > 0 && taken < shape.samples)
    return core::Error{path + ": the window of shape " + shape.name + " needs " +
                       std::to_string(shape.samples) + " rows from " + shape.first +
                       ", the file has " + std::to_string(taken) + " (to line " +
                       std::to_string(line_no) + ")"};
  if (auto st = core::write_file_atomic(out_csv, out); !st.ok()) return st.error();
  // What the agent will make of it (edge::prepare_agent): one sample per median gap.
  auto trace = sim::load_trace(out_csv);
  if (!trace.ok()) return trace.error();
  double peak = 0;
  for (const auto& p : trace->points) peak = std::max(peak, p.value);
  if (!(peak > 0))
    return core::Error{path + ": the window of shape " + shape.name + " is all zero"};
  ShapeReplay r;
  r.trace_file = out_csv;
  r.speedup = shape.speedup;
  r.samples = static_cast<int>(trace->points.size());
  // The agent's interval in whole milliseconds, as prepare_agent rounds it.
  r.interval_s = static_cast<double>(std::max<long long>(
                     1, std::llround(trace->median_gap_s() * 1000.0 / shape.speedup))) /
                 1000.0;
  r.scale = shape.peak_rps * r.interval_s / peak;
  r.horizon = std::max(1, static_cast<int>(std::lround(shape.lead_s / r.interval_s)));
  r.burst_threshold = shape.burst_threshold;
  return r;
}

}  // namespace prescale::live
