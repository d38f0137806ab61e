// libFuzzer target: an LSTM model file (models/forecast/*.json, format "prescale-lstm")
// through the loader the edge agent uses and through `prescale models upgrade`. A model
// that loads must also forecast: a window and a little more of samples, then one forecast.
#include <cstddef>
#include <cstdint>
#include <string>

#include "forecast/lstm.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace prescale::forecast;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)upgrade_lstm(text, "fuzz.json");
  auto model = parse_lstm(text, "fuzz.json");
  if (!model.ok()) return 0;
  const int samples = model->window + 2;  // bounded by kMaxLstmWindow
  LstmForecaster f(std::move(*model));
  for (int i = 0; i < samples; ++i) f.observe(100.0 + (i % 7));
  (void)f.forecast(1);
  return 0;
}
