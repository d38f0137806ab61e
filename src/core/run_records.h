// What a live run records about the job, one value per sample (prescale race writes them,
// live::write_records; prescale calibrate and prescale validate read them back): light
// types, so that the readers need not link the live stack (Kafka, httplib).
#pragma once

#include <cstdint>
#include <string>

namespace prescale::core {

struct ExecutorSample {
  double t_s = 0;
  int executors = 0;    // live, per Spark's REST API
  int with_tasks = -1;  // of those, executors that have run a task (-1 = unknown)
};

struct BatchRecord {
  double t_s = 0;  // when the progress arrived
  std::int64_t batch_id = 0;
  double latency_ms = 0, batch_ms = 0, input_rps = 0;
  int executors = 0;
  double rows = 0;                // readings in the batch (its messages x readings per message)
  double backlog = 0;             // readings left in Kafka when it finished (offsets behind)
  bool latency_measured = false;  // latency_ms is the listener's event-time measure
};

struct CommandRecord {
  double t_s = 0;
  int target = 0;
  std::string reason;
};

}  // namespace prescale::core
