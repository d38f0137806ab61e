// libFuzzer target: a scenario file (scenarios/*.yaml) through the loader `prescale check`,
// `tournament` and every other command use. Any input must give a Scenario or an Error:
// no exception, no abort, no sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)prescale::sim::parse_scenario(text, "fuzz.yaml");
  return 0;
}
