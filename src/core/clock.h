// Wall-clock time as the bus messages and the tier's records carry it.
#pragma once

#include <chrono>
#include <cstdint>

namespace prescale::core {

// Milliseconds since the Unix epoch (system clock: comparable across processes and machines,
// not monotonic; measure durations with std::chrono::steady_clock).
inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace prescale::core
