// One number through a printf format, as a string ("%.0f ms"): for report lines and messages
// (GCC 12 has no std::format). The format must take exactly one double.
#pragma once

#include <cstdio>
#include <string>

namespace prescale::core {

inline std::string fmt(const char* format, double value) {
  char buf[128];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

}  // namespace prescale::core
