#include "rl/ppo.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "rl/torch_util.h"

namespace prescale::rl {

struct Ppo::Impl {
  torch::nn::Sequential actor{nullptr};
  torch::nn::Sequential critic{nullptr};
  std::unique_ptr<torch::optim::Adam> opt;
  int outputs = 0;
};

Ppo::Ppo(const PpoConfig& config)
    : cfg_(config), norm_(config.obs_dim), impl_(std::make_unique<Impl>()) {
  torch::manual_seed(cfg_.seed);
  impl_->outputs = std::accumulate(cfg_.heads.begin(), cfg_.heads.end(), 0);
  impl_->actor = make_mlp(cfg_.obs_dim, cfg_.hidden, 2, impl_->outputs, false, 0.01);
  impl_->critic = make_mlp(cfg_.obs_dim, cfg_.hidden, 2, 1, false, 1.0);
  std::vector<torch::Tensor> params = impl_->actor->parameters();
  for (auto& p : impl_->critic->parameters()) params.push_back(p);
  impl_->opt =
      std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(cfg_.lr).eps(1e-5));
}

Ppo::~Ppo() = default;

void Ppo::act(const float* raw_obs, int n, sim::Rng& rng, bool greedy, float* norm_obs,
              int* actions, float* logp, float* values) {
  const int d = cfg_.obs_dim;
  for (int i = 0; i < n; ++i) norm_.normalize(raw_obs + i * d, norm_obs + i * d);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::from_blob(norm_obs, {n, d}, torch::kFloat32);
  torch::Tensor logits = impl_->actor->forward(x).contiguous();
  torch::Tensor v = impl_->critic->forward(x).contiguous();
  const float* lp = logits.data_ptr<float>();
  const float* vp = v.data_ptr<float>();
  const int nh = static_cast<int>(cfg_.heads.size());
  const int outs = impl_->outputs;
  std::vector<double> prob;
  for (int i = 0; i < n; ++i) {
    double total_logp = 0;
    int off = 0;
    for (int h = 0; h < nh; ++h) {
      const int k = cfg_.heads[static_cast<size_t>(h)];
      const float* l = lp + i * outs + off;
      const float mx = *std::max_element(l, l + k);
      prob.assign(static_cast<size_t>(k), 0.0);
      double z = 0;
      for (int j = 0; j < k; ++j)
        z += prob[static_cast<size_t>(j)] = std::exp(static_cast<double>(l[j] - mx));
      int pick = 0;
      if (greedy) {
        pick = static_cast<int>(std::max_element(l, l + k) - l);
      } else {
        double u = rng.uniform() * z;
        pick = k - 1;
        for (int j = 0; j < k; ++j) {
          u -= prob[static_cast<size_t>(j)];
          if (u < 0) {
            pick = j;
            break;
          }
        }
      }
      actions[i * nh + h] = pick;
      total_logp += std::log(prob[static_cast<size_t>(pick)] / z);
      off += k;
    }
    logp[i] = static_cast<float>(total_logp);
    values[i] = vp[i];
  }
}

void Ppo::values(const float* raw_obs, int n, float* out) {
  const int d = cfg_.obs_dim;
  std::vector<float> x(static_cast<size_t>(n) * d);
  for (int i = 0; i < n; ++i) norm_.normalize(raw_obs + i * d, x.data() + i * d);
  torch::NoGradGuard no_grad;
  torch::Tensor v =
      impl_->critic->forward(torch::from_blob(x.data(), {n, d}, torch::kFloat32)).contiguous();
  std::copy_n(v.data_ptr<float>(), n, out);
}

PpoStats Ppo::update(const PpoBatch& b, sim::Rng& rng) {
  const int d = cfg_.obs_dim;
  const int nh = static_cast<int>(cfg_.heads.size());
  torch::Tensor obs = torch::from_blob(const_cast<float*>(b.obs.data()), {b.n, d}, torch::kFloat32);
  torch::Tensor act = torch::from_blob(const_cast<int*>(b.actions.data()), {b.n, nh}, torch::kInt32)
                          .to(torch::kInt64);
  torch::Tensor old_logp =
      torch::from_blob(const_cast<float*>(b.logp.data()), {b.n}, torch::kFloat32);
  torch::Tensor adv = torch::from_blob(const_cast<float*>(b.adv.data()), {b.n}, torch::kFloat32);
  torch::Tensor ret = torch::from_blob(const_cast<float*>(b.ret.data()), {b.n}, torch::kFloat32);

  PpoStats stats;
  int updates = 0;
  std::vector<int64_t> order(static_cast<size_t>(b.n));
  std::iota(order.begin(), order.end(), 0);
  const int mb = std::min(cfg_.minibatch, b.n);
  for (int epoch = 0; epoch < cfg_.epochs; ++epoch) {
    // Fisher-Yates with our own generator: same seed, same minibatches.
    for (size_t i = order.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(rng.uniform() * static_cast<double>(i)) % i;
      std::swap(order[i - 1], order[j]);
    }
    for (int start = 0; start + mb <= b.n; start += mb) {
      torch::Tensor idx = torch::from_blob(order.data() + start, {mb}, torch::kInt64);
      torch::Tensor x = obs.index_select(0, idx);
      torch::Tensor a = act.index_select(0, idx);
      torch::Tensor lp_old = old_logp.index_select(0, idx);
      torch::Tensor A = adv.index_select(0, idx);
      A = (A - A.mean()) / (A.std() + 1e-8);
      torch::Tensor R = ret.index_select(0, idx);

      torch::Tensor logits = impl_->actor->forward(x);
      torch::Tensor lp = torch::zeros({mb});
      torch::Tensor ent = torch::zeros({mb});
      int off = 0;
      for (int h = 0; h < nh; ++h) {
        const int k = cfg_.heads[static_cast<size_t>(h)];
        torch::Tensor ls = torch::log_softmax(logits.narrow(1, off, k), 1);
        lp = lp + ls.gather(1, a.narrow(1, h, 1)).squeeze(1);
        ent = ent - (ls.exp() * ls).sum(1);
        off += k;
      }
      torch::Tensor ratio = (lp - lp_old).exp();
      torch::Tensor s1 = ratio * A;
      torch::Tensor s2 = torch::clamp(ratio, 1.0 - cfg_.clip, 1.0 + cfg_.clip) * A;
      torch::Tensor policy_loss = -torch::min(s1, s2).mean();
      torch::Tensor v = impl_->critic->forward(x).squeeze(1);
      torch::Tensor value_loss = (v - R).pow(2).mean();
      torch::Tensor entropy = ent.mean();
      torch::Tensor loss = policy_loss + cfg_.value_coef * value_loss - cfg_.entropy_coef * entropy;
      impl_->opt->zero_grad();
      loss.backward();
      // Clipped separately: the critic's gradient must not crowd out the actor's.
      torch::nn::utils::clip_grad_norm_(impl_->actor->parameters(), cfg_.max_grad_norm);
      torch::nn::utils::clip_grad_norm_(impl_->critic->parameters(), cfg_.max_grad_norm);
      impl_->opt->step();

      torch::NoGradGuard no_grad;
      stats.policy_loss += policy_loss.item<double>();
      stats.value_loss += value_loss.item<double>();
      stats.entropy += entropy.item<double>();
      stats.approx_kl += (lp_old - lp).mean().item<double>();
      stats.clip_frac +=
          ((ratio - 1.0).abs() > cfg_.clip).to(torch::kFloat32).mean().item<double>();
      ++updates;
    }
  }
  if (updates > 0) {
    stats.policy_loss /= updates;
    stats.value_loss /= updates;
    stats.entropy /= updates;
    stats.approx_kl /= updates;
    stats.clip_frac /= updates;
  }
  return stats;
}

void Ppo::set_learning_rate(double lr) {
  for (auto& group : impl_->opt->param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

policy::Model Ppo::export_actor(const std::string& variant,
                                const std::vector<std::string>& features,
                                const std::string& training_json) const {
  policy::Model m;
  m.kind = "worker";
  m.variant = variant;
  m.features = features;
  m.heads = cfg_.heads;
  const auto mean = norm_.mean();
  const auto sd = norm_.stddev();
  m.net = policy::Mlp(
      export_layers(impl_->actor, false),
      Eigen::Map<const Eigen::VectorXf>(mean.data(), static_cast<Eigen::Index>(mean.size())),
      Eigen::Map<const Eigen::VectorXf>(sd.data(), static_cast<Eigen::Index>(sd.size())));
  m.training_json = training_json;
  return m;
}

core::Status Ppo::save_checkpoint(const std::string& path) const {
  torch::serialize::OutputArchive ar;
  torch::serialize::OutputArchive actor, critic, opt;
  impl_->actor->save(actor);
  impl_->critic->save(critic);
  impl_->opt->save(opt);
  ar.write("actor", actor);
  ar.write("critic", critic);
  ar.write("optimizer", opt);
  ar.write("normalizer", to_tensor(norm_.state()));
  ar.write("return_normalizer", to_tensor(ret_norm_.state()));
  ar.write("shape",
           to_tensor({static_cast<double>(cfg_.obs_dim), static_cast<double>(impl_->outputs),
                      static_cast<double>(cfg_.hidden)}));
  return save_archive(ar, path);
}

core::Status Ppo::load_checkpoint(const std::string& path) {
  torch::serialize::InputArchive ar;
  if (auto st = load_archive(ar, path); !st.ok()) return st;
  try {
    std::vector<double> shape;
    const std::vector<double> expected = {static_cast<double>(cfg_.obs_dim),
                                          static_cast<double>(impl_->outputs),
                                          static_cast<double>(cfg_.hidden)};
    if (auto st = check_shape(ar, "shape", expected, 0, path, &shape); !st.ok()) return st;
    torch::serialize::InputArchive actor, critic, opt;
    ar.read("actor", actor);
    ar.read("critic", critic);
    ar.read("optimizer", opt);
    impl_->actor->load(actor);
    impl_->critic->load(critic);
    impl_->opt->load(opt);
    torch::Tensor norm;
    ar.read("normalizer", norm);
    if (!norm_.set_state(to_doubles(norm)))
      return core::Error{path + ": normaliser state has the wrong size"};
    ar.read("return_normalizer", norm);
    if (!ret_norm_.set_state(to_doubles(norm)))
      return core::Error{path + ": return normaliser has the wrong size"};
  } catch (const std::exception& e) {
    return checkpoint_error(path, e);
  }
  return core::Status::Ok();
}

}  // namespace prescale::rl
