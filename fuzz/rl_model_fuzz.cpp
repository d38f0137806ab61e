// libFuzzer target: an RL model file (models/*.json, format "prescale-model") through the
// loader the rl policy uses and through `prescale models upgrade`. A model that loads must
// also run: one forward pass, whose output has the promised size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "policy/rl_model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace prescale::policy;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)upgrade_model(text, "fuzz.json");
  auto model = parse_model(text, "fuzz.json");
  if (!model.ok()) return 0;
  const std::vector<float> x(static_cast<std::size_t>(model->net.inputs()), 0.5f);
  const auto& y = model->net.forward(x.data());
  if (y.size() != model->net.outputs()) std::abort();
  return 0;
}
