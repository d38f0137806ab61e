// FNV-1a 64: the checksum of shipped model files (catches corruption and hand edits; not a
// security measure).
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace prescale::core {

class Fnv1a64 {
 public:
  void add(float f) {
    unsigned char bytes[sizeof(float)];
    std::memcpy(bytes, &f, sizeof f);
    for (unsigned char c : bytes) byte(c);
  }
  // Integers as 8 little-endian bytes, whatever the platform.
  void add_int(std::int64_t v) {
    auto u = static_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) byte(static_cast<unsigned char>(u >> (8 * i)));
  }
  // Length first, so that ("ab", "c") and ("a", "bc") differ.
  void add_text(std::string_view s) {
    add_int(static_cast<std::int64_t>(s.size()));
    for (char c : s) byte(static_cast<unsigned char>(c));
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, h_);
    return buf;
  }

 private:
  void byte(unsigned char c) {
    h_ ^= c;
    h_ *= 1099511628211ULL;
  }
  std::uint64_t h_ = 1469598103934665603ULL;
};

}  // namespace prescale::core
