// libFuzzer target: a keys file (`DEVICE HEXKEY` lines) as the controller and the edge agent
// load it to verify and sign burst signals.
#include <cstddef>
#include <cstdint>
#include <string>

#include "bus/signing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)prescale::bus::KeyRing::parse(text, "fuzz.keys");
  return 0;
}
