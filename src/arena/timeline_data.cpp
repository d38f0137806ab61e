#include "arena/timeline_data.h"

#include <algorithm>
#include <map>

namespace prescale::arena {
namespace {

using Rows = std::vector<const sim::StepRecord*>;

// The points of one policy's rows: a bucket [s0, s1) becomes one point (bucket_steps == 1)
// or two, at s0 and at its middle.
struct Bucket {
  int s0, mid, s1;
};

std::vector<Bucket> buckets_of(int steps, int bucket_steps) {
  std::vector<Bucket> out;
  for (int s0 = 0; s0 < steps; s0 += bucket_steps) {
    const int s1 = std::min(steps, s0 + bucket_steps);
    out.push_back({s0, s0 + (s1 - s0 + 1) / 2, s1});
  }
  return out;
}

template <class T, class Get>
void min_max(const Rows& rows, const Bucket& b, bool two, Get get, std::vector<T>* out) {
  T lo = get(*rows[b.s0]), hi = lo;
  for (int s = b.s0 + 1; s < b.s1; ++s) {
    lo = std::min(lo, static_cast<T>(get(*rows[s])));
    hi = std::max(hi, static_cast<T>(get(*rows[s])));
  }
  out->push_back(two ? lo : hi);
  if (two) out->push_back(hi);
}

template <class Get>
void any_bits(const Rows& rows, const Bucket& b, bool two, Get get, std::vector<int>* out) {
  auto bits = [&](int from, int to) {
    int v = 0;
    for (int s = from; s < to; ++s) v |= get(*rows[s]);
    return v;
  };
  if (!two) {
    out->push_back(bits(b.s0, b.s1));
    return;
  }
  out->push_back(bits(b.s0, b.mid));
  out->push_back(bits(b.mid, b.s1));
}

template <class Get>
void sampled(const Rows& rows, const Bucket& b, bool two, Get get, std::vector<int>* out) {
  out->push_back(get(*rows[b.s0]));
  if (two) out->push_back(get(*rows[b.mid]));
}

// A bucket is shown as two points when it has at least two steps.
bool two_points(const Bucket& b, int bucket_steps) { return bucket_steps > 1 && b.s1 - b.s0 > 1; }

PolicyColumns columns_of(const std::string& policy, const Rows& rows, int bucket_steps) {
  PolicyColumns c;
  c.policy = policy;
  c.steps = static_cast<int>(rows.size());
  using R = sim::StepRecord;
  for (const Bucket& b : buckets_of(c.steps, bucket_steps)) {
    const bool two = two_points(b, bucket_steps);
    min_max(
        rows, b, two, [](const R& x) { return x.processed_rps; }, &c.processed_rps);
    min_max(
        rows, b, two, [](const R& x) { return x.latency_ms; }, &c.latency_ms);
    min_max(
        rows, b, two, [](const R& x) { return x.active; }, &c.active);
    min_max(
        rows, b, two, [](const R& x) { return x.pending; }, &c.pending);
    min_max(
        rows, b, two, [](const R& x) { return x.target; }, &c.target);
    sampled(
        rows, b, two, [](const R& x) { return static_cast<int>(x.tier); }, &c.tier);
    sampled(
        rows, b, two, [](const R& x) { return static_cast<int>(x.codec); }, &c.codec);
    any_bits(
        rows, b, two, [](const R& x) { return static_cast<int>(x.guards); }, &c.guards);
    min_max(
        rows, b, two, [](const R& x) { return static_cast<double>(x.hold_s); }, &c.hold_s);
  }
  return c;
}

}  // namespace

TimelineColumns timeline_columns(const TournamentResult& r, int max_points) {
  TimelineColumns out;
  std::vector<std::string> order;
  for (const auto& s : r.results) order.push_back(s.policy);
  std::map<std::string, Rows> rows;
  for (const auto& row : r.timeline) {
    if (rows.empty()) out.seed = row.seed;
    if (rows.find(row.policy) == rows.end() &&
        std::find(order.begin(), order.end(), row.policy) == order.end()) {
      order.push_back(row.policy);
    }
    rows[row.policy].push_back(&row.record);
  }
  const Rows* longest = nullptr;
  for (const auto& [name, v] : rows) {
    if (longest == nullptr || v.size() > longest->size()) longest = &v;
  }
  out.steps = longest != nullptr ? static_cast<int>(longest->size()) : 0;
  max_points = std::max(max_points, 2);
  if (out.steps > max_points) {
    out.bucket_steps =
        static_cast<int>((2 * static_cast<long long>(out.steps) + max_points - 1) / max_points);
  }
  using R = sim::StepRecord;
  for (const Bucket& b : buckets_of(out.steps, out.bucket_steps)) {
    const bool two = two_points(b, out.bucket_steps);
    out.t_s.push_back(b.s0 * r.step_s);
    if (two) out.t_s.push_back(b.mid * r.step_s);
    min_max(
        *longest, b, two, [](const R& x) { return x.load_rps; }, &out.load_rps);
    any_bits(
        *longest, b, two, [](const R& x) { return x.signal ? 1 : 0; }, &out.signal);
  }
  for (const auto& name : order) {
    auto it = rows.find(name);
    out.policies.push_back(it == rows.end()
                               ? PolicyColumns{name, 0, {}, {}, {}, {}, {}, {}, {}, {}, {}}
                               : columns_of(name, it->second, out.bucket_steps));
  }
  return out;
}

}  // namespace prescale::arena
