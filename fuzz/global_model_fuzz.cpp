// libFuzzer target: a global forecaster model file (models/forecast/global.json, format
// "prescale-global-forecaster") through the loader the arena, `forecast eval` and the edge
// agent use. A model that loads must also forecast: its whole context of samples, then every
// head once.
#include <cstddef>
#include <cstdint>
#include <string>

#include "forecast/global.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace prescale::forecast;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto model = parse_global(text, "fuzz.json");
  if (!model.ok()) return 0;
  const int samples = model->context() + 2;  // bounded by kMaxGlobalContext and kMaxGlobalSeason
  GlobalForecaster f(std::move(*model));
  for (int i = 0; i < samples; ++i) f.observe(100.0 + (i % 7));
  (void)f.output();
  return 0;
}
