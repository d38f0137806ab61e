// Temperature and placement: pure functions, no I/O (table-driven tests in
// placement_test.cpp).
//
// Temperature is an exponentially decayed access count. Each access at time t does
//   count <- count * 2^(-(t - last) / half_life) + 1,   last <- t
// and the temperature read at `now` is count * 2^(-(now - last) / half_life). A steady
// stream of r accesses per second converges to count = r * half_life / ln 2, so
//   rate_per_hour = temperature * ln 2 / half_life_hours
// is an unbiased estimate of the recent access rate; placement thresholds use that unit.
//
// Placement: objects sorted hottest first fill Redis (rate >= hot threshold, within the
// memory budget), then the directory (rate >= warm threshold, or hot but Redis is full,
// within the disk budget); everything else goes to S3. Filling hottest-first is what makes
// budget enforcement demote the coldest objects first. In burst mode, objects written
// during the burst keep their Redis place (budget permitting) until the burst ends: the
// write-back to lower tiers is deferred to spare I/O while the burst lasts. A tier that is
// not configured passes its objects to the next colder one (S3 absent: the directory
// takes everything colder, without a budget).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace prescale::tier {

inline constexpr int kRedis = 0, kDir = 1, kS3 = 2;

struct Temperature {
  double half_life_s = 3600;
  // The decayed count after an access at now_ms.
  double on_access(double count, std::int64_t last_ms, std::int64_t now_ms) const;
  double at(double count, std::int64_t last_ms, std::int64_t now_ms) const;
  double per_hour(double count, std::int64_t last_ms, std::int64_t now_ms) const;
};

struct PlacementRules {
  double hot_per_hour = 60;  // at least this many accesses/h -> Redis
  double warm_per_hour = 1;  // at least this many -> directory, else S3
  std::uint64_t redis_budget_bytes = 256ull << 20;
  std::uint64_t dir_budget_bytes = 10ull << 30;
  std::array<bool, 3> configured{true, true, true};
  bool burst = false;
};

struct Candidate {
  std::string key;
  int tier = kDir;
  std::uint64_t bytes = 0;  // raw size (what a tier's budget counts, before compression)
  double per_hour = 0;
  bool burst_written = false;
  int backing = -1;  // the durable copy's tier while the object has a Redis copy
};

// The tier each candidate should live in (same order as the input).
std::vector<int> place(const std::vector<Candidate>& objects, const PlacementRules& rules);

// Where a new write lands: Redis in burst mode, else `write_tier`, moved down to the
// nearest configured tier.
int write_tier(const PlacementRules& rules, int preferred);

}  // namespace prescale::tier
