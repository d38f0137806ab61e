// The dual-plane Kafka client (librdkafka), shared by the edge agent and the live controller.
//
// Two planes that never share a client instance (the project notes' stack.md): the data plane
// (`iot-raw-data`, large batched messages, linger for throughput) and the control plane
// (`iot-metadata`, `iot-metrics`, `iot-control`: small messages, linger.ms=0, Nagle off), so a
// control message never waits in a queue behind data. Every `kafka.*` property the user gives
// passes straight through to rd_kafka_conf_set (TLS, SASL, acks, ... work unchanged); the
// plane defaults below apply only where the user said nothing.
//
// librdkafka types stay out of this header: it is included by the CLI and tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace prescale::bus {

// Properties for rd_kafka_conf_set, e.g. {"bootstrap.servers", "127.0.0.1:9092"}.
using KafkaProps = std::map<std::string, std::string>;

enum class Plane { kData, kControl };
const char* to_string(Plane p);

// `props` with the plane's defaults added where absent: producers are idempotent (retries
// neither reorder nor duplicate); data = linger.ms 5,
// batch.num.messages 10000, compression none; control = linger.ms 0,
// socket.nagle.disable true, fetch.wait.max.ms 10 (consumers), reconnect.backoff.max.ms 1000
// (librdkafka's 10 s would meet a returning broker up to 10 s late), client.id prescale-data
// or prescale-control (a broker quota can name one plane).
// A key "control.KEY" or "data.KEY" sets KEY for that plane only, over the shared value: e.g.
// control.bootstrap.servers=127.0.0.1:9094 puts the control plane on a listener or broker of
// its own (docs/edge.md, "Dual-plane latency"). Admin clients (probe, ensure_topics) use the
// shared values.
KafkaProps with_plane_defaults(const KafkaProps& props, Plane plane, bool consumer);

// Checks one property as librdkafka would set it (rd_kafka_conf_set): unknown names and
// invalid values are errors carrying librdkafka's own message, which names the property but
// never echoes the value (it may be a secret such as sasl.password).
core::Status check_property(const std::string& key, const std::string& value);

// Checks a whole property set: each property, then whether librdkafka can build a client
// from it with the plane defaults (some errors, such as an unreadable ssl.ca.location or a
// SASL mechanism this build lacks, appear only then). No connection is made. A failure is a
// configuration error that retrying cannot cure.
core::Status check_props(const KafkaProps& props);

// Parses `KEY=VALUE` strings (the CLI's repeated --kafka option); errors name the item.
core::Result<KafkaProps> parse_props(const std::vector<std::string>& items);

// Properties read from a file, so that secrets (sasl.password, ssl.key.password, ...) stay
// off command lines and out of shared configuration files: `prescale edge --kafka-file`, the
// controller's `kafka_file:`. librdkafka's own format (as its examples and kcat -F read it):
// one `key=value` a line, spaces and tabs around the key and around the value dropped,
// blank lines and lines starting with `#` ignored. Each property is checked with
// check_property. Errors name FILE:LINE and the key, never a value (a line without `=` is
// not quoted either: it may be a bare password); a key given twice is an error. A file that
// others than its owner may read (a group or other read bit) is still read, with a warning
// logged that names the file and its mode.
struct PropsFile {
  KafkaProps props;
  std::map<std::string, int> line;  // each key's line
};
core::Result<PropsFile> read_props_file(const std::string& path);

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

// Waits until a broker answers a metadata request (readiness probe; never a fixed sleep).
// Returns the number of brokers in the cluster.
core::Result<int> probe(const KafkaProps& props, int timeout_ms);

// Creates the topics that do not exist yet (admin API); existing ones are left alone.
core::Status ensure_topics(const KafkaProps& props, const std::vector<TopicSpec>& topics,
                           int timeout_ms);

// Deletes the topics (admin API); one that does not exist is not an error. For the
// benchmarks' scratch topics, which would otherwise keep gigabytes on a shared broker.
core::Status delete_topics(const KafkaProps& props, const std::vector<std::string>& topics,
                           int timeout_ms);

// The number of partitions of an existing topic (an error if it does not exist).
core::Result<int> partition_count(const KafkaProps& props, const std::string& topic,
                                  int timeout_ms);

// One partition's end offset (high watermark): the offset its next message will get.
core::Result<std::int64_t> end_offset(const KafkaProps& props, const std::string& topic,
                                      int partition, int timeout_ms);

// One producer instance for one plane. send() and poll() may be called from several threads.
class Producer {
 public:
  static core::Result<std::unique_ptr<Producer>> create(const KafkaProps& props, Plane plane);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Enqueues a copy of the payload (partition chosen from the key; empty key = any).
  // When the local queue is full, serves delivery reports and retries until `block_ms`
  // has passed; then fails.
  core::Status send(const std::string& topic, const std::string& key, const std::string& payload,
                    int block_ms = 10'000);
  // Sends one message and waits for its delivery report: the offset the broker wrote it at
  // (an error if it failed or no report came within timeout_ms).
  core::Result<std::int64_t> send_and_wait(const std::string& topic, const std::string& key,
                                           const std::string& payload, int timeout_ms);
  // Serves delivery reports (non-blocking with 0).
  void poll(int timeout_ms);
  // Waits until every enqueued message is delivered or failed.
  core::Status flush(int timeout_ms);
  // One metadata request on this producer's own connections (no new client): the topic's
  // partition count, 0 when the cluster says it does not exist, an error when no broker
  // answered within timeout_ms.
  core::Result<int> partitions(const std::string& topic, int timeout_ms);
  // One partition's end offset (high watermark), asked on this producer's own connections.
  core::Result<std::int64_t> end_offset(const std::string& topic, int partition, int timeout_ms);

  std::uint64_t enqueued() const { return enqueued_.load(); }
  std::uint64_t delivered() const;
  std::uint64_t failed() const;
  std::uint64_t bytes_delivered() const;
  // The last delivery error (empty if none).
  std::string last_error() const;

  struct Counters;  // shared with the delivery-report callback

 private:
  struct Impl;
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::shared_ptr<Counters> counters_;
  std::atomic<std::uint64_t> enqueued_{0};
};

struct Message {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key, payload;
  std::int64_t timestamp_ms = 0;  // the producer's create time
};

// kLast: the last message already in each partition (if any), then everything newer.
enum class StartAt { kEarliest, kLatest, kLast };

// A consumer of whole topics (every partition assigned directly: no group rebalance, so it
// reads within milliseconds of starting). Offsets are not committed: the edge and the
// controller only ever want what arrives while they run (kLatest; the controller's lease
// watcher: kLast) or, in tests, everything (kEarliest).
class Consumer {
 public:
  static core::Result<std::unique_ptr<Consumer>> create(const KafkaProps& props, Plane plane,
                                                        const std::vector<std::string>& topics,
                                                        StartAt start, int timeout_ms = 10'000);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // The next message, or nullopt after timeout_ms without one. Transport errors are
  // returned as errors (the caller decides to retry); end-of-partition is not an error.
  core::Result<std::optional<Message>> poll(int timeout_ms);

 private:
  struct Impl;
  explicit Consumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A member of a consumer group subscribed to one topic, for leader election (the
// controller's lease, control/lease.h): whoever the group assigns a partition owns it.
// Rebalancing is cooperative (partition.assignment.strategy cooperative-sticky): a member
// joining or leaving does not take the partition from a live owner, so a standby starting
// up never interrupts the active controller. The group's heartbeats run on librdkafka's
// thread; assignments and revocations are delivered by poll(). The topic's messages are read
// and dropped (nothing is committed). The destructor leaves the group (the partition moves
// to another member at once, instead of after the session timeout).
class GroupMember {
 public:
  struct Options {
    std::string group;  // group.id
    std::string topic;
    int session_timeout_ms = 6000;     // a dead member is evicted after this
    int heartbeat_interval_ms = 1000;  // < session_timeout_ms / 3
    int max_poll_interval_ms = 30000;  // poll() not called for this long: leave the group
  };
  enum class Event {
    kAssigned,  // partitions added to this member (possibly none: the rebalance completed)
    kRevoked,   // partitions taken away in a rebalance
    kLost,      // partitions lost: no heartbeat reached the group within the session timeout
  };
  struct Change {
    Event event;
    std::vector<int> partitions;
  };

  static core::Result<std::unique_ptr<GroupMember>> create(const KafkaProps& props,
                                                           const Options& options);
  ~GroupMember();
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;

  // Serves the group for up to timeout_ms (returns as soon as a change arrives) and returns
  // the changes since the last call, in order. Transport errors are returned as errors.
  core::Result<std::vector<Change>> poll(int timeout_ms);

  struct Impl;

 private:
  explicit GroupMember(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescale::bus
