// The first seed's timeline as columns, per policy, for report.html: what the page plots,
// and nothing else. Runs longer than `max_points` steps are decimated per bucket of steps
// so that no series exceeds max_points points while every spike stays visible (see
// timeline_columns()).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arena/tournament.h"

namespace prescale::arena {

// The page stays fast with this many points per series (uPlot draws ~200k points in tens
// of milliseconds; the file stays a few MB per policy).
inline constexpr int kMaxTimelinePoints = 200'000;

struct PolicyColumns {
  std::string policy;
  int steps = 0;  // rows recorded for this policy (0: the policy has no timeline)
  std::vector<double> processed_rps, latency_ms;
  std::vector<int> active, pending, target;
  std::vector<int> tier, codec;  // core::Tier / core::Compression values
  std::vector<int> guards;       // core::kGuard* bits
  std::vector<double> hold_s;    // the envelope's scale-down window, s (0: not guarded)
};

struct TimelineColumns {
  std::uint64_t seed = 0;
  int steps = 0;            // the longest policy's rows
  int bucket_steps = 1;     // > 1: decimated; each bucket of this many steps became 2 points
  std::vector<double> t_s;  // each point's time, seconds from the start of the run
  std::vector<double> load_rps;
  std::vector<int> signal;              // the edge burst signal, 0 or 1
  std::vector<PolicyColumns> policies;  // result order, then any policy only in the timeline
};

// Collects r.timeline into columns. A policy of r.results without timeline rows gets an
// entry with steps = 0 and empty columns. The load and the burst signal are the workload's,
// the same for every policy: they are read from the policy with the most rows.
//
// Decimation, when steps > max_points: buckets of bucket_steps = ceil(2 * steps /
// max_points) steps, each shown as two points, at the bucket's first step and at its
// middle step. Continuous and count series take the bucket's minimum at the first point
// and its maximum at the second (so a one-step spike survives); the burst signal and the
// guard bits take the OR over each half of the bucket; tier and codec are sampled at the
// two points. A policy shorter than the run has fewer points; the page pads it.
TimelineColumns timeline_columns(const TournamentResult& r, int max_points = kMaxTimelinePoints);

}  // namespace prescale::arena
