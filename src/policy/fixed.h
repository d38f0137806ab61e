// `fixed`: a static allocation, the seed's first row (15 executors on the warm tier).
#pragma once

#include "core/params.h"
#include "policy/policy.h"

namespace prescale::policy {

class FixedPolicy : public Policy {
 public:
  // Parameters: executors (default 15), tier (default: the scenario's default tier),
  // compression (default none).
  FixedPolicy(const PolicyEnv& env, core::ParamTable& params);
  std::string_view name() const override { return "fixed"; }
  void reset() override {}
  core::Decision decide(const core::Observation& obs) override;

 private:
  core::Decision decision_;
};

}  // namespace prescale::policy
