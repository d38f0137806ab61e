// One controller per job (docs/controller.md, "One controller per job"): a lease and an
// epoch.
//
// Lease. Every controller of a job joins one Kafka consumer group (lease.group, default
// `prescale-controller.<control topic>`) subscribed to a one-partition lease topic
// (lease.topic, default `<control topic>-lease`). The member the group assigns the partition
// is active; the others are standbys. A dead member is evicted after the session timeout
// (6 s by default), so a standby takes over within ~7 s plus a tick; a controller that stops
// leaves the group and is replaced at once.
//
// Epoch. On taking the lease the controller writes one LeaseRecord to the lease topic and
// takes base + its offset + 1 as its epoch (bus::lease_epoch; offsets on one partition only
// grow, so a later holder always has a larger epoch, with no clock involved; + 1 so that 0
// stays "no lease"). Every scale_to carries it; the plugin applies only the newest epoch
// (ScaleGate.java). A claim copies `base` from the newest record it has seen, so within one
// lease topic every record has the same base and epochs follow the offsets.
//
// A recreated lease topic (deleted by an operator, lost with its broker's disk) restarts its
// offsets at 0, and its epochs would fall below those the plugin already applies: the new
// holder would be ignored for good. So a controller remembers the newest epoch it has
// evidence of (lease records, commands on the control topic, and the epoch the plugin says
// it applies, Progress::lease_epoch), and
//   - a claim whose epoch would not be above it is written again with base = that epoch
//     (one more record: its epoch is then above everything known);
//   - a holder that the plugin keeps ignoring (the job applies a higher epoch, and no lease
//     record names a holder of it) for reclaim_after_ms claims again the same way. The wait
//     lets a real newer holder's record arrive first, so two holders never outbid each other.
//
// Stop at once: a revoked or lost partition, or a newer holder's record on the lease topic,
// makes the controller a standby before its next command. Two holders at once (a paused
// process that has not yet noticed its eviction) are harmless: the plugin ignores the
// older epoch.
//
// The state machine (Lease) is pure; the Kafka side is behind LeaseLink (a fake in tests).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bus/kafka.h"
#include "bus/messages.h"
#include "core/result.h"

namespace prescale::control {

struct ControllerConfig;

// The Kafka side of the lease.
class LeaseLink {
 public:
  struct Event {
    enum class Kind {
      kAssigned,        // the group gave this member the lease partition
      kJoined,          // a rebalance completed without giving it to this member
      kRevoked,         // taken away in a rebalance
      kLost,            // lost: the group did not hear from this member within the session timeout
      kRecord,          // a lease record on the lease topic (anyone's, this one's included)
      kTopicRecreated,  // the lease topic was deleted; it exists again, empty (created again by
                        // the link, or by someone else): its offsets restarted
    };
    Kind kind;
    std::int64_t offset = -1;   // kRecord: where it was written
    bus::LeaseRecord record{};  // kRecord
    bool created_here = false;  // kTopicRecreated: by this link (else found recreated)
  };
  virtual ~LeaseLink() = default;
  // What happened within timeout_ms (returns early when something did).
  virtual core::Result<std::vector<Event>> poll(int timeout_ms) = 0;
  // Writes a lease record and returns its offset (from the delivery report).
  virtual core::Result<std::int64_t> publish(const bus::LeaseRecord& record) = 0;
};

// The lease over Kafka (bus::GroupMember + a lease-topic reader from its last record + a
// producer). Creates the lease topic with one partition if it does not exist; a lease topic
// with several partitions is an error (config_error set: the user's to fix).
core::Result<std::unique_ptr<LeaseLink>> make_kafka_lease_link(const ControllerConfig& cfg,
                                                               bool* config_error);

// The newest epoch on a lease topic: its last record's (base + offset + 1; bus::lease_epoch),
// 0 for an empty topic. Not the end offset: on a recreated topic the epochs carry a base.
// For a command sent beside the controllers, e.g. the race's reset between runs, which must
// carry the last holder's epoch for the plugin to apply it.
core::Result<std::int64_t> newest_lease_epoch(const bus::KafkaProps& props,
                                              const std::string& topic, int timeout_ms);

// Who this controller is in lease records: lease.id, else host:pid.
std::string controller_id(const ControllerConfig& cfg);

class Lease {
 public:
  // `self`: this controller's record (controller id, group, policy; ts_ms is stamped on
  // each claim). reclaim_after_ms: how long an active controller waits, while the job applies
  // a higher epoch that no lease record explains, before it claims above it (the daemon
  // passes the session timeout).
  Lease(std::unique_ptr<LeaseLink> link, bus::LeaseRecord self,
        std::int64_t reclaim_after_ms = 6000);

  // Evidence of an epoch from outside the lease topic: a command seen on the control topic,
  // or the epoch the plugin applies (Progress::lease_epoch). 0 is ignored.
  void observe_epoch(std::int64_t epoch, std::int64_t now_ms);
  // The newest epoch this controller has evidence of (0: none).
  std::int64_t known_epoch() const { return known_epoch_; }

  // Serves the link for up to timeout_ms and applies what happened. Returns lines for the
  // log: each role change, and a standby's view of the holder once per holder.
  std::vector<std::string> poll(int timeout_ms, std::int64_t now_ms);

  // Holds the lease with an epoch: may command.
  bool active() const { return assigned_ && epoch_ > 0 && !superseded_; }
  // This controller's epoch while active, else 0.
  std::int64_t epoch() const { return active() ? epoch_ : 0; }
  // A first rebalance has completed (this member knows whether it holds the lease).
  bool joined() const { return joined_; }
  // The newest lease record of this group seen on the lease topic, and its epoch.
  struct Holder {
    bus::LeaseRecord record;
    std::int64_t epoch = 0;
  };
  const std::optional<Holder>& holder() const { return holder_; }
  // One line: "active (epoch 12)", "standby: controller h:7 holds the lease (epoch 11)",
  // "standby: waiting for the lease (no holder seen yet)", "joining the lease group".
  std::string describe() const;

 private:
  void claim(std::int64_t now_ms, std::vector<std::string>* log);
  void check_ignored(std::int64_t now_ms, std::vector<std::string>* log);
  void on_record(std::int64_t offset, const bus::LeaseRecord& r, std::vector<std::string>* log);
  void step_down(const std::string& why, std::vector<std::string>* log);
  void standby_view(std::vector<std::string>* log);

  std::unique_ptr<LeaseLink> link_;
  bus::LeaseRecord self_;
  bool joined_ = false;
  bool assigned_ = false;        // the group says this member holds the partition
  bool superseded_ = false;      // ...but a newer holder's record says otherwise
  std::int64_t epoch_ = 0;       // of the current claim (0: not written yet)
  std::int64_t own_epoch_ = -1;  // of the last claim this controller wrote
  std::int64_t next_claim_ms_ = 0;
  std::string claim_error_;  // the last failed claim's error (logged once per streak)
  std::optional<Holder> holder_;
  std::int64_t standby_logged_ = -1;  // the holder epoch a standby last logged (0: none known)
  std::string last_poll_error_;
  std::int64_t reclaim_after_ms_;
  std::int64_t known_epoch_ = 0;        // the newest epoch evidenced anywhere
  std::int64_t ignored_since_ms_ = -1;  // active, and the job applies a higher epoch since
  bool lift_base_ = false;              // the next claim's base: known_epoch_
};

}  // namespace prescale::control
