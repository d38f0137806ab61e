#include "policy/rl_policy.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

namespace prescale::policy {

namespace {

float clampf(double v, double lo, double hi) { return static_cast<float>(std::clamp(v, lo, hi)); }

int argmax(const float* v, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

}  // namespace

const char* variant_name(RlVariant v) {
  switch (v) {
    case RlVariant::kBasic:
      return "rl-basic";
    case RlVariant::kShuffle:
      return "rl-shuffle";
    case RlVariant::kFull:
      return "rl-full";
  }
  return "rl-full";
}
bool variant_uses_edge(RlVariant v) { return v == RlVariant::kFull; }
bool variant_chooses_storage(RlVariant v) { return v != RlVariant::kBasic; }

const std::array<const char*, kNumWorkerFeatures>& worker_feature_names() {
  static const std::array<const char*, kNumWorkerFeatures> kNames = {
      "load_executors",       // input rps / capacity per executor / max executors
      "input_gb_s",           // input MB/s / 1000
      "log_backlog_steps",    // log1p(backlog / one executor's records per step)
      "active_frac",          // serving / max
      "pending_frac",         // provisioning / max
      "cpu_util",             // [0,1]
      "busy_fraction",        // [0,1]
      "log_latency_vs_sla",   // log(latency / SLA), clipped [-3, 6]
      "violation",            // latency > SLA in the last step
      "log_headroom_total",   // log(alive capacity / input), clipped [-3, 3]
      "log_headroom_active",  // log(serving capacity / input), clipped [-3, 3]
      "log_trend",            // log(input / previous input), clipped [-2, 2]
      "signal",               // edge Burst_Signal (0 without edge)
      "log_forecast_ratio",   // log(forecast / input) while signalled, clipped [-2, 3]
      "signal_confidence",    // [0,1]
      "tier_redis",
      "tier_nvme",
      "tier_s3",
      "codec_none",
      "codec_lz4",
      "codec_zstd",
      "alpha",              // the manager's latency weight (beta = 1 - alpha)
      "log_recent_peak",    // log(max input over the last 4 min / input), clipped [0, 3]
      "log_recent_trough",  // log(min input over the last 4 min / input), clipped [-3, 0]
      "log_cold_start",     // log(cold start / 60 s), clipped [-2, 2]: how far ahead to act
  };
  return kNames;
}

void WorkerFeatures::build(const core::Observation& obs, double alpha, float* out) {
  const double cap = env_.executor_capacity_rps > 0 ? env_.executor_capacity_rps : 1.0;
  const double maxe = std::max(1, env_.max_executors);
  const double in = std::max(obs.input_rps, 1.0);
  const double prev = prev_input_rps_ < 0 ? in : std::max(prev_input_rps_, 1.0);
  prev_input_rps_ = obs.input_rps;
  out[0] = static_cast<float>(obs.input_rps / cap / maxe);
  out[1] = static_cast<float>(obs.input_mb_s / 1000.0);
  out[2] = static_cast<float>(std::log1p(std::max(0.0, obs.backlog_records) / (cap * obs.step_s)));
  out[3] = static_cast<float>(obs.active_executors / maxe);
  out[4] = static_cast<float>(obs.pending_executors / maxe);
  out[5] = static_cast<float>(obs.cpu_util);
  out[6] = static_cast<float>(obs.busy_fraction);
  out[7] = clampf(std::log(std::max(obs.latency_ms, 1.0) / std::max(obs.sla_ms, 1.0)), -3, 6);
  out[8] = obs.latency_ms > obs.sla_ms ? 1.0f : 0.0f;
  out[9] = clampf(std::log(std::max(obs.total_executors(), 0) * cap / in + 1e-3), -3, 3);
  out[10] = clampf(std::log(std::max(obs.active_executors, 0) * cap / in + 1e-3), -3, 3);
  out[11] = clampf(std::log(in / prev), -2, 2);
  const bool sig = use_edge_ && obs.burst_signal;
  out[12] = sig ? 1.0f : 0.0f;
  out[13] = sig ? clampf(std::log(std::max(obs.forecast_rps, 1.0) / in), -2, 3) : 0.0f;
  out[14] = use_edge_ ? static_cast<float>(obs.signal_confidence) : 0.0f;
  for (int i = 0; i < 3; ++i) out[15 + i] = static_cast<int>(obs.tier) == i ? 1.0f : 0.0f;
  for (int i = 0; i < 3; ++i) out[18 + i] = static_cast<int>(obs.compression) == i ? 1.0f : 0.0f;
  out[21] = static_cast<float>(alpha);
  // Memory of the recent load: a trough between two peaks a few minutes apart is not the
  // time to release executors that take a minute to come back.
  recent_[static_cast<size_t>(seen_ % kLoadMemorySteps)] = in;
  ++seen_;
  const int n = std::min(seen_, kLoadMemorySteps);
  double hi = in, lo = in;
  for (int i = 0; i < n; ++i) {
    hi = std::max(hi, recent_[static_cast<size_t>(i)]);
    lo = std::min(lo, recent_[static_cast<size_t>(i)]);
  }
  recent_peak_rps_ = hi;
  out[22] = clampf(std::log(hi / in), 0, 3);
  out[23] = clampf(std::log(lo / in), -3, 0);
  out[24] = clampf(std::log(std::max(env_.cold_start_s, 1.0) / 60.0), -2, 2);
}

int worker_target(int level, const core::Observation& obs, const PolicyEnv& env, bool use_edge,
                  double recent_peak_rps) {
  const double cap = env.executor_capacity_rps > 0 ? env.executor_capacity_rps : 1.0;
  const double need =
      (std::max(0.0, obs.input_rps) + std::max(0.0, obs.backlog_records) / kBacklogDrainS) / cap;
  const int idx = std::clamp(level, 0, kExecHead - 1);
  // Hold keeps the current target, but never below 0.9 x need: holding cannot starve the
  // job (without this floor PPO found "hold while the backlog explodes" as a cheap way out
  // once violations seemed unavoidable).
  if (idx == kHoldLevel) {
    const int floor = static_cast<int>(std::min(std::ceil(0.9 * need - 1e-9), 1e6));
    return clamp_executors(std::max(obs.total_executors(), floor), env);
  }
  double want = 0;
  if (idx == kPeakLevel) {
    want = std::max(need, std::max(0.0, recent_peak_rps) / cap);
  } else if (idx < kFirstForecastLevel) {
    want = need * kHeadroomLevels[static_cast<size_t>(idx - 1)];
  } else {
    const bool forecast = use_edge && obs.burst_signal;
    const double basis = forecast ? std::max(need, std::max(0.0, obs.forecast_rps) / cap) : need;
    want = basis * kForecastLevels[static_cast<size_t>(idx - kFirstForecastLevel)];
  }
  return clamp_executors(static_cast<int>(std::min(std::ceil(want - 1e-9), 1e6)), env);
}

core::Decision worker_decision(const WorkerAction& a, const core::Observation& obs,
                               const PolicyEnv& env, RlVariant variant, double recent_peak_rps) {
  core::Decision d;
  if (!obs.metrics_available) {
    d.target_executors = clamp_executors(obs.total_executors(), env);
    d.tier = obs.tier;
    d.compression = obs.compression;
    d.reason = "metrics unavailable: hold";
    return d;
  }
  d.target_executors =
      worker_target(a.level, obs, env, variant_uses_edge(variant), recent_peak_rps);
  // Executors in their cold start are cancelled only by a real scale-down (below the
  // serving count). This is what makes a pre-scale stick (one decision to scale ahead of a
  // burst is enough) and keeps one hesitant step from throwing away 60 s of provisioning,
  // while a burst's end still releases everything at once.
  if (obs.pending_executors > 0 && d.target_executors >= obs.active_executors) {
    d.target_executors = std::max(d.target_executors, obs.total_executors());
  }
  if (variant_chooses_storage(variant)) {
    d.tier = static_cast<core::Tier>(std::clamp(a.tier, 0, kTierHead - 1));
    d.compression = static_cast<core::Compression>(std::clamp(a.codec, 0, kCodecHead - 1));
  } else {
    d.tier = core::Tier::kNvme;
    d.compression = core::Compression::kNone;
  }
  const int current = obs.total_executors();
  d.reason = d.target_executors > current   ? "rl: scale up"
             : d.target_executors < current ? "rl: scale down"
                                            : "rl: hold";
  return d;
}

WorkerAction greedy_action(const float* logits) {
  WorkerAction a;
  a.level = argmax(logits, kExecHead);
  a.tier = argmax(logits + kExecHead, kTierHead);
  a.codec = argmax(logits + kExecHead + kTierHead, kCodecHead);
  return a;
}

ContextGoals context_goals(core::BusinessContext context) {
  switch (context) {
    case core::BusinessContext::kHealthcare:
      return {2.0, 4.0, 2.0};
    case core::BusinessContext::kBudget:
      return {15.0, 2.2, 0.01};
    case core::BusinessContext::kBalanced:
      break;
  }
  return {5.0, 3.0, 0.05};
}

const std::array<const char*, kNumManagerFeatures>& manager_feature_names() {
  static const std::array<const char*, kNumManagerFeatures> kNames = {
      "ctx_balanced",          "ctx_healthcare",     "ctx_budget",
      "sla_target_frac",       "budget_per_hour_10", "window_violation_frac",
      "window_executors_frac", "window_signal_frac"};
  return kNames;
}

void ManagerFeatures::reset() {
  steps_ = violations_ = signals_ = 0;
  executors_ = 0;
  last_[0] = last_[1] = last_[2] = 0;
}

void ManagerFeatures::observe(const core::Observation& obs) {
  ++steps_;
  violations_ += obs.latency_ms > obs.sla_ms ? 1 : 0;
  signals_ += obs.burst_signal ? 1 : 0;
  executors_ += obs.total_executors();
}

void ManagerFeatures::build(core::BusinessContext context, float* out) {
  const ContextGoals g = context_goals(context);
  out[0] = context == core::BusinessContext::kBalanced ? 1.0f : 0.0f;
  out[1] = context == core::BusinessContext::kHealthcare ? 1.0f : 0.0f;
  out[2] = context == core::BusinessContext::kBudget ? 1.0f : 0.0f;
  out[3] = static_cast<float>(g.sla_violation_target_pct / 100.0);
  out[4] = static_cast<float>(g.budget_per_hour / 10.0);
  if (steps_ > 0) {
    last_[0] = static_cast<float>(violations_) / static_cast<float>(steps_);
    last_[1] = static_cast<float>(executors_ / steps_ / std::max(1, env_.max_executors));
    last_[2] = static_cast<float>(signals_) / static_cast<float>(steps_);
  }
  out[5] = last_[0];
  out[6] = last_[1];
  out[7] = last_[2];
  steps_ = violations_ = signals_ = 0;
  executors_ = 0;
}

core::Decision combine_members(const core::Decision* decisions, int n) {
  n = std::clamp(n, 1, kMaxRlMembers);
  std::array<int, kMaxRlMembers> order{};
  for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  // Insertion sort by target (n <= 9), stable: equal targets keep the members' order.
  for (int i = 1; i < n; ++i) {
    for (int j = i; j > 0 && decisions[order[static_cast<size_t>(j)]].target_executors <
                                 decisions[order[static_cast<size_t>(j - 1)]].target_executors;
         --j)
      std::swap(order[static_cast<size_t>(j)], order[static_cast<size_t>(j - 1)]);
  }
  const core::Decision& median = decisions[order[static_cast<size_t>((n - 1) / 2)]];
  core::Decision d = median;
  std::array<int, core::kNumTiers> tiers{};
  std::array<int, core::kNumCompressions> codecs{};
  for (int i = 0; i < n; ++i) {
    ++tiers[static_cast<size_t>(
        std::clamp(static_cast<int>(decisions[i].tier), 0, core::kNumTiers - 1))];
    ++codecs[static_cast<size_t>(
        std::clamp(static_cast<int>(decisions[i].compression), 0, core::kNumCompressions - 1))];
  }
  // The plurality; a tie keeps the median member's choice.
  auto plurality = [](const auto& votes, int mine) {
    int best = mine;
    for (int i = 0; i < static_cast<int>(votes.size()); ++i)
      if (votes[static_cast<size_t>(i)] > votes[static_cast<size_t>(best)]) best = i;
    return best;
  };
  d.tier = static_cast<core::Tier>(plurality(tiers, static_cast<int>(median.tier)));
  d.compression =
      static_cast<core::Compression>(plurality(codecs, static_cast<int>(median.compression)));
  return d;
}

RlPolicy::RlPolicy(std::string name, const PolicyEnv& env, RlVariant variant, Model worker,
                   std::unique_ptr<Model> manager, double fixed_alpha)
    : RlPolicy(
          std::move(name), env, variant,
          [&] {
            std::vector<RlMember> one(1);
            one[0].worker = std::move(worker);
            one[0].manager = std::move(manager);
            return one;
          }(),
          fixed_alpha) {}

RlPolicy::RlPolicy(std::string name, const PolicyEnv& env, RlVariant variant,
                   std::vector<RlMember> members, double fixed_alpha)
    : name_(std::move(name)),
      env_(env),
      variant_(variant),
      members_(std::move(members)),
      fixed_alpha_(fixed_alpha),
      features_(env, variant_uses_edge(variant)),
      manager_features_(env) {
  if (members_.size() > static_cast<size_t>(kMaxRlMembers)) members_.resize(kMaxRlMembers);
  alpha_.fill(fixed_alpha_);
}

void RlPolicy::reset() {
  alpha_.fill(fixed_alpha_);
  features_.reset();
  manager_features_.reset();
}

double RlPolicy::alpha() const {
  if (members_.empty()) return fixed_alpha_;
  double sum = 0;
  for (size_t i = 0; i < members_.size(); ++i) sum += alpha_[i];
  return sum / static_cast<double>(members_.size());
}

core::Decision RlPolicy::decide(const core::Observation& obs) {
  const int n = static_cast<int>(members_.size());
  if (n == 0) return worker_decision(WorkerAction{}, obs, env_, variant_);
  const bool hierarchical = members_[0].manager != nullptr;
  if (hierarchical) {
    if (obs.step % kManagerPeriod == 0) {
      manager_features_.build(obs.context, mx_.data());
      for (int i = 0; i < n; ++i) {
        const auto& m = members_[static_cast<size_t>(i)].manager;
        if (m) alpha_[static_cast<size_t>(i)] = alpha_from_output(m->net.forward(mx_.data())[0]);
      }
    }
    manager_features_.observe(obs);
  }
  // The features are the same for every member but the latency weight (feature 21).
  features_.build(obs, alpha_[0], x_.data());
  constexpr size_t kAlphaFeature = 21;
  for (int i = 0; i < n; ++i) {
    x_[kAlphaFeature] = static_cast<float>(alpha_[static_cast<size_t>(i)]);
    const Eigen::VectorXf& logits = members_[static_cast<size_t>(i)].worker.net.forward(x_.data());
    decisions_[static_cast<size_t>(i)] = worker_decision(greedy_action(logits.data()), obs, env_,
                                                         variant_, features_.recent_peak_rps());
  }
  if (n == 1) return decisions_[0];
  core::Decision d = combine_members(decisions_.data(), n);
  if (obs.metrics_available) {
    const int current = obs.total_executors();
    d.reason = d.target_executors > current   ? "rl: scale up (ensemble median)"
               : d.target_executors < current ? "rl: scale down (ensemble median)"
                                              : "rl: hold (ensemble median)";
  }
  return d;
}

std::string default_models_dir() { return std::string(PRESCALE_SOURCE_DIR) + "/models"; }

core::Result<Model> load_worker(const std::string& path, RlVariant variant) {
  auto m = load_model(path);
  if (!m.ok()) return m.error();
  if (m->kind != "worker")
    return core::Error{path + ": kind is '" + m->kind + "', expected a worker model"};
  if (m->variant != variant_name(variant)) {
    return core::Error{path + ": model is for '" + m->variant + "', expected '" +
                       variant_name(variant) + "'"};
  }
  const auto& names = worker_feature_names();
  if (m->features.size() != names.size()) {
    return core::Error{path + ": model has " + std::to_string(m->features.size()) +
                       " features, this build computes " + std::to_string(names.size()) +
                       " (retrain with `prescale train`)"};
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (m->features[i] != names[i]) {
      return core::Error{path + ": feature " + std::to_string(i) + " is '" + m->features[i] +
                         "', this build computes '" + names[i] +
                         "' (retrain with `prescale train`)"};
    }
  }
  if (m->heads != std::vector<int>{kExecHead, kTierHead, kCodecHead}) {
    return core::Error{path + ": worker heads do not match this build's actions (" +
                       std::to_string(kExecHead) + "," + std::to_string(kTierHead) + "," +
                       std::to_string(kCodecHead) + ")"};
  }
  return m;
}

core::Result<Model> load_manager(const std::string& path) {
  auto m = load_model(path);
  if (!m.ok()) return m.error();
  if (m->kind != "manager")
    return core::Error{path + ": kind is '" + m->kind + "', expected a manager model"};
  const auto& names = manager_feature_names();
  bool same = m->features.size() == names.size();
  for (size_t i = 0; same && i < names.size(); ++i) same = m->features[i] == names[i];
  if (!same)
    return core::Error{
        path + ": manager features do not match this build (retrain with `prescale train`)"};
  if (m->heads != std::vector<int>{1})
    return core::Error{path + ": a manager has exactly one output"};
  return m;
}

core::Result<std::vector<RlMember>> load_members(const std::string& dir, RlVariant variant,
                                                 bool hierarchical) {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  const std::string own = dir + "/worker-" + variant_name(variant) + ".json";
  std::error_code ec;
  if (fs::exists(own, ec)) {
    dirs.push_back(dir);
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string leaf = it->path().filename().string();
      if (leaf.rfind("member-", 0) == 0 && it->is_directory(ec))
        dirs.push_back(it->path().string());
    }
    std::sort(dirs.begin(), dirs.end());
    if (dirs.empty()) {
      return core::Error{own + ": no such model, and " + dir +
                         " holds no ensemble (subdirectories member-*)"};
    }
    if (dirs.size() > static_cast<size_t>(kMaxRlMembers)) {
      return core::Error{dir + ": " + std::to_string(dirs.size()) + " ensemble members, at most " +
                         std::to_string(kMaxRlMembers)};
    }
  }
  std::vector<RlMember> members;
  for (const std::string& d : dirs) {
    RlMember m;
    auto worker = load_worker(d + "/worker-" + variant_name(variant) + ".json", variant);
    if (!worker.ok()) return worker.error();
    m.worker = std::move(*worker);
    if (hierarchical) {
      auto manager = load_manager(d + "/manager.json");
      if (!manager.ok()) return manager.error();
      m.manager = std::make_unique<Model>(std::move(*manager));
    }
    members.push_back(std::move(m));
  }
  return members;
}

}  // namespace prescale::policy
