#include "policy/registry.h"

#include <cstdlib>
#include <sstream>

#include "policy/batch_ratio.h"
#include "policy/ds2.h"
#include "policy/envelope.h"
#include "policy/fixed.h"
#include "policy/hpa.h"
#include "policy/keda.h"
#include "policy/oracle.h"
#include "policy/phpa.h"
#include "policy/rl_policy.h"
#include "policy/seer.h"
#include "policy/spark_dra.h"
#include "sim/step_model.h"

namespace prescale::policy {

const std::vector<PolicyInfo>& known_policies() {
  static const std::vector<PolicyInfo> kPolicies = {
      {"fixed", "static allocation (the seed's 15 executors, warm tier)"},
      {"hpa", "Kubernetes HPA v2 on CPU (the seed's Dexter)"},
      {"keda", "KEDA Kafka-lag scaler driving an HPA"},
      {"spark-dra", "Spark core dynamic allocation (ExecutorAllocationManager)"},
      {"batch-ratio", "Spark Streaming's batch-time ratio policy (SPARK-12133)"},
      {"ds2", "DS2 / Flink autoscaler, Flink defaults"},
      {"ds2-tuned", "DS2 / Flink autoscaler, catch-up 5 min, restart 2 min"},
      {"phpa", "predictive HPA (linear / Holt-Winters on replica history)"},
      {"seer", "the seed's linear predictive: executors = predicted load * k"},
      {"rl",
       "hierarchical RL: TD3 manager sets the goals, PPO worker scales (edge + shuffle), inside "
       "the safety envelope"},
      {"rl-raw", "the same hierarchical RL without the safety envelope (ablation)"},
      {"rl-basic", "RL worker: executors only, NVMe shuffle, no edge signal (ablation phase 1)"},
      {"rl-shuffle", "RL worker: + shuffle tier and codec choice (ablation phase 2)"},
      {"rl-full", "RL worker: + edge burst signal (ablation phase 3)"},
      {"oracle", "clairvoyant lower bound (exact DP over the whole trace)"},
  };
  return kPolicies;
}

PolicyEnv env_from(const sim::Scenario& s) {
  PolicyEnv env;
  env.min_executors = s.cluster.min_executors;
  env.max_executors = s.cluster.max_executors;
  env.step_s = s.step_s;
  env.cold_start_s = s.cluster.cold_start_s;
  env.trigger_s = s.latency.trigger_s;
  env.cores_per_executor = s.cluster.vcpu_per_executor;
  env.executor_capacity_rps = s.cluster.capacity_rps;
  env.record_bytes = s.record_bytes;
  env.kafka_partitions = s.cluster.kafka_partitions;
  env.records_per_message = s.cluster.records_per_message;
  env.tasks_per_batch = s.cluster.tasks_per_batch;
  env.default_tier = s.default_tier;
  env.switch_pause_s = s.shuffle.switch_pause_s;
  env.state_mb = s.shuffle.state_mb;
  for (int t = 0; t < core::kNumTiers; ++t)
    env.tier_bandwidth_mb_s[static_cast<size_t>(t)] =
        s.shuffle.tiers[static_cast<size_t>(t)].bandwidth_mb_s;
  // The shuffle options' limits, as the simulator computes them (one formula).
  const sim::StepModel model(s);
  for (int t = 0; t < core::kNumTiers; ++t) {
    for (int c = 0; c < core::kNumCompressions; ++c) {
      const auto i = static_cast<size_t>(t * core::kNumCompressions + c);
      const auto tier = static_cast<core::Tier>(t);
      const auto codec = static_cast<core::Compression>(c);
      env.shuffle_cap_rps[i] = model.io_cap_rps(tier, codec);
      env.shuffle_latency_ms[i] = model.fixed_latency_ms(tier, codec);
    }
  }
  return env;
}

namespace {

bool learned(const std::string& name) { return name.rfind("rl", 0) == 0; }

// The worker a learned policy runs: rl, rl-raw and rl-full the full one.
RlVariant rl_variant(const std::string& name) {
  if (name == "rl-basic") return RlVariant::kBasic;
  if (name == "rl-shuffle") return RlVariant::kShuffle;
  return RlVariant::kFull;
}

// The learned policies that read the edge signal: their envelope has the forecast floor.
bool reads_edge(const std::string& name) {
  return learned(name) && variant_uses_edge(rl_variant(name));
}

}  // namespace

EnvelopeConfig envelope_config(const sim::Scenario& scenario, const std::string& name) {
  return envelope_config(scenario, name, scenario.context);
}

EnvelopeConfig envelope_config(const sim::Scenario& scenario, const std::string& name,
                               core::BusinessContext context) {
  if (name == "rl-raw" || name == "oracle") return EnvelopeConfig{.enabled = false};
  core::ParamTable params("policies." + name);
  if (auto it = scenario.policies.find(name); it != scenario.policies.end()) params = it->second;
  // Every learned policy runs inside the envelope it was trained in; baselines only when a
  // scenario says `guard: true`. Unknown keys are make_policy's to report.
  return read_envelope(params, learned(name), context, reads_edge(name));
}

namespace {

// The learned policies load their networks from models/ (or $PRESCALE_MODELS_DIR), or from
// the subdirectory the scenario names (`policies.rl.models: live`: trained on that scenario).
core::Result<std::unique_ptr<Policy>> make_rl_policy(const std::string& name, const PolicyEnv& env,
                                                     core::ParamTable& params) {
  const char* dir_env = std::getenv("PRESCALE_MODELS_DIR");
  const std::string root = dir_env && *dir_env ? dir_env : default_models_dir();
  const std::string sub = params.get_relative_path("models", "");
  const std::string dir = sub.empty() ? root : root + "/" + sub;
  const RlVariant variant = rl_variant(name);
  const bool hierarchical = name == "rl" || name == "rl-raw";
  // Workers alone run at equal weights unless configured; the hierarchical rl lets its
  // manager choose.
  const double alpha = params.get_double("alpha", 0.5, 0.0, 1.0);
  // One trained pair, or an ensemble: member-*/ subdirectories (load_members).
  auto members = load_members(dir, variant, hierarchical);
  if (!members.ok()) return core::Error{"policy " + name + ": " + members.error().message};
  return std::unique_ptr<Policy>(
      std::make_unique<RlPolicy>(name, env, variant, std::move(*members), alpha));
}

}  // namespace

core::Result<std::unique_ptr<Policy>> make_policy(const std::string& name,
                                                  const sim::Scenario& scenario,
                                                  const sim::Workload* workload) {
  const PolicyEnv env = env_from(scenario);
  core::ParamTable params("policies." + name);
  if (auto it = scenario.policies.find(name); it != scenario.policies.end()) params = it->second;
  std::unique_ptr<Policy> p;
  if (name == "fixed") {
    p = std::make_unique<FixedPolicy>(env, params);
  } else if (name == "hpa") {
    p = std::make_unique<HpaPolicy>(env, params);
  } else if (name == "keda") {
    p = std::make_unique<KedaPolicy>(env, params);
  } else if (name == "spark-dra") {
    p = std::make_unique<SparkDraPolicy>(env, params);
  } else if (name == "batch-ratio") {
    p = std::make_unique<BatchRatioPolicy>(env, params);
  } else if (name == "ds2") {
    p = std::make_unique<Ds2Policy>(env, params, /*tuned=*/false);
  } else if (name == "ds2-tuned") {
    p = std::make_unique<Ds2Policy>(env, params, /*tuned=*/true);
  } else if (name == "phpa") {
    p = std::make_unique<PhpaPolicy>(env, params);
  } else if (name == "seer") {
    p = std::make_unique<SeerPolicy>(env, params);
  } else if (name == "rl" || name == "rl-raw" || name == "rl-basic" || name == "rl-shuffle" ||
             name == "rl-full") {
    auto made = make_rl_policy(name, env, params);
    if (!made.ok()) return made.error();
    p = std::move(*made);
  } else if (name == "oracle") {
    auto oracle = std::make_unique<OraclePolicy>(env, params, scenario, workload);
    if (!oracle->status().ok()) return oracle->status().error();
    p = std::move(oracle);
  } else {
    std::string list;
    for (const auto& info : known_policies()) list += (list.empty() ? "" : ", ") + info.name;
    return core::Error{"unknown policy '" + name + "'; expected one of: " + list};
  }
  // The safety envelope: on for the learned policies (rl-raw is the unguarded ablation),
  // off for the baselines unless the scenario sets `guard: true`; never for the oracle.
  if (name != "oracle" && name != "rl-raw") {
    const EnvelopeConfig guard =
        read_envelope(params, learned(name), scenario.context, reads_edge(name));
    if (guard.enabled) p = std::make_unique<GuardedPolicy>(std::move(p), env, guard);
  }
  if (core::Status st = params.finish(); !st.ok()) return st.error();
  return p;
}

core::Status check_policies(const sim::Scenario& scenario, const std::vector<std::string>& names) {
  for (const auto& [name, table] : scenario.policies) {
    bool known = false;
    for (const auto& info : known_policies()) known = known || info.name == name;
    if (!known) {
      const std::string where = !table.origin().empty()        ? table.origin()
                                : scenario.source_file.empty() ? std::string("scenario")
                                                               : scenario.source_file;
      return core::Error{where + ": policies." + name +
                         ": unknown policy; see `prescale policies`"};
    }
  }
  for (const auto& name : names) {
    auto p = make_policy(name, scenario, nullptr);
    if (!p.ok()) return p.error();
  }
  return {};
}

core::Result<std::vector<std::string>> parse_policy_list(const std::string& list) {
  std::vector<std::string> names;
  if (list.empty() || list == "all") {
    for (const auto& info : known_policies()) names.push_back(info.name);
    return names;
  }
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    bool found = false;
    for (const auto& info : known_policies()) found = found || info.name == item;
    if (!found) {
      std::string known;
      for (const auto& info : known_policies()) known += (known.empty() ? "" : ", ") + info.name;
      return core::Error{"--policies: unknown policy '" + item + "'; expected one of: " + known};
    }
    names.push_back(item);
  }
  if (names.empty()) return core::Error{"--policies: empty list; expected e.g. hpa,oracle"};
  return names;
}

}  // namespace prescale::policy
