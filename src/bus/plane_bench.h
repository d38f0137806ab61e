// `prescale bench dualplane`: does a control message wait behind data? Measured on a real
// broker, in one run, two ways:
//   dual   - control through its own producer, topic and consumer (bus/kafka.h planes);
//   single - control through the data producer instance, on the data topic, read by the
//            data consumer (everything shared).
// In both, one thread saturates the data plane with large messages while another sends a
// small control message every `control_interval_ms`; the control latency is produce call ->
// consumed, on one steady clock (one process).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bus/kafka.h"
#include "core/result.h"

namespace prescale::bus {

struct PlaneBenchOptions {
  double seconds = 10;             // per mode
  size_t data_bytes = 256 * 1024;  // per data message
  int control_interval_ms = 20;    // 50 control messages/s
  std::string topic_prefix = "bench-planes";
};

struct LatencyStats {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  size_t sent = 0, received = 0;
};

struct PlaneBenchResult {
  LatencyStats dual, single;
  double dual_data_mb_s = 0, single_data_mb_s = 0;  // data consumed per second
  std::string to_json() const;
};

core::Result<PlaneBenchResult> bench_planes(const KafkaProps& props, const PlaneBenchOptions& o);

// A private single-node Kafka broker for commands that must be self-contained: started with
// scripts/stack/kafka.sh on free loopback ports in a temporary run directory, stopped (and
// the directory removed) by the destructor.
class LocalKafka {
 public:
  static core::Result<std::unique_ptr<LocalKafka>> start(const std::string& source_dir);
  ~LocalKafka();
  LocalKafka(const LocalKafka&) = delete;
  LocalKafka& operator=(const LocalKafka&) = delete;
  std::string brokers() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  LocalKafka() = default;
  std::string script_, run_dir_;
  int port_ = 0, controller_port_ = 0;
  int run(const std::string& verb, const std::string& log) const;
};

}  // namespace prescale::bus
