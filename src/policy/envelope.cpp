#include "policy/envelope.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "sim/step_model.h"

namespace prescale::policy {
namespace {

// Below this CPU utilisation the measured rate per executor is too noisy to trust.
constexpr double kMinMeasuredUtil = 0.2;

double min_window_s(const PolicyEnv& env, const EnvelopeConfig& c) {
  return c.stabilisation_s >= 0 ? c.stabilisation_s : c.window_cold_starts * env.cold_start_s;
}

HpaBehaviorConfig window_config(const PolicyEnv& env, double window_s) {
  HpaBehaviorConfig b;
  b.scale_up.stabilization_window_s = 0;
  b.scale_up.policies.clear();  // no rate limits: the envelope only stabilises
  b.scale_down.stabilization_window_s = window_s;
  b.scale_down.policies.clear();
  b.min_replicas = env.min_executors;
  b.max_replicas = env.max_executors;
  b.sync_period_s = env.step_s > 0 ? env.step_s : 1;
  return b;
}

}  // namespace

EnvelopeConfig read_envelope(core::ParamTable& params, bool enabled_by_default,
                             core::BusinessContext context, bool forecast_by_default) {
  EnvelopeConfig c;
  c.window_cold_starts = default_window_cold_starts(context);
  c.enabled = params.get_bool("guard", enabled_by_default);
  c.utilisation = params.get_double("guard_utilisation", c.utilisation, 0.05, 1.0);
  c.drain_s = params.get_double("guard_drain_s", c.drain_s, 1, 86400);
  c.stabilisation_s = params.get_double("guard_stabilisation_s", c.stabilisation_s, -1, 3600);
  c.stabilisation_max_s =
      params.get_double("guard_stabilisation_max_s", c.stabilisation_max_s, 0, 3600);
  c.dwell_s = params.get_double("guard_dwell_s", c.dwell_s, 0, 3600);
  const std::string rule =
      params.get_choice("guard_floor", "rate", {"rate", "hpa", "min", "quantile"});
  c.floor_rule = rule == "hpa"        ? EnvelopeConfig::FloorRule::kHpa
                 : rule == "min"      ? EnvelopeConfig::FloorRule::kMin
                 : rule == "quantile" ? EnvelopeConfig::FloorRule::kQuantile
                                      : EnvelopeConfig::FloorRule::kRate;
  c.floor_quantile = params.get_double("guard_floor_quantile", c.floor_quantile, 0.5, 1.0);
  c.floor_window_s = params.get_double("guard_floor_window_s", c.floor_window_s, 0, 3600);
  c.forecast = params.get_bool("guard_forecast", forecast_by_default);
  c.forecast_ratio = params.get_double("guard_forecast_ratio", c.forecast_ratio, 1.0, 100.0);
  return c;
}

namespace {

// The records/s to size for: `rate_rps` plus the backlog's drain, over the utilisation.
double sized_rate_rps(double rate_rps, const core::Observation& obs, const EnvelopeConfig& config) {
  const double drain = std::max(0.0, obs.backlog_records) / std::max(config.drain_s, 1e-9);
  return (std::max(0.0, rate_rps) + drain) / config.utilisation;
}

}  // namespace

double floor_rate_rps(const core::Observation& obs, const EnvelopeConfig& config) {
  return sized_rate_rps(obs.input_rps, obs, config);
}

double shuffle_capacity(const PolicyEnv& env, core::Tier tier, core::Compression codec,
                        double latency_budget_ms) {
  const auto i = static_cast<size_t>(static_cast<int>(tier) * core::kNumCompressions +
                                     static_cast<int>(codec));
  const double latency = env.shuffle_latency_ms[i];
  if (latency > 0 && latency > latency_budget_ms) return 0;
  const double cap = env.shuffle_cap_rps[i];
  return cap <= 0 ? std::numeric_limits<double>::infinity() : cap;
}

bool shuffle_carries(const PolicyEnv& env, core::Tier tier, core::Compression codec,
                     double rate_rps, double latency_budget_ms) {
  return shuffle_capacity(env, tier, codec, latency_budget_ms) >= rate_rps;
}

std::optional<std::pair<core::Tier, core::Compression>> carrying_option(const PolicyEnv& env,
                                                                        core::Tier current,
                                                                        double rate_rps,
                                                                        double latency_budget_ms) {
  // The current tier with the lightest codec first (least CPU, no tier move), then Redis,
  // NVMe, S3 (the order of their latency), each from the lightest codec.
  const core::Tier tiers[] = {current, core::Tier::kRedis, core::Tier::kNvme, core::Tier::kS3};
  for (core::Tier t : tiers) {
    for (int c = 0; c < core::kNumCompressions; ++c) {
      const auto codec = static_cast<core::Compression>(c);
      if (shuffle_carries(env, t, codec, rate_rps, latency_budget_ms)) {
        return std::make_pair(t, codec);
      }
    }
  }
  return std::nullopt;
}

std::pair<core::Tier, core::Compression> widest_option(const PolicyEnv& env, core::Tier current,
                                                       double latency_budget_ms) {
  const core::Tier tiers[] = {current, core::Tier::kRedis, core::Tier::kNvme, core::Tier::kS3};
  std::pair<core::Tier, core::Compression> best{current, core::Compression::kNone};
  double best_cap = -1;
  for (core::Tier t : tiers) {
    for (int c = 0; c < core::kNumCompressions; ++c) {
      const auto codec = static_cast<core::Compression>(c);
      const double cap = shuffle_capacity(env, t, codec, latency_budget_ms);
      if (cap > best_cap) {
        best_cap = cap;
        best = {t, codec};
      }
    }
  }
  return best;
}

namespace {

// The records/s one executor sustains: the configured capacity, or DS2's true processing rate
// (records per executor-second of busy CPU) when the executors were busy enough to measure it,
// never above the configured capacity.
double rate_per_executor(const core::Observation& obs, const PolicyEnv& env) {
  double per_executor = env.executor_capacity_rps > 0 ? env.executor_capacity_rps : 1.0;
  if (obs.active_executors > 0 && obs.cpu_util >= kMinMeasuredUtil && obs.processed_rps > 0) {
    const double measured = obs.processed_rps / (obs.active_executors * obs.cpu_util);
    per_executor = std::clamp(measured, 0.25 * per_executor, per_executor);
  }
  return per_executor;
}

int executors_for(double rate_rps, const core::Observation& obs, const PolicyEnv& env) {
  const double need = rate_rps / rate_per_executor(obs, env);
  return clamp_executors(static_cast<int>(std::min(std::ceil(need - 1e-9), 1e6)), env);
}

}  // namespace

int reactive_floor(const core::Observation& obs, const PolicyEnv& env,
                   const EnvelopeConfig& config) {
  return executors_for(floor_rate_rps(obs, config), obs, env);
}

int forecast_floor(const core::Observation& obs, const PolicyEnv& env,
                   const EnvelopeConfig& config) {
  if (!obs.burst_signal || !(obs.forecast_rps > 0) ||
      obs.forecast_rps < config.forecast_ratio * std::max(obs.input_rps, 0.0))
    return clamp_executors(env.min_executors, env);
  return executors_for(sized_rate_rps(std::max(obs.input_rps, obs.forecast_rps), obs, config), obs,
                       env);
}

Envelope::Envelope(const PolicyEnv& env, const EnvelopeConfig& config)
    : env_(env),
      config_(config),
      min_window_s_(min_window_s(env, config)),
      max_window_s_(std::max(min_window_s_, config.stabilisation_max_s)),
      window_(window_config(env, min_window_s_)),
      need_window_(window_config(env, max_window_s_)) {
  if (config_.floor_rule == EnvelopeConfig::FloorRule::kHpa ||
      config_.floor_rule == EnvelopeConfig::FloorRule::kMin) {
    core::ParamTable defaults("guard_floor");
    hpa_.emplace(env, defaults);
  }
  left_at_.assign(static_cast<size_t>(std::clamp(env.max_executors, 0, 1000000)) + 1, 0.0);
  if (config_.floor_rule == EnvelopeConfig::FloorRule::kQuantile) {
    // One need per step over the window (at least this step's); bounded, whatever the step.
    const double step_s = env.step_s > 0 ? env.step_s : 1;
    const double steps = std::ceil(config_.floor_window_s / step_s - 1e-9);
    const auto n = static_cast<size_t>(std::clamp(steps, 1.0, 100000.0));
    needs_.assign(n, 0);
    scratch_.assign(n, 0);
  }
  reset();
}

void Envelope::reset() {
  if (hpa_) hpa_->reset();
  needs_seen_ = 0;
  window_.reset();
  need_window_.reset();
  started_ = false;
  last_target_ = 0;
  window_s_ = min_window_s_;
  release_s_ = 0;
  release_from_ = 0;
  release_to_ = 0;
  std::fill(left_at_.begin(), left_at_.end(), 0.0);
  release_window_s_ = 0;
  regretted_ = false;
  regrets_ = 0;
  tier_ = env_.default_tier;
  codec_ = core::Compression::kNone;
  tier_since_s_ = codec_since_s_ = 0;
}

core::Decision Envelope::apply(const core::Observation& obs, const core::Decision& wanted) {
  if (!started_) {
    started_ = true;
    last_target_ = obs.total_executors();
    window_.record_initial_recommendation(obs.time_s, last_target_);
    need_window_.record_initial_recommendation(obs.time_s, last_target_);
    tier_ = obs.tier;
    codec_ = obs.compression;
    // The first switch may come at once: the start counts as long ago.
    tier_since_s_ = codec_since_s_ = obs.time_s - config_.dwell_s;
  }
  // The shadow HPA sees every step, as the HPA a user runs beside the job would (it skips a
  // sync whose metrics failed by itself).
  const int hpa_target = hpa_ && config_.enabled ? hpa_->decide(obs).target_executors : 0;
  core::Decision d = wanted;
  if (!config_.enabled || !obs.metrics_available) {
    // Without metrics the floor has nothing to size from: the policy's hold stands.
    last_target_ = d.target_executors;
    tier_ = d.tier;
    codec_ = d.compression;
    return d;
  }
  const int planned = clamp_executors(wanted.target_executors, env_);
  int floor = planned;
  if (config_.floor) {
    const int rate = reactive_floor(obs, env_, config_);
    const int hpa = hpa_ ? hpa_target : rate;
    switch (config_.floor_rule) {
      case EnvelopeConfig::FloorRule::kHpa:
        floor = hpa;
        break;
      case EnvelopeConfig::FloorRule::kMin:
        floor = std::min(rate, hpa);
        break;
      case EnvelopeConfig::FloorRule::kQuantile:
        floor = quantile_need(rate);
        break;
      case EnvelopeConfig::FloorRule::kRate:
        floor = rate;
        break;
    }
  }
  // The forecast floor raises the target but not the reactive need the adaptive window holds:
  // a signal that falls is not a load seen to come back.
  const int ahead = config_.floor && config_.forecast ? forecast_floor(obs, env_, config_) : 0;
  const bool by_forecast = ahead > floor && ahead > planned;
  int target = std::max({planned, floor, ahead});
  if (target > planned) d.guards |= core::kGuardFloor;
  const int floored = target;
  // Two windows: the short one (one cold start) holds the floored recommendations, the
  // policy's headroom included; the adaptive one holds the reactive need alone, for as long
  // as the load has been seen to come back (adapt_window). `current` is what was last
  // carried out.
  const int need = config_.floor ? floor : planned;
  const bool regret = adapt_window(obs, need);
  target = window_.stabilize(obs.time_s, last_target_, floored);
  target =
      std::max(target, need_window_.stabilize(obs.time_s, env_.max_executors, need, window_s_));
  if (target > floored) d.guards |= core::kGuardStabilise;
  if (target < last_target_) {
    // A release: judged by what follows (adapt_window).
    release_s_ = obs.time_s;
    if (release_from_ == 0 || regretted_) {
      // A new episode (the last one was judged): from here the window is judged afresh.
      release_from_ = 0;
      release_window_s_ = window_s_;
      regretted_ = false;
    }
    release_from_ = std::max(release_from_, last_target_);
    release_to_ = target;
    for (int k = std::max(target + 1, 0);
         k <= last_target_ && k < static_cast<int>(left_at_.size()); ++k) {
      left_at_[static_cast<size_t>(k)] = obs.time_s;
    }
  }
  d.target_executors = target;
  last_target_ = target;

  // Dwell: one tier switch and one codec switch per dwell_s at most, unless the current
  // option cannot carry the floor's rate and the requested one can (relief goes through).
  // What the shuffle must move: the input and the backlog drain, without the executors'
  // utilisation headroom (a CPU target says nothing about a tier's bandwidth).
  const double rate = floor_rate_rps(obs, config_) * config_.utilisation;
  // The fixed batch latency an option may add: the SLA less one whole trigger interval (a
  // batch busy for all of it; not the trigger x utilisation, which let a lower utilisation
  // admit a slower option).
  const double budget = obs.sla_ms - env_.trigger_s * 1000.0;
  const bool current_carries = shuffle_carries(env_, tier_, codec_, rate, budget);
  bool wanted_carries = shuffle_carries(env_, d.tier, d.compression, rate, budget);
  if (config_.floor && !current_carries && !wanted_carries) {
    // The shuffle floor: neither the current option nor the requested one moves the load,
    // so the envelope picks one that does, as the executor floor adds capacity; when none
    // does, the one that moves the most (staying on a saturated option because nothing
    // carries the whole load would leave the job on the slower one).
    const auto option = carrying_option(env_, tier_, rate, budget);
    const auto pick = option ? *option : widest_option(env_, tier_, budget);
    const double cap = shuffle_capacity(env_, pick.first, pick.second, budget);
    if (option || cap > shuffle_capacity(env_, d.tier, d.compression, budget)) {
      if (pick != std::make_pair(d.tier, d.compression)) d.guards |= core::kGuardShuffle;
      d.tier = pick.first;
      d.compression = pick.second;
      wanted_carries = option.has_value();
    }
  }
  // Relief: away from an option that cannot carry the load, to one that moves more.
  const bool relief = !current_carries && shuffle_capacity(env_, d.tier, d.compression, budget) >
                                              shuffle_capacity(env_, tier_, codec_, budget);
  // A switch pauses the job: one the last step's latency cannot absorb within the SLA waits
  // for a calmer step (unless it relieves a saturated option).
  const double pause = sim::switch_pause(env_.switch_pause_s, env_.state_mb,
                                         env_.tier_bandwidth_mb_s[static_cast<size_t>(tier_)],
                                         env_.tier_bandwidth_mb_s[static_cast<size_t>(d.tier)],
                                         d.tier != tier_, d.compression != codec_);
  const bool calm = obs.latency_ms + 1000.0 * pause <= obs.sla_ms;
  if ((d.tier != tier_ || d.compression != codec_) && current_carries && !wanted_carries) {
    // Never switch to a shuffle option that cannot move the load the current one moves.
    d.tier = tier_;
    d.compression = codec_;
    d.guards |= core::kGuardShuffle;
  }
  // One switch of each kind per dwell_s, in a calm step, unless it is relief.
  auto dwell = [&](auto& want, auto& current, double& since_s) {
    if (want == current) return;
    if (relief || (calm && obs.time_s - since_s + 1e-9 >= config_.dwell_s)) {
      current = want;
      since_s = obs.time_s;
    } else {
      want = current;
      d.guards |= core::kGuardDwell;
    }
  };
  dwell(d.tier, tier_, tier_since_s_);
  dwell(d.compression, codec_, codec_since_s_);
  d.hold_s = static_cast<float>(window_s_);
  d.regret = regret;
  if (d.guards & core::kGuardStabilise) {
    d.reason = "guard: stabilise";
  } else if (d.guards & core::kGuardFloor) {
    d.reason = by_forecast ? "guard: forecast" : "guard: floor";
  } else if (d.guards & core::kGuardShuffle) {
    d.reason = "guard: shuffle";
  } else if (d.guards & core::kGuardDwell) {
    d.reason = "guard: dwell";
  }
  return d;
}

int Envelope::quantile_need(int rate) {
  needs_[needs_seen_ % needs_.size()] = rate;
  ++needs_seen_;
  const size_t n = std::min(needs_seen_, needs_.size());
  std::copy_n(needs_.begin(), n, scratch_.begin());
  // The nearest-rank quantile: the smallest need that at least q of the window's needs are at
  // or below.
  const double rank = std::ceil(config_.floor_quantile * static_cast<double>(n) - 1e-9);
  const auto k = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(n))) - 1;
  const auto nth = scratch_.begin() + static_cast<std::ptrdiff_t>(k);
  std::nth_element(scratch_.begin(), nth, scratch_.begin() + static_cast<std::ptrdiff_t>(n));
  return *nth;
}

bool Envelope::adapt_window(const core::Observation& obs, int need) {
  if (release_from_ == 0 || max_window_s_ <= min_window_s_) return false;
  const double since = obs.time_s - release_s_;
  bool newly_regretted = false;
  if (obs.latency_ms > obs.sla_ms && obs.active_executors < release_from_ && need > release_to_) {
    // Regretted: the SLA broke while fewer executors serve than were released from, and
    // the load came back above what was released to. A window longer by the time since the
    // level the need came back to was left (plus this step) would have held them until now;
    // it grows by the share of the release that came back, so a little noise above the
    // trough lengthens it a little, a returning peak fully.
    const double back = std::min(
        1.0, static_cast<double>(need - release_to_) / std::max(1, release_from_ - release_to_));
    // How long ago the executors that were needed back were released: the level the need
    // reached was left at its own release step (a burst's release and a later small one
    // differ by minutes).
    const int level = std::min(need, release_from_);
    const double left_s = level < static_cast<int>(left_at_.size())
                              ? obs.time_s - left_at_[static_cast<size_t>(level)]
                              : since;
    const double needed_s = release_window_s_ + left_s + obs.step_s;
    if (needed_s <= max_window_s_) {
      window_s_ = std::max(window_s_, release_window_s_ + back * (left_s + obs.step_s));
      newly_regretted = !regretted_;
      regrets_ += newly_regretted ? 1 : 0;
      regretted_ = true;
    }
  }
  if (since >= max_window_s_) {
    // Judged: a release that held halves the window's excess over its minimum.
    if (!regretted_) window_s_ = min_window_s_ + 0.5 * (window_s_ - min_window_s_);
    release_from_ = 0;
    regretted_ = false;
  }
  return newly_regretted;
}

CommandEnvelope::CommandEnvelope(int min_executors, int max_executors, double step_s,
                                 double window_s)
    : min_(min_executors),
      max_(max_executors),
      step_s_(step_s),
      window_s_(window_s),
      stabiliser_(make(min_executors, max_executors, step_s, window_s)) {}

Envelope CommandEnvelope::make(int min_executors, int max_executors, double step_s,
                               double window_s) {
  PolicyEnv env;
  env.min_executors = min_executors;
  env.max_executors = max_executors;
  env.step_s = step_s;
  EnvelopeConfig c;
  c.floor = false;  // the policy decides the level; this stage only holds releases
  c.stabilisation_s = window_s;
  c.stabilisation_max_s = window_s;  // the configured window, as configured
  c.dwell_s = 0;
  return Envelope(env, c);
}

void CommandEnvelope::set_bounds(int min_executors, int max_executors) {
  min_ = min_executors;
  max_ = max_executors;
  stabiliser_ = make(min_, max_, step_s_, window_s_);
}

CommandEnvelope::Outcome CommandEnvelope::apply(const core::Observation& obs,
                                                const core::Decision& d, int current_target,
                                                core::Tier current_tier,
                                                core::Compression current_codec) {
  Outcome out;
  out.decision = d;
  if (!obs.metrics_available) {
    // Fail-safe: without fresh metrics, hold whatever the job was last told.
    out.held = true;
    out.wanted = current_target;
    out.decision.target_executors = current_target;
    out.decision.tier = current_tier;
    out.decision.compression = current_codec;
    return out;
  }
  out.wanted = std::clamp(d.target_executors, min_, max_);
  core::Decision clamped = d;
  clamped.target_executors = out.wanted;
  // Stabilise scale-downs like the HPA: the highest recommendation of the window wins.
  out.decision.target_executors = stabiliser_.apply(obs, clamped).target_executors;
  out.stabilised = out.decision.target_executors != out.wanted;
  return out;
}

GuardedPolicy::GuardedPolicy(std::unique_ptr<Policy> inner, const PolicyEnv& env,
                             const EnvelopeConfig& config)
    : inner_(std::move(inner)), envelope_(env, config) {}

void GuardedPolicy::reset() {
  inner_->reset();
  envelope_.reset();
}

core::Decision GuardedPolicy::decide(const core::Observation& obs) {
  return envelope_.apply(obs, inner_->decide(obs));
}

}  // namespace prescale::policy
