// For tests of code that writes to a FILE* (progress and status lines): an in-memory FILE
// whose text can be read back.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace prescale::core {

struct CaptureFile {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  CaptureFile() = default;
  CaptureFile(const CaptureFile&) = delete;
  CaptureFile& operator=(const CaptureFile&) = delete;
  ~CaptureFile() {
    if (f) std::fclose(f);
    std::free(buf);
  }
  std::string text() {
    std::fflush(f);
    return std::string(buf, size);
  }
};

}  // namespace prescale::core
