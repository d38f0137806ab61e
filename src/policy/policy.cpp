#include "policy/policy.h"

#include <string>

#include "core/params.h"

namespace prescale::policy {

core::Tier read_tier(core::ParamTable& params, core::Tier fallback) {
  const std::string text =
      params.get_choice("tier", std::string(core::to_string(fallback)), {"redis", "nvme", "s3"});
  return core::parse_tier(text).value_or(fallback);
}

}  // namespace prescale::policy
