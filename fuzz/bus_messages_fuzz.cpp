// libFuzzer target: the bus messages (src/bus/messages.h) as the controller, the edge agent
// and the Spark side's peers receive them: every decoder on the same bytes. What decodes
// must encode to JSON that decodes again (the encoders and decoders agree).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "bus/messages.h"

namespace {

template <class T, class Decode>
void round_trip(const prescale::core::Result<T>& m, Decode decode) {
  if (m.ok() && !decode(prescale::bus::encode(*m)).ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace prescale::bus;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)message_type(text);
  round_trip(decode_burst_signal(text),
             [](const std::string& j) { return decode_burst_signal(j); });
  round_trip(decode_progress(text), [](const std::string& j) { return decode_progress(j); });
  round_trip(decode_scale_to(text), [](const std::string& j) { return decode_scale_to(j); });
  round_trip(decode_lease_record(text),
             [](const std::string& j) { return decode_lease_record(j); });
  round_trip(decode_reading_batch(text),
             [](const std::string& j) { return decode_reading_batch(j); });
  round_trip(decode_reading(text, 1'700'000'000'000),
             [](const std::string& j) { return decode_reading(j, 0); });
  return 0;
}
