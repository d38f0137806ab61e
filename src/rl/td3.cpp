#include "rl/td3.h"

#include "rl/torch_util.h"

namespace prescale::rl {

struct Td3::Impl {
  torch::nn::Sequential actor{nullptr}, actor_t{nullptr};
  torch::nn::Sequential q1{nullptr}, q1_t{nullptr}, q2{nullptr}, q2_t{nullptr};
  std::unique_ptr<torch::optim::Adam> actor_opt, critic_opt;

  static void copy(const torch::nn::Sequential& from, torch::nn::Sequential& to) {
    torch::NoGradGuard g;
    auto src = from->parameters();
    auto dst = to->parameters();
    for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  torch::nn::Sequential* by_name(const std::string& w) {
    if (w == "actor") return &actor;
    if (w == "actor_target") return &actor_t;
    if (w == "critic1") return &q1;
    if (w == "critic1_target") return &q1_t;
    if (w == "critic2") return &q2;
    if (w == "critic2_target") return &q2_t;
    return nullptr;
  }
};

Td3::Td3(const Td3Config& config) : cfg_(config), impl_(std::make_unique<Impl>()) {
  torch::manual_seed(cfg_.seed);
  const int sa = cfg_.obs_dim + cfg_.act_dim;
  impl_->actor = make_mlp(cfg_.obs_dim, cfg_.hidden, 2, cfg_.act_dim, true, 0.1);
  impl_->actor_t = make_mlp(cfg_.obs_dim, cfg_.hidden, 2, cfg_.act_dim, true, 0.1);
  impl_->q1 = make_mlp(sa, cfg_.hidden, 2, 1, false, 1.0);
  impl_->q1_t = make_mlp(sa, cfg_.hidden, 2, 1, false, 1.0);
  impl_->q2 = make_mlp(sa, cfg_.hidden, 2, 1, false, 1.0);
  impl_->q2_t = make_mlp(sa, cfg_.hidden, 2, 1, false, 1.0);
  Impl::copy(impl_->actor, impl_->actor_t);
  Impl::copy(impl_->q1, impl_->q1_t);
  Impl::copy(impl_->q2, impl_->q2_t);
  impl_->actor_opt = std::make_unique<torch::optim::Adam>(impl_->actor->parameters(),
                                                          torch::optim::AdamOptions(cfg_.actor_lr));
  std::vector<torch::Tensor> qp = impl_->q1->parameters();
  for (auto& p : impl_->q2->parameters()) qp.push_back(p);
  impl_->critic_opt =
      std::make_unique<torch::optim::Adam>(qp, torch::optim::AdamOptions(cfg_.critic_lr));
}

Td3::~Td3() = default;

void Td3::act(const float* s, float* a) const {
  torch::NoGradGuard g;
  torch::Tensor x = torch::from_blob(const_cast<float*>(s), {1, cfg_.obs_dim}, torch::kFloat32);
  torch::Tensor y = impl_->actor->forward(x).contiguous();
  std::copy_n(y.data_ptr<float>(), cfg_.act_dim, a);
}

float Td3::q(const float* s, const float* a) const {
  torch::NoGradGuard g;
  torch::Tensor x =
      torch::cat({torch::from_blob(const_cast<float*>(s), {1, cfg_.obs_dim}, torch::kFloat32),
                  torch::from_blob(const_cast<float*>(a), {1, cfg_.act_dim}, torch::kFloat32)},
                 1);
  return torch::min(impl_->q1->forward(x), impl_->q2->forward(x)).item<float>();
}

Td3Stats Td3::update(const ReplayBuffer& buffer, sim::Rng& rng) {
  Td3Stats st;
  if (buffer.size() == 0) return st;
  std::vector<float> s, a, r, s2, d;
  const int n = cfg_.batch;
  buffer.sample(n, rng, &s, &a, &r, &s2, &d);
  const auto f32 = torch::kFloat32;
  torch::Tensor S = torch::from_blob(s.data(), {n, cfg_.obs_dim}, f32);
  torch::Tensor A = torch::from_blob(a.data(), {n, cfg_.act_dim}, f32);
  torch::Tensor R = torch::from_blob(r.data(), {n, 1}, f32);
  torch::Tensor S2 = torch::from_blob(s2.data(), {n, cfg_.obs_dim}, f32);
  torch::Tensor D = torch::from_blob(d.data(), {n, 1}, f32);

  torch::Tensor target;
  {
    torch::NoGradGuard g;
    torch::Tensor noise = (torch::randn({n, cfg_.act_dim}) * cfg_.policy_noise)
                              .clamp(-cfg_.noise_clip, cfg_.noise_clip);
    torch::Tensor a2 = (impl_->actor_t->forward(S2) + noise).clamp(-1.0, 1.0);
    torch::Tensor sa2 = torch::cat({S2, a2}, 1);
    torch::Tensor qmin = torch::min(impl_->q1_t->forward(sa2), impl_->q2_t->forward(sa2));
    target = R + cfg_.gamma * (1.0 - D) * qmin;
  }
  torch::Tensor sa = torch::cat({S, A}, 1);
  torch::Tensor critic_loss = (impl_->q1->forward(sa) - target).pow(2).mean() +
                              (impl_->q2->forward(sa) - target).pow(2).mean();
  impl_->critic_opt->zero_grad();
  critic_loss.backward();
  impl_->critic_opt->step();
  st.critic_loss = critic_loss.item<double>();

  if (++updates_ % cfg_.policy_delay == 0) {
    torch::Tensor actor_loss =
        -impl_->q1->forward(torch::cat({S, impl_->actor->forward(S)}, 1)).mean();
    impl_->actor_opt->zero_grad();
    actor_loss.backward();
    impl_->actor_opt->step();
    st.actor_loss = actor_loss.item<double>();
    st.actor_updated = true;
    soft_update(cfg_.tau);
  }
  return st;
}

void Td3::fit_actor_to_critic(const ReplayBuffer& buffer, sim::Rng& rng, int steps, int grid) {
  if (buffer.size() == 0 || cfg_.act_dim != 1 || grid < 2) return;
  std::vector<float> s, a, r, s2, d;
  const int n = cfg_.batch;
  const torch::Tensor actions = torch::linspace(-1.0, 1.0, grid).reshape({grid, 1});
  for (int it = 0; it < steps; ++it) {
    buffer.sample(n, rng, &s, &a, &r, &s2, &d);
    torch::Tensor S = torch::from_blob(s.data(), {n, cfg_.obs_dim}, torch::kFloat32);
    torch::Tensor best;
    {
      torch::NoGradGuard g;
      // Every state with every grid action: [n * grid, obs + 1].
      torch::Tensor Sg = S.repeat_interleave(grid, 0);
      torch::Tensor Ag = actions.repeat({n, 1});
      torch::Tensor sa = torch::cat({Sg, Ag}, 1);
      torch::Tensor q =
          torch::min(impl_->q1->forward(sa), impl_->q2->forward(sa)).reshape({n, grid});
      best = actions.index_select(0, q.argmax(1)).reshape({n, 1});
    }
    torch::Tensor loss = (impl_->actor->forward(S) - best).pow(2).mean();
    impl_->actor_opt->zero_grad();
    loss.backward();
    impl_->actor_opt->step();
  }
  Impl::copy(impl_->actor, impl_->actor_t);
}

void Td3::soft_update(double tau) {
  torch::NoGradGuard g;
  auto polyak = [tau](torch::nn::Sequential& online, torch::nn::Sequential& tgt) {
    auto src = online->parameters();
    auto dst = tgt->parameters();
    for (size_t i = 0; i < src.size(); ++i) dst[i].mul_(1.0 - tau).add_(src[i], tau);
  };
  polyak(impl_->actor, impl_->actor_t);
  polyak(impl_->q1, impl_->q1_t);
  polyak(impl_->q2, impl_->q2_t);
}

std::vector<float> Td3::parameters(const std::string& which) const {
  std::vector<float> out;
  auto* net = impl_->by_name(which);
  if (!net) return out;
  for (const auto& p : (*net)->parameters()) {
    torch::Tensor c = p.detach().contiguous();
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

policy::Model Td3::export_actor(const std::vector<std::string>& features,
                                const std::string& training_json) const {
  policy::Model m;
  m.kind = "manager";
  m.variant = "manager";
  m.features = features;
  m.heads = {cfg_.act_dim};
  const auto n = static_cast<Eigen::Index>(cfg_.obs_dim);
  m.net = policy::Mlp(export_layers(impl_->actor, true), Eigen::VectorXf::Zero(n),
                      Eigen::VectorXf::Ones(n));
  m.training_json = training_json;
  return m;
}

core::Status Td3::save_checkpoint(const std::string& path) const {
  torch::serialize::OutputArchive ar;
  const char* names[] = {"actor",          "actor_target", "critic1",
                         "critic1_target", "critic2",      "critic2_target"};
  for (const char* n : names) {
    torch::serialize::OutputArchive sub;
    (*impl_->by_name(n))->save(sub);
    ar.write(n, sub);
  }
  torch::serialize::OutputArchive ao, co;
  impl_->actor_opt->save(ao);
  impl_->critic_opt->save(co);
  ar.write("actor_opt", ao);
  ar.write("critic_opt", co);
  ar.write("updates",
           to_tensor({static_cast<double>(updates_), static_cast<double>(cfg_.obs_dim),
                      static_cast<double>(cfg_.act_dim), static_cast<double>(cfg_.hidden)}));
  return save_archive(ar, path);
}

core::Status Td3::load_checkpoint(const std::string& path) {
  torch::serialize::InputArchive ar;
  if (auto st = load_archive(ar, path); !st.ok()) return st;
  try {
    std::vector<double> v;
    const std::vector<double> expected = {static_cast<double>(cfg_.obs_dim),
                                          static_cast<double>(cfg_.act_dim),
                                          static_cast<double>(cfg_.hidden)};
    if (auto st = check_shape(ar, "updates", expected, 1, path, &v); !st.ok()) return st;
    const char* names[] = {"actor",          "actor_target", "critic1",
                           "critic1_target", "critic2",      "critic2_target"};
    for (const char* n : names) {
      torch::serialize::InputArchive sub;
      ar.read(n, sub);
      (*impl_->by_name(n))->load(sub);
    }
    torch::serialize::InputArchive ao, co;
    ar.read("actor_opt", ao);
    ar.read("critic_opt", co);
    impl_->actor_opt->load(ao);
    impl_->critic_opt->load(co);
    updates_ = static_cast<std::int64_t>(v[0]);
  } catch (const std::exception& e) {
    return checkpoint_error(path, e);
  }
  return core::Status::Ok();
}

}  // namespace prescale::rl
