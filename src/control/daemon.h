// `prescale controller --config FILE`: the Controller (control/controller.h) on the real
// control plane — a Kafka consumer of iot-metadata and iot-metrics, a producer of
// iot-control (one control-plane client each, apart from any data traffic) — plus /metrics
// (Prometheus text) and /healthz on 127.0.0.1 by default.
#pragma once

#include <atomic>

#include "control/controller.h"
#include "core/result.h"

namespace prescale::control {

// Builds the policy and the key ring (errors: the user's to fix). No network.
core::Result<std::unique_ptr<Controller>> make_controller(const ControllerConfig& cfg);

// Runs until `stop`. Kafka unreachable (at start or later): keeps retrying with backoff
// while /healthz says 503 and the job keeps its scale. Returns an error only for what
// cannot be retried (the HTTP port taken).
core::Status run_controller(Controller* c, const std::atomic<bool>& stop);

}  // namespace prescale::control
