// Small network helpers shared by the modules that start local servers.
#pragma once

#include "core/result.h"

namespace prescale::core {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed): for a
// local server started next. Another process may take it in between; callers that start a
// server on it retry or report that.
Result<int> free_loopback_port();

}  // namespace prescale::core
