// The learned policies: what the networks see, what their outputs mean, and the Policy
// objects that run shipped models (models/*.json) in the arena and the live controller.
//
// Shared with training (src/rl), so a model is trained on exactly the features and the
// action mapping it is later run with.
//
//   rl         hierarchical: the manager (trained by TD3) reads the business context every
//              kManagerPeriod steps and sets the worker's latency weight alpha (cost weight
//              beta = 1 - alpha); the rl-full worker (trained by PPO) acts every step.
//   rl-full    the worker alone at a fixed alpha: executors + shuffle tier/codec + edge signal.
//   rl-shuffle the worker without the edge signal (its inputs are zero).
//   rl-basic   executors only; shuffle fixed to NVMe, no compression; no edge signal.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "policy/policy.h"
#include "policy/rl_model.h"

namespace prescale::policy {

enum class RlVariant { kBasic = 0, kShuffle = 1, kFull = 2 };
inline constexpr int kNumRlVariants = 3;
const char* variant_name(RlVariant v);  // "rl-basic" | "rl-shuffle" | "rl-full"
bool variant_uses_edge(RlVariant v);
bool variant_chooses_storage(RlVariant v);

// ---- Worker ------------------------------------------------------------------------------

inline constexpr int kNumWorkerFeatures = 25;
inline constexpr int kLoadMemorySteps = 48;  // 4 minutes of input rates (recent peak/trough)
const std::array<const char*, kNumWorkerFeatures>& worker_feature_names();

// Executor head: index 0 holds the current target (serving + provisioning; at least
// 0.9 x need); the next
// kHeadroomLevels.size() indices ask for ceil(level x need) executors, where need is the
// executors that carry the current input rate plus a 30 s drain of the backlog at 100% CPU;
// the last kForecastLevels.size() indices ask for ceil(level x forecast need), the executors
// the edge forecast of the rate one cold start ahead calls for (never below need). Learning
// a level (a dynamic target utilisation, like an HPA whose target the agent picks per step)
// instead of an absolute count lets one model serve any load range. The fine steps around
// 1.0-1.3 are where cost is won; the forecast levels are how the worker pre-scales, and
// whether and when to trust the signal is learned (variants without the edge see no signal,
// and for them a forecast level is the same level on the current need); hold gives the
// worker hysteresis without a rule.
inline constexpr std::array<float, 12> kHeadroomLevels = {0.8f, 0.9f, 1.0f,  1.05f, 1.1f, 1.15f,
                                                          1.2f, 1.3f, 1.45f, 1.75f, 2.0f, 3.0f};
inline constexpr std::array<float, 4> kForecastLevels = {1.0f, 1.1f, 1.2f, 1.35f};
inline constexpr int kHoldLevel = 0;
inline constexpr int kFirstForecastLevel = 1 + static_cast<int>(kHeadroomLevels.size());
// Keep capacity for the recent peak: ceil(what the highest input rate of the last
// kLoadMemorySteps needs at 100% CPU), never below need. How a worker holds through a
// trough between two peaks a few minutes apart (a compressed day), which level actions
// relative to the trough's need cannot express; whether a trough is such a one or the end
// of a burst is what it learns.
inline constexpr int kPeakLevel = kFirstForecastLevel + static_cast<int>(kForecastLevels.size());
inline constexpr int kExecHead = kPeakLevel + 1;
inline constexpr int kTierHead = core::kNumTiers;
inline constexpr int kCodecHead = core::kNumCompressions;
inline constexpr int kWorkerOutputs = kExecHead + kTierHead + kCodecHead;
inline constexpr double kBacklogDrainS = 30;

struct WorkerAction {
  int level = 5;  // executor head index (see kHeadroomLevels)
  int tier = static_cast<int>(core::Tier::kNvme);
  int codec = static_cast<int>(core::Compression::kNone);
};

// Builds the worker's inputs from observations. Stateful only for the input-rate trend.
class WorkerFeatures {
 public:
  WorkerFeatures(const PolicyEnv& env, bool use_edge) : env_(env), use_edge_(use_edge) {}
  void reset() {
    prev_input_rps_ = -1;
    seen_ = 0;
    recent_peak_rps_ = 0;
  }
  // Writes kNumWorkerFeatures values.
  void build(const core::Observation& obs, double alpha, float* out);
  // The highest input rate of the last kLoadMemorySteps observations (after build()).
  double recent_peak_rps() const { return recent_peak_rps_; }

 private:
  PolicyEnv env_;
  bool use_edge_;
  double prev_input_rps_ = -1;
  std::array<double, kLoadMemorySteps> recent_{};  // ring of the last input rates
  int seen_ = 0;
  double recent_peak_rps_ = 0;
};

// The executors `level` asks for in this observation, clamped to the bounds. use_edge:
// whether forecast levels may use the edge forecast. recent_peak_rps: the recent peak
// input rate (WorkerFeatures::recent_peak_rps) for kPeakLevel.
int worker_target(int level, const core::Observation& obs, const PolicyEnv& env, bool use_edge,
                  double recent_peak_rps = 0);

// Maps an action to a decision for a variant. Variants that do not choose storage keep
// NVMe/none; variants without the edge signal read forecast levels on the current need.
core::Decision worker_decision(const WorkerAction& a, const core::Observation& obs,
                               const PolicyEnv& env, RlVariant variant, double recent_peak_rps = 0);

// The most likely action from the worker's logits.
WorkerAction greedy_action(const float* logits);

// ---- Manager -----------------------------------------------------------------------------

// The business contexts' goals: an SLA-violation target, a spending budget, and what a
// minute of SLA violation is worth to the business (the manager's objective prices it).
struct ContextGoals {
  double sla_violation_target_pct;
  double budget_per_hour;         // $ per hour
  double violation_minute_price;  // $ per minute of SLA violation
};
ContextGoals context_goals(core::BusinessContext context);

inline constexpr int kManagerPeriod = 50;  // steps between manager decisions (250 s)
inline constexpr int kNumManagerFeatures = 8;
const std::array<const char*, kNumManagerFeatures>& manager_feature_names();

// What the manager reads: the context (one-hot, SLA target, budget) and the outcome of the
// last window (violation fraction, mean executors, fraction of steps with a burst signal).
class ManagerFeatures {
 public:
  explicit ManagerFeatures(const PolicyEnv& env) : env_(env) {}
  void reset();
  void observe(const core::Observation& obs);             // every step
  void build(core::BusinessContext context, float* out);  // writes; starts a new window
 private:
  PolicyEnv env_;
  int steps_ = 0, violations_ = 0, signals_ = 0;
  double executors_ = 0;
  float last_[3] = {0, 0, 0};
};

// The manager network's tanh output in [-1, 1] as the worker's latency weight alpha.
inline double alpha_from_output(float y) {
  const double a = 0.5 * (static_cast<double>(y) + 1.0);
  return a < 0 ? 0 : (a > 1 ? 1 : a);
}

// ---- Policies ----------------------------------------------------------------------------

// One trained pair: a worker and, for the hierarchical policy, the manager trained with it.
struct RlMember {
  Model worker;
  std::unique_ptr<Model> manager;  // nullptr: the worker alone at the fixed alpha
};

// An ensemble runs at most this many members (the decision's buffers are fixed arrays).
inline constexpr int kMaxRlMembers = 9;

// Combines the members' decisions for one step: the target is the median of the members'
// targets (the lower of the two middle ones for an even count), and the tier and the codec
// are each the members' plurality choice, a tie going to the choice of the member whose
// target is the median. n >= 1. Exposed for tests.
core::Decision combine_members(const core::Decision* decisions, int n);

class RlPolicy : public Policy {
 public:
  // Worker alone at a fixed alpha (manager == nullptr), or hierarchical.
  RlPolicy(std::string name, const PolicyEnv& env, RlVariant variant, Model worker,
           std::unique_ptr<Model> manager, double fixed_alpha);
  // An ensemble of 1..kMaxRlMembers members trained with different seeds (all hierarchical
  // or all workers alone): each member decides as the single policy would, and
  // combine_members() makes one decision of theirs. Seeds give different weights, and on
  // traffic nobody trained for, different behaviour; the median is what most of them agree
  // on, so one unlucky seed no longer decides what the job gets.
  RlPolicy(std::string name, const PolicyEnv& env, RlVariant variant, std::vector<RlMember> members,
           double fixed_alpha);

  std::string_view name() const override { return name_; }
  void reset() override;
  core::Decision decide(const core::Observation& obs) override;

  double alpha() const;  // the weight in force (the members' mean)
  int members() const { return static_cast<int>(members_.size()); }

 private:
  std::string name_;
  PolicyEnv env_;
  RlVariant variant_;
  std::vector<RlMember> members_;
  double fixed_alpha_;
  std::array<double, kMaxRlMembers> alpha_{};
  std::array<core::Decision, kMaxRlMembers> decisions_{};
  WorkerFeatures features_;
  ManagerFeatures manager_features_;
  std::array<float, kNumWorkerFeatures> x_{};
  std::array<float, kNumManagerFeatures> mx_{};
};

// Where shipped models live: models/ of the source tree.
std::string default_models_dir();

// Loads a worker model and checks it fits this build's features and heads.
core::Result<Model> load_worker(const std::string& path, RlVariant variant);
core::Result<Model> load_manager(const std::string& path);

// The members of a models directory: the directory itself when it holds
// worker-<variant>.json, else its subdirectories named member-* (sorted by name), each
// holding a worker (and manager.json when hierarchical). At most kMaxRlMembers.
core::Result<std::vector<RlMember>> load_members(const std::string& dir, RlVariant variant,
                                                 bool hierarchical);

}  // namespace prescale::policy
