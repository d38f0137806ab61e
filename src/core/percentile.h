// The percentile every report uses (the arena's metrics, the live race, the validation).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace prescale::core {

// The nearest-rank q-quantile of `v`: its ceil(q x n)-th smallest value (at least the first),
// 0 when `v` is empty. Reorders `v` (nth_element: linear, no full sort).
inline double nearest_rank(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const double rank = std::ceil(q * static_cast<double>(v.size()));
  const auto k = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(v.size()))) - 1;
  const auto nth = v.begin() + static_cast<std::ptrdiff_t>(k);
  std::nth_element(v.begin(), nth, v.end());
  return *nth;
}

}  // namespace prescale::core
