#include "rl/gae.h"

#include <algorithm>
#include <cmath>

namespace prescale::rl {

void compute_gae(const std::vector<float>& rewards, const std::vector<float>& values,
                 const std::vector<unsigned char>& dones, float last_value, float gamma,
                 float lambda, std::vector<float>* advantages, std::vector<float>* returns) {
  const size_t n = rewards.size();
  advantages->assign(n, 0.0f);
  returns->assign(n, 0.0f);
  float next_adv = 0;
  float next_value = last_value;
  for (size_t i = n; i-- > 0;) {
    const float nonterminal = dones[i] ? 0.0f : 1.0f;
    const float delta = rewards[i] + gamma * next_value * nonterminal - values[i];
    next_adv = delta + gamma * lambda * nonterminal * next_adv;
    (*advantages)[i] = next_adv;
    (*returns)[i] = next_adv + values[i];
    next_value = values[i];
  }
}

float clipped_surrogate(float ratio, float advantage, float eps) {
  const float clipped = std::clamp(ratio, 1.0f - eps, 1.0f + eps);
  return std::min(ratio * advantage, clipped * advantage);
}

void RunningNorm::update(const float* rows, int n) {
  if (n <= 0) return;
  const int d = dim();
  std::vector<double> bmean(d, 0.0), bm2(d, 0.0);
  for (int r = 0; r < n; ++r)
    for (int j = 0; j < d; ++j) bmean[j] += rows[r * d + j];
  for (int j = 0; j < d; ++j) bmean[j] /= n;
  for (int r = 0; r < n; ++r)
    for (int j = 0; j < d; ++j) {
      const double e = rows[r * d + j] - bmean[j];
      bm2[j] += e * e;
    }
  const double total = count_ + n;
  for (int j = 0; j < d; ++j) {
    const double delta = bmean[j] - mean_[j];
    mean_[j] += delta * n / total;
    m2_[j] += bm2[j] + delta * delta * count_ * n / total;
  }
  count_ = total;
}

std::vector<float> RunningNorm::mean() const { return {mean_.begin(), mean_.end()}; }

std::vector<float> RunningNorm::stddev() const {
  std::vector<float> s(mean_.size());
  for (size_t j = 0; j < s.size(); ++j) {
    const double var = count_ > 1 ? m2_[j] / count_ : 1.0;
    s[j] = static_cast<float>(std::max(std::sqrt(var), kMinStd));
  }
  return s;
}

void RunningNorm::normalize(const float* x, float* out) const {
  const int d = dim();
  for (int j = 0; j < d; ++j) {
    const double var = count_ > 1 ? m2_[j] / count_ : 1.0;
    const double sd = std::max(std::sqrt(var), kMinStd);
    // float math mirrors the Eigen forward pass of shipped models exactly
    out[j] = (x[j] - static_cast<float>(mean_[j])) / static_cast<float>(sd);
  }
}

std::vector<double> RunningNorm::state() const {
  std::vector<double> s;
  s.push_back(count_);
  s.insert(s.end(), mean_.begin(), mean_.end());
  s.insert(s.end(), m2_.begin(), m2_.end());
  return s;
}

bool RunningNorm::set_state(const std::vector<double>& s) {
  const size_t d = mean_.size();
  if (s.size() != 1 + 2 * d) return false;
  count_ = s[0];
  std::copy(s.begin() + 1, s.begin() + 1 + static_cast<long>(d), mean_.begin());
  std::copy(s.begin() + 1 + static_cast<long>(d), s.end(), m2_.begin());
  return true;
}

}  // namespace prescale::rl
