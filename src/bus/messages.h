// The control-plane messages of the project notes' design.md ("Messages"; outside this
// repository), as values, with strict JSON encoding and decoding. Shared by the edge agent
// (issue 4) and the live controller (issue 5).
//
// Decoding never trusts its input: unknown version, wrong type tag, missing or mistyped
// field, out-of-range value -> an Error naming the field and what was expected. Nothing is
// acted on before it decodes (and, for signals, verifies: bus/signing.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/types.h"

namespace prescale::bus {

inline constexpr int kVersion = 1;

// Topics (design.md): edge signals, engine progress, scaling commands, raw readings.
inline constexpr const char* kTopicMetadata = "iot-metadata";
inline constexpr const char* kTopicMetrics = "iot-metrics";
inline constexpr const char* kTopicControl = "iot-control";
inline constexpr const char* kTopicRawData = "iot-raw-data";

// A gateway's warning that a burst is coming, signed with the device's key.
struct BurstSignal {
  std::string device;      // gateway id, [A-Za-z0-9._-]{1,64}
  std::uint64_t seq = 0;   // strictly increasing per device (replay protection)
  std::int64_t ts_ms = 0;  // gateway clock, ms since the epoch
  double horizon_s = 60;   // how far ahead the forecast looks, > 0
  double forecast = 0;     // forecast rate at the horizon, records/s, >= 0
  double baseline = 0;     // the gateway's current baseline rate, records/s, >= 0
  bool burst = false;      // the detector's verdict
  double confidence = 0;   // [0, 1]
  std::string sig;         // hex HMAC-SHA256 (64 lowercase hex digits); empty = unsigned
};

// Structured Streaming progress, published by the Spark listener.
struct Progress {
  std::string app;
  std::int64_t ts_ms = 0;
  std::int64_t batch_id = 0;
  double input_rows_per_s = 0;
  double processed_rows_per_s = 0;
  double batch_duration_ms = 0;
  std::int64_t num_input_rows = 0;
  std::int64_t offsets_behind = 0;
  int executors_active = 0;
  // Optional (0 = unknown): the oldest reading's age when its batch finished, i.e. the
  // batch's end minus the minimum event time Spark saw in it — an end-to-end latency.
  double event_latency_ms = 0;
  // Optional, what the job says about itself (absent from older listeners: 0 = unknown).
  // The plugin's bounds (spark.prescale.minExecutors / maxExecutors): it clamps every
  // command into them. Published together; max_executors 0 = not published.
  int min_executors = 0;
  int max_executors = 0;
  // Readings per Kafka message in this batch, as the job counted them (Spark's rows are
  // messages: the gateways batch readings); 0 = not measured (no rows, or a job that does
  // not count them).
  double records_per_message = 0;
  // The lease epoch whose commands the plugin applies now (ScaleGate.java), 0 = none or not
  // published. A controller holding a lower epoch is being ignored (control/lease.h).
  std::int64_t lease_epoch = 0;
};

// The controller's command to the Spark plugin.
struct ScaleTo {
  std::uint64_t seq = 0;  // increasing per controller (the plugin orders by it within an epoch)
  std::int64_t ts_ms = 0;
  int target_executors = 0;
  core::Tier shuffle_tier = core::Tier::kNvme;
  std::string reason;
  // The fencing token of the controller's lease (control/lease.h): its lease record's
  // lease_epoch(), so a newer holder always has a larger one.
  // Optional on the wire: absent = 0, a controller from before leases (or a tool).
  std::int64_t epoch = 0;
};

// A controller's claim of its job's lease, on the one-partition lease topic:
// {"v":1,"type":"lease","controller":"host:1234","group":"prescale-controller.iot-control",
// "policy":"rl","ts_ms":..,"base":0}. Its holder's epoch is base + offset + 1
// (lease_epoch): "base" (optional, absent = 0) lifts the epochs of a recreated lease topic,
// whose offsets restart at 0, above those of the topic it replaced (control/lease.h).
struct LeaseRecord {
  std::string controller;  // host:pid or the configured lease.id, 1-256 characters
  std::string group;       // the lease group (one per job), 1-256 characters
  std::string policy;
  std::int64_t ts_ms = 0;  // the holder's clock when it took the lease (informative only)
  std::int64_t base = 0;   // [0, kMaxLeaseBase]
};
// Bounds base so that base + offset + 1 cannot overflow (and stays exact in a double).
inline constexpr std::int64_t kMaxLeaseBase = std::int64_t{1} << 53;
// The epoch of a lease record written at `offset` on the lease topic.
inline std::int64_t lease_epoch(const LeaseRecord& r, std::int64_t offset) {
  return r.base + offset + 1;
}

// One sensor reading as a device sends it to its gateway (stdin line or MQTT payload):
// {"sensor":"temp-3","ts_ms":1700000000000,"values":[21.5,0.3]} ("v" optional; "ts_ms"
// optional: the gateway stamps readings that lack it).
struct Reading {
  std::string sensor;          // [A-Za-z0-9._:/-]{1,128}
  std::int64_t ts_ms = 0;      // ms since the epoch
  std::vector<double> values;  // 1..kMaxValues finite numbers
};
inline constexpr size_t kMaxValues = 64;

// A batch of readings on the data plane `iot-raw-data`:
// {"v":1,"type":"readings","device":"gw-1","seq":7,"readings":[{"sensor":..,"ts_ms":..,
// "values":[..]},..]}. seq counts the gateway's batches from 0, so a consumer can tell a
// lost batch from a quiet gateway.
struct ReadingBatch {
  std::string device;
  std::uint64_t seq = 0;
  std::vector<Reading> readings;
};

std::string encode(const BurstSignal& m);
std::string encode(const Reading& m);
// Appends the batch's JSON to *out (no intermediate DOM: this is the agent's hot path).
void encode_to(const ReadingBatch& m, std::string* out);
std::string encode(const ReadingBatch& m);
std::string encode(const Progress& m);
std::string encode(const ScaleTo& m);
std::string encode(const LeaseRecord& m);

core::Result<BurstSignal> decode_burst_signal(const std::string& json);
// `default_ts_ms` stamps a reading without ts_ms.
core::Result<Reading> decode_reading(std::string_view json, std::int64_t default_ts_ms);
core::Result<ReadingBatch> decode_reading_batch(const std::string& json);
core::Result<Progress> decode_progress(const std::string& json);
core::Result<ScaleTo> decode_scale_to(const std::string& json);
core::Result<LeaseRecord> decode_lease_record(const std::string& json);

// The "type" tag of a message ("burst_signal", "progress", "scale_to", "lease") after checking the
// version, for consumers of mixed streams.
core::Result<std::string> message_type(const std::string& json);

}  // namespace prescale::bus
