// Policy names -> objects. The one place that knows every policy, so the tournament,
// the CLI and (later) the live controller construct them the same way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "policy/envelope.h"
#include "policy/policy.h"
#include "sim/scenario.h"
#include "sim/workload.h"

namespace prescale::policy {

struct PolicyInfo {
  std::string name;
  std::string summary;
};

// Every policy this build knows, in tournament order.
const std::vector<PolicyInfo>& known_policies();

// The static facts a policy may know, taken from the scenario.
PolicyEnv env_from(const sim::Scenario& scenario);

// Builds the named policy with its parameters from scenario.policies[name]. The oracle
// needs the run's workload (clairvoyance); pass nullptr to only validate parameters.
// Errors: unknown name (listing the known ones), bad or unknown parameter (file:line).
core::Result<std::unique_ptr<Policy>> make_policy(const std::string& name,
                                                  const sim::Scenario& scenario,
                                                  const sim::Workload* workload);

// The safety envelope a learned policy runs in (and trains in): the guard_* parameters of
// scenario.policies[name] over the documented defaults (policy/envelope.h). `rl-raw` and
// `guard: false` give a disabled envelope. The default window is `context`'s (the scenario's
// unless given: training runs the manager in each context on one scenario).
EnvelopeConfig envelope_config(const sim::Scenario& scenario, const std::string& name);
EnvelopeConfig envelope_config(const sim::Scenario& scenario, const std::string& name,
                               core::BusinessContext context);

// Parses "a,b,c" (or "all") into known names; error names the first unknown one.
// A scenario's policies checked before anything runs: no parameter table for a policy nobody
// knows (a typo: the table's file:line), and each of `names` built with its parameters
// (make_policy's errors). `prescale check` checks every known policy, the tournament those it
// runs.
core::Status check_policies(const sim::Scenario& scenario, const std::vector<std::string>& names);

core::Result<std::vector<std::string>> parse_policy_list(const std::string& list);

}  // namespace prescale::policy
