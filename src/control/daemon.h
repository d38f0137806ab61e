// `prescale controller --config FILE`: the Controller (control/controller.h) on the real
// control plane — a Kafka consumer of iot-metadata, iot-metrics and iot-control, a producer
// of iot-control (one control-plane client each, apart from any data traffic), the job's
// lease (control/lease.h) — plus /metrics (Prometheus text) and /healthz on 127.0.0.1 by
// default.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "control/controller.h"
#include "core/result.h"

namespace prescale::control {

// Builds the policy and the key ring (errors: the user's to fix). No network.
core::Result<std::unique_ptr<Controller>> make_controller(const ControllerConfig& cfg);

// The daemon's clock: milliseconds since the epoch (empty = the system clock). Every time
// the loop reads (ticks, message arrival, the lease) comes from it.
using Clock = std::function<std::int64_t()>;

// Runs until `stop`: the chores listed in daemon.cpp ("The daemon's chores"). Kafka unreachable (at
// start or later): keeps retrying with backoff while /healthz says 503 and the job keeps its scale.
// Commands only while it holds the job's lease (control/lease.h); a standby decides in the shadow
// and follows the holder. Returns an error only for what cannot be retried; *config_error (when
// given) is set when that is the configuration's to fix (the HTTP port taken, a lease topic of
// several partitions).
core::Status run_controller(Controller* c, const std::atomic<bool>& stop,
                            bool* config_error = nullptr, Clock clock = {});

}  // namespace prescale::control
