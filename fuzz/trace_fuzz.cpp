// libFuzzer target: a trace CSV (`timestamp,value` or `t_seconds,value`) through the parser
// and both replays a scenario can ask for (bucket means at the median gap, and the linear
// interpolant at a speedup), as WorkloadGenerator::create does. Resampling is bounded
// (kMaxResampledSteps, kMaxBucketsPerSample) before it allocates. Here the bound is
// kFuzzMaxSteps: the same check on the same path, but a replay the fuzzer grows towards
// 20 M steps (160 MB an array, ~0.1 s) would otherwise take most of the run's time and hold
// the target at ~400 executions/s a worker (docs/benchmarks.md).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sim/scenario.h"
#include "sim/trace.h"
#include "sim/workload.h"

namespace {
constexpr double kFuzzMaxSteps = 100'000;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace prescale::sim;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto trace = parse_trace(text, "fuzz.csv");
  if (!trace.ok()) return 0;
  TraceSpec by_gap;  // bucket_s 0: the median sample gap
  if (auto s = replay_series(*trace, by_gap, 5.0, kFuzzMaxSteps); s.ok()) scale_to_peak(*s, 1000);
  TraceSpec by_speed;
  by_speed.speedup = 60;  // 5 s steps of 5 trace minutes
  if (auto s = replay_series(*trace, by_speed, 5.0, kFuzzMaxSteps); s.ok()) scale_to_peak(*s, 1000);
  return 0;
}
