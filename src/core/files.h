// Whole-file writes that never leave a half-written file behind.
#pragma once

#include <string>

#include "core/result.h"

namespace prescale::core {

// Writes `content` to `path` through `path.tmp` + fsync + rename, so a reader sees the
// old file or the new one, never a torn one. On failure the temp file is removed and the
// old file (if any) is untouched.
Status write_file_atomic(const std::string& path, const std::string& content);

// Reads a whole file; the error names the path and the reason.
Result<std::string> read_file(const std::string& path);

// A path written in a configuration file, resolved as every config file here resolves them:
// a relative one names a file beside `config_file`, whatever the current directory. Absolute
// paths and "" are returned unchanged.
std::string resolve_beside(const std::string& config_file, const std::string& path);

}  // namespace prescale::core
