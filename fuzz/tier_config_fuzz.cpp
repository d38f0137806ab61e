// libFuzzer target: the tier server's configuration (`prescale tier serve --config`).
// Relative paths resolve against a directory that does not exist; nothing is opened.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tier/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)prescale::tier::parse_tier_config(text, "/nonexistent/fuzz/tier.yaml");
  return 0;
}
