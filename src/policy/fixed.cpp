#include "policy/fixed.h"

namespace prescale::policy {

FixedPolicy::FixedPolicy(const PolicyEnv& env, core::ParamTable& params) {
  decision_.target_executors = clamp_executors(params.get_int("executors", 15, 0, 1'000'000), env);
  decision_.tier = read_tier(params, env.default_tier);
  decision_.compression =
      *core::parse_compression(params.get_choice("compression", "none", {"none", "lz4", "zstd"}));
  decision_.reason = "fixed: static allocation";
}

core::Decision FixedPolicy::decide(const core::Observation& /*obs*/) { return decision_; }

}  // namespace prescale::policy
