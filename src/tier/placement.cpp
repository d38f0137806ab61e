#include "tier/placement.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace prescale::tier {

double Temperature::at(double count, std::int64_t last_ms, std::int64_t now_ms) const {
  const double dt = static_cast<double>(std::max<std::int64_t>(0, now_ms - last_ms)) / 1000.0;
  return count * std::exp2(-dt / half_life_s);
}

double Temperature::on_access(double count, std::int64_t last_ms, std::int64_t now_ms) const {
  return at(count, last_ms, now_ms) + 1.0;
}

double Temperature::per_hour(double count, std::int64_t last_ms, std::int64_t now_ms) const {
  return at(count, last_ms, now_ms) * std::log(2.0) / (half_life_s / 3600.0);
}

namespace {

int nearest_configured(const PlacementRules& r, int tier) {
  for (int t = tier; t <= kS3; ++t)
    if (r.configured[static_cast<size_t>(t)]) return t;
  for (int t = tier; t >= kRedis; --t)
    if (r.configured[static_cast<size_t>(t)]) return t;
  return kDir;
}

}  // namespace

int write_tier(const PlacementRules& rules, int preferred) {
  return nearest_configured(rules, rules.burst ? kRedis : preferred);
}

std::vector<int> place(const std::vector<Candidate>& objects, const PlacementRules& rules) {
  std::vector<size_t> order(objects.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (objects[a].per_hour != objects[b].per_hour)
      return objects[a].per_hour > objects[b].per_hour;
    return objects[a].key < objects[b].key;
  });
  const bool has_redis = rules.configured[kRedis];
  const bool has_s3 = rules.configured[kS3];
  const std::uint64_t dir_budget = has_s3 ? rules.dir_budget_bytes : UINT64_MAX;
  std::uint64_t redis_used = 0, dir_used = 0;
  std::vector<int> out(objects.size(), has_s3 ? kS3 : kDir);
  for (size_t i : order) {
    const Candidate& c = objects[i];
    const bool hot =
        c.per_hour >= rules.hot_per_hour || (rules.burst && c.burst_written && c.tier == kRedis);
    if (has_redis && hot && redis_used + c.bytes <= rules.redis_budget_bytes) {
      redis_used += c.bytes;
      if (c.backing == kDir || c.tier == kDir) dir_used += c.bytes;  // its durable copy
      out[i] = kRedis;
      continue;
    }
    const bool warm = hot || c.per_hour >= rules.warm_per_hour;
    if ((warm || !has_s3) && dir_used + c.bytes <= dir_budget) {
      dir_used += c.bytes;
      out[i] = kDir;
      continue;
    }
    if (!has_s3) out[i] = kDir;  // over budget with nowhere colder: stays on disk
  }
  return out;
}

}  // namespace prescale::tier
