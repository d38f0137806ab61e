// The commands' one way to report a bad input: "prescale: error: MESSAGE" on stderr and exit
// status 2 (what was wrong and where is the message's job).
#pragma once

#include <iostream>
#include <string>

namespace prescale::cli {

inline constexpr int kBadInput = 2;

inline int fail(const std::string& message) {
  std::cerr << "prescale: error: " << message << "\n";
  return kBadInput;
}

}  // namespace prescale::cli
