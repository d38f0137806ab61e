// For tests only: a small global forecaster with seeded random weights (no training), for
// the model file, inference and signal tests of forecast/ and edge/.
#pragma once

#include <cstdint>

#include "forecast/global.h"
#include "sim/rng.h"

namespace prescale::forecast {

inline GlobalModel random_global_model(std::uint64_t seed = 7, int hidden = 8, int horizon = 12) {
  GlobalModel m;
  m.horizon = horizon;
  m.recent = 16;
  m.blocks = 4;
  m.block = 8;
  m.hidden = hidden;
  sim::Rng rng(seed);
  auto fill = [&](Eigen::MatrixXf& w, int r, int c) {
    w.resize(r, c);
    for (int i = 0; i < r; ++i)
      for (int j = 0; j < c; ++j) w(i, j) = static_cast<float>(rng.normal() * 0.3);
  };
  auto fillv = [&](Eigen::VectorXf& v, int n) {
    v.resize(n);
    for (int i = 0; i < n; ++i) v[i] = static_cast<float>(rng.normal() * 0.1);
  };
  fill(m.w1, hidden, m.inputs());
  fill(m.w2, hidden, hidden);
  fill(m.w3, 3, hidden);
  fillv(m.b1, hidden);
  fillv(m.b2, hidden);
  fillv(m.b3, 3);
  m.raise = 0.5f;
  m.release = 0.35f;
  return m;
}

}  // namespace prescale::forecast
