// libFuzzer target: the live controller's configuration (`prescale controller --config`,
// scenarios/race/controller.yaml), with its kafka.* properties checked by librdkafka.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "control/controller.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)prescale::control::parse_config(text, "fuzz.yaml");
  return 0;
}
