// FNV-1a 64: the checksum of shipped model files (catches corruption and hand edits; not a
// security measure).
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace prescale::core {

class Fnv1a64 {
 public:
  void add(float f) {
    unsigned char bytes[sizeof(float)];
    std::memcpy(bytes, &f, sizeof f);
    for (unsigned char c : bytes) {
      h_ ^= c;
      h_ *= 1099511628211ULL;
    }
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, h_);
    return buf;
  }

 private:
  std::uint64_t h_ = 1469598103934665603ULL;
};

}  // namespace prescale::core
