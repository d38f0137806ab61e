// Shared by the table-driven policy tests: a step of observations with the target each
// decision must ask for, and the loop that checks a sequence of them.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/params.h"
#include "core/types.h"
#include "policy/policy.h"

namespace prescale::policy::test_util {

struct DecisionStep {
  core::Observation obs;
  int expected;  // target_executors of the decision
};

using Params = std::vector<std::pair<std::string, std::string>>;

// A parameter table named `origin` holding `params`.
inline core::ParamTable make_params(const std::string& origin, const Params& params) {
  core::ParamTable table(origin);
  for (const auto& [key, value] : params) table.set(key, value);
  return table;
}

// Feeds the steps in order and checks every decision's target (traced by time).
inline void expect_targets(Policy& policy, const std::vector<DecisionStep>& steps) {
  for (const DecisionStep& s : steps) {
    SCOPED_TRACE(testing::Message() << "t=" << s.obs.time_s);
    EXPECT_EQ(policy.decide(s.obs).target_executors, s.expected);
  }
}

}  // namespace prescale::policy::test_util
