// Generalised advantage estimation (Schulman et al. 2016), for one environment's rollout.
#pragma once

#include <vector>

namespace prescale::rl {

// rewards[t], values[t] = V(s_t), dones[t] = 1 if the episode ended after step t (then
// no bootstrap from t+1); last_value = V(s_T) for the state after the rollout.
// Writes advantages A_t = sum_k (gamma lambda)^k delta_{t+k}, delta_t = r_t + gamma V(s_{t+1})
// (1 - done_t) - V(s_t), and returns R_t = A_t + V(s_t) (the value targets).
void compute_gae(const std::vector<float>& rewards, const std::vector<float>& values,
                 const std::vector<unsigned char>& dones, float last_value, float gamma,
                 float lambda, std::vector<float>* advantages, std::vector<float>* returns);

// PPO's clipped surrogate for one sample (to be maximised):
// min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A). The torch loss computes the same.
float clipped_surrogate(float ratio, float advantage, float eps);

// Welford running mean/variance over vectors, merged batch by batch (Chan et al.).
class RunningNorm {
 public:
  explicit RunningNorm(int dim = 0) : mean_(dim, 0.0), m2_(dim, 0.0) {}
  int dim() const { return static_cast<int>(mean_.size()); }
  double count() const { return count_; }
  void update(const float* rows, int n);  // n rows of dim() values
  // Normalises one row into out: (x - mean) / std, std floored at min_std.
  void normalize(const float* x, float* out) const;
  std::vector<float> mean() const;
  std::vector<float> stddev() const;  // floored
  // Checkpoint state.
  std::vector<double> state() const;
  bool set_state(const std::vector<double>& s);
  static constexpr double kMinStd = 1e-2;

 private:
  std::vector<double> mean_, m2_;
  double count_ = 0;
};

}  // namespace prescale::rl
