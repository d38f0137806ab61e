// The safety envelope: what every guarded policy's decision passes through before it
// reaches the cluster, in the arena and in `prescale controller` alike.
//
// Production predictive scalers never trust their forecast alone: AWS predictive scaling
// runs beside dynamic scaling and the higher capacity wins; the Kubernetes HPA releases only
// to the highest recommendation of a 300 s window. The envelope does the same for any
// policy, the learned one first (docs/policies.md, "The safety envelope"):
//
//   1. reactive floor   target >= ceil((input + backlog / drain_s) / (rate per executor x
//                       utilisation)): what a rate-based reactive rule needs now;
//                       or, with `guard_floor`, what a shadow HPA on the same observations
//                       recommends (hpa), the lower of the two (min), or a quantile of
//                       the rate rule's needs over a window (quantile);
//      forecast floor   with `forecast` (the policies that read the edge signal), while a
//                       gateway signals a burst whose forecast is at least
//                       `forecast_ratio` (2, the ground truth's burst threshold) x the
//                       input: target >= what the same rate rule needs for the forecast
//                       rate (AWS predictive scaling's forecast capacity). The learned
//                       policy may pre-scale earlier or further, never less than the
//                       forecast needs: one trained on the arena's cluster held one
//                       executor against a 4x burst signal on a live job busier than the
//                       arena's (docs/policies.md, "The forecast floor");
//   2. stabilisation    a scale-down goes only to the highest of the (floored) targets
//                       recommended within `stabilisation_s` (HpaBehavior's window;
//                       default: half a cold start, a whole one in the healthcare
//                       context), and never below the highest reactive
//                       need (the floor alone) of an adaptive window: it starts at
//                       stabilisation_s and learns how long the load takes to come back.
//                       A release followed by SLA violations while fewer executors serve
//                       and the need has risen again is "regretted": the window grows to
//                       span it, by the share of the release that came back, up to
//                       `stabilisation_max_s` (HPA's 300 s). A release that holds for
//                       stabilisation_max_s halves the excess. So a day replayed in
//                       minutes (a trough between recurring peaks) is held as an HPA
//                       holds it, while a load that does not come back is released after
//                       the minimum window;
//   3. dwell            the shuffle tier and the codec change at most once per `dwell_s`
//                       each (a switch moves state and slows a batch: docs/model.md), and
//                       only in a step whose latency can absorb the switch's pause within
//                       the SLA,
//                       except a switch away from a shuffle option that cannot carry the
//                       floor's rate to one that can (PolicyEnv::shuffle_cap_rps): the
//                       higher capacity wins, as for executors. And a switch *to* an option
//                       that cannot carry the floor's rate, from one that can, is refused;
//                       when neither the current nor the requested option carries it, the
//                       envelope picks one that does (carrying_option), or when none
//                       does the one that moves the most (widest_option): the shuffle floor
//                       ("guard: shuffle" for both).
//
// Every override is named: the Decision's reason becomes "guard: stabilise", "guard:
// floor" ("guard: forecast" when the forecast floor raised it; both set kGuardFloor),
// "guard: shuffle" or "guard: dwell" (the first that applied, in that order) and
// its `guards` bits (core::kGuard*) say which applied.
//
// Split as policy/hpa.h splits the HPA: `reactive_floor()` is the pure calculation,
// `Envelope` holds the windowed state, `GuardedPolicy` wraps any Policy.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/params.h"
#include "core/types.h"
#include "policy/hpa.h"
#include "policy/policy.h"

namespace prescale::policy {

// The default minimum stabilisation window, in cold starts, for a business context: 1 for
// healthcare (latency first: an idle executor is held a whole cold start, as long as one
// released would take to come back), 0.5 for balanced and budget. Measured in docs/rl.md
// ("Shipped: half a cold start").
constexpr double default_window_cold_starts(core::BusinessContext context) {
  return context == core::BusinessContext::kHealthcare ? 1.0 : 0.5;
}

struct EnvelopeConfig {
  bool enabled = true;
  bool floor = true;  // false: stabilisation and dwell only (the live controller's own stage)
  // The forecast floor (above): on for the policies that read the edge signal. It acts on a
  // forecast of a burst, at least forecast_ratio x the input: a chatty detector's signals
  // over a forecast near the load (the global model's on nyc_taxi, 29% of the steps) would
  // only reshuffle capacity the reactive floor already sizes.
  bool forecast = false;
  double forecast_ratio = 2.0;
  // The floor sizes capacity for the current input rate at this CPU utilisation (the HPA's
  // seed target is 0.8; 0.9 leaves the policy room to be cheaper than an HPA).
  double utilisation = 0.9;
  double drain_s = 60;  // the backlog is drained within this many seconds
  // Scale-down stabilisation window; < 0 = `window_cold_starts` x the cluster's cold start.
  // HPA's default is 300 s; the choice is measured in docs/rl.md ("The safety envelope").
  double stabilisation_s = -1;
  // The default window in cold starts: what the business context makes an idle executor
  // worth holding (read_envelope sets it from the context).
  double window_cold_starts = default_window_cold_starts(core::BusinessContext::kBalanced);
  // The window adapts between stabilisation_s and this (HPA's default, 300 s) to how the
  // load recurs: a release followed by SLA violations that the released executors would
  // have prevented (a "regretted" release) lengthens it to span that trough; a release
  // that goes unregretted for stabilisation_max_s halves the excess. <= stabilisation_s:
  // a fixed window.
  double stabilisation_max_s = 300;
  double dwell_s = 300;  // minimum time between two tier (or two codec) switches
  // What the floor is: "rate" (the rate rule above), "hpa" (the recommendation of an HPA with
  // upstream defaults, run on the same observations), "min" (the lower of the two), or
  // "quantile" (the floor_quantile-quantile of the rate rule's needs over the last
  // floor_window_s, this step's included: a need must hold for more than (1 - q) x window to
  // move it, so a one-step spike of a coarse trace does not).
  enum class FloorRule { kRate, kHpa, kMin, kQuantile };
  FloorRule floor_rule = FloorRule::kRate;
  double floor_quantile = 0.95;
  double floor_window_s = 300;
};

// Reads `guard`, `guard_utilisation`, `guard_drain_s`, `guard_stabilisation_s`,
// `guard_stabilisation_max_s`, `guard_dwell_s`, `guard_floor`, `guard_floor_quantile`,
// `guard_floor_window_s`, `guard_forecast`, `guard_forecast_ratio` from a policy's parameter table
// (policies.<name>.*), with the defaults above; `guard` defaults to `enabled_by_default` (true for
// the learned policies, false for the baselines, which run as their upstreams do unless a scenario
// wraps them), `guard_forecast` to `forecast_by_default` (true for the policies that read the edge
// signal). Bad values are reported by params.finish(). `context` sets the default window
// (default_window_cold_starts).
EnvelopeConfig read_envelope(core::ParamTable& params, bool enabled_by_default = true,
                             core::BusinessContext context = core::BusinessContext::kBalanced,
                             bool forecast_by_default = false);

// The executors a reactive rate-based rule needs for `obs`: the input rate plus a drain of
// the backlog within config.drain_s, at config.utilisation of the rate one executor
// sustains. The rate per executor is measured like DS2's true processing rate (processed
// records per CPU-busy executor-second, which includes the codec's CPU overhead) when the
// executors were busy enough to measure it, else the configured capacity; never above the
// configured capacity. Clamped to [min, max] executors. Pure.
int reactive_floor(const core::Observation& obs, const PolicyEnv& env,
                   const EnvelopeConfig& config);

// The records/s the floor sizes for: input plus the backlog's drain, over the utilisation.
double floor_rate_rps(const core::Observation& obs, const EnvelopeConfig& config);

// The forecast floor: while `obs` carries a burst signal whose forecast is at least
// config.forecast_ratio x the input, the executors the signalled forecast rate (plus the
// backlog's drain) needs at config.utilisation of the rate one
// executor sustains (as reactive_floor measures it); else env.min_executors. Clamped to
// [min, max]. Pure.
int forecast_floor(const core::Observation& obs, const PolicyEnv& env,
                   const EnvelopeConfig& config);

// Whether shuffle option (tier, codec) moves `rate_rps` (unknown capacities: true) within
// `latency_budget_ms` of fixed batch latency (PolicyEnv::shuffle_latency_ms; unknown: true).
bool shuffle_carries(const PolicyEnv& env, core::Tier tier, core::Compression codec,
                     double rate_rps, double latency_budget_ms = 1e300);

// The records/s option (tier, codec) moves within `latency_budget_ms` of fixed batch latency: 0
// when its latency is over the budget, infinity when its capacity is unknown.
double shuffle_capacity(const PolicyEnv& env, core::Tier tier, core::Compression codec,
                        double latency_budget_ms = 1e300);

// The first option that moves `rate_rps`: the current tier with the lightest codec that
// does, else Redis, NVMe, S3 in that order; nullopt when none does.
std::optional<std::pair<core::Tier, core::Compression>> carrying_option(
    const PolicyEnv& env, core::Tier current, double rate_rps, double latency_budget_ms = 1e300);

// The option with the highest capacity within the budget (ties: the order of carrying_option):
// the shuffle floor when no option carries the load.
std::pair<core::Tier, core::Compression> widest_option(const PolicyEnv& env, core::Tier current,
                                                       double latency_budget_ms = 1e300);

// The windowed half: applies the floor, the stabilisation and the dwell to a decision.
// Buffers are sized in the constructor; apply() allocates nothing. Times are the
// observation's time_s (any monotonic clock).
class Envelope {
 public:
  Envelope(const PolicyEnv& env, const EnvelopeConfig& config);

  void reset();

  // The decision to carry out instead of `wanted`. `obs` is what `wanted` was decided on.
  core::Decision apply(const core::Observation& obs, const core::Decision& wanted);

  const EnvelopeConfig& config() const { return config_; }

  // The scale-down window in force now (seconds), and how many releases were regretted.
  double window_s() const { return window_s_; }
  int regrets() const { return regrets_; }

 private:
  // The "quantile" rule: records this step's rate need and returns the quantile of the window.
  int quantile_need(int rate);
  // Judges the pending release on this step; true when it is newly regretted.
  bool adapt_window(const core::Observation& obs, int need);

  PolicyEnv env_;
  EnvelopeConfig config_;
  std::optional<HpaPolicy> hpa_;  // the shadow HPA of the "hpa" and "min" floor rules
  // The "quantile" rule: the rate needs of the last floor_window_s (a ring), and a scratch copy
  // to select in (both sized in the constructor).
  std::vector<int> needs_, scratch_;
  size_t needs_seen_ = 0;
  bool started_ = false;
  int last_target_ = 0;
  double min_window_s_ = 0, max_window_s_ = 0, window_s_ = 0;
  HpaBehavior window_;       // the short window over the floored targets (no rate limits)
  HpaBehavior need_window_;  // the adaptive window over the reactive need
  // The last release (a target below the previous one): when, and from which target.
  double release_s_ = 0;
  int release_from_ = 0;  // 0: no release pending judgement
  int release_to_ = 0;
  // When the target last fell below each level (index: executors; sized in the constructor): a
  // release that went down in several steps is judged, per level, from when that level was left.
  std::vector<double> left_at_;
  double release_window_s_ = 0;  // the window in force at the release
  bool regretted_ = false;
  int regrets_ = 0;
  core::Tier tier_ = core::Tier::kNvme;
  core::Compression codec_ = core::Compression::kNone;
  double tier_since_s_ = 0, codec_since_s_ = 0;  // time of the last switch (or the start)
};

// The live controller's envelope (control/controller.h, the third step of its tick:
// observe -> decide -> envelope -> act), the last stage of an HPA reconcile, around any
// policy's decision:
//   - no fresh metrics (obs.metrics_available false): hold what the job was last told (the
//     HPA skips a reconcile whose metrics failed; the policy decided on stale facts);
//   - else the target within [min, max] executors, and a scale-down only to the highest
//     target recommended within `window_s` (the Envelope's stabilisation with its floor and
//     dwell off: HpaBehavior::stabilize, one implementation for the arena and the live
//     side). The learned policies also carry their full Envelope (policy/registry.cpp).
// The shuffle tier and codec are the policy's (a guarded policy's own Envelope dwells them).
class CommandEnvelope {
 public:
  CommandEnvelope(int min_executors, int max_executors, double step_s, double window_s);

  struct Outcome {
    core::Decision decision;  // what to carry out
    int wanted = 0;           // the policy's target within the bounds
    bool held = false;        // no fresh metrics: the job's current target and tier held
    bool stabilised = false;  // a scale-down held by the window (decision target > wanted)
  };
  // `current_target`, `current_tier`, `current_codec`: what the job was last told.
  // Times are obs.time_s (any monotonic clock).
  Outcome apply(const core::Observation& obs, const core::Decision& d, int current_target,
                core::Tier current_tier, core::Compression current_codec);

  // New bounds (the job's plugin published its own): the window starts afresh.
  void set_bounds(int min_executors, int max_executors);
  int min_executors() const { return min_; }
  int max_executors() const { return max_; }
  double window_s() const { return window_s_; }

 private:
  static Envelope make(int min_executors, int max_executors, double step_s, double window_s);

  int min_, max_;
  double step_s_, window_s_;
  Envelope stabiliser_;
};

// Any policy inside the envelope. name() is the inner policy's.
class GuardedPolicy final : public Policy {
 public:
  GuardedPolicy(std::unique_ptr<Policy> inner, const PolicyEnv& env, const EnvelopeConfig& config);

  std::string_view name() const override { return inner_->name(); }
  void reset() override;
  core::Decision decide(const core::Observation& obs) override;

  const Policy& inner() const { return *inner_; }

 private:
  std::unique_ptr<Policy> inner_;
  Envelope envelope_;
};

}  // namespace prescale::policy
