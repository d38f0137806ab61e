#include "control/lease.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "control/controller.h"

namespace prescale::control {

// ---------------------------------------------------------------------------------------
// The state machine

Lease::Lease(std::unique_ptr<LeaseLink> link, bus::LeaseRecord self, std::int64_t reclaim_after_ms)
    : link_(std::move(link)), self_(std::move(self)), reclaim_after_ms_(reclaim_after_ms) {}

void Lease::observe_epoch(std::int64_t epoch, std::int64_t now_ms) {
  if (epoch <= 0) return;
  known_epoch_ = std::max(known_epoch_, epoch);
  // Ignored by the job: it applies a higher epoch than ours, and no record names its holder
  // (a real newer holder's record makes this controller a standby in on_record instead).
  if (active() && epoch > epoch_ && !(holder_ && holder_->epoch >= epoch) && ignored_since_ms_ < 0)
    ignored_since_ms_ = now_ms;
}

std::vector<std::string> Lease::poll(int timeout_ms, std::int64_t now_ms) {
  std::vector<std::string> log;
  auto events = link_->poll(timeout_ms);
  if (!events.ok()) {
    // A broker outage repeats the same error every poll: once per distinct message.
    if (events.error().message != last_poll_error_)
      log.push_back("lease: " + events.error().message + " (retrying)");
    last_poll_error_ = events.error().message;
  } else {
    if (!events->empty()) last_poll_error_.clear();
    using Kind = LeaseLink::Event::Kind;
    for (const auto& e : *events) {
      switch (e.kind) {
        case Kind::kAssigned:
          joined_ = true;
          assigned_ = true;
          superseded_ = false;
          epoch_ = 0;  // a new claim, a new record, a new epoch
          next_claim_ms_ = 0;
          break;
        case Kind::kJoined:
          joined_ = true;
          break;
        case Kind::kRevoked:
        case Kind::kLost:
          joined_ = true;
          if (active())
            step_down(e.kind == Kind::kLost
                          ? "lease lost (the group did not hear from this controller within "
                            "the session timeout)"
                          : "lease revoked (the group gave it to another controller)",
                      &log);
          assigned_ = false;
          superseded_ = false;
          epoch_ = 0;
          break;
        case Kind::kRecord:
          on_record(e.offset, e.record, &log);
          break;
        case Kind::kTopicRecreated: {
          // The holder's record went with the topic: the holder claims again on the new
          // one, above every epoch known (its offsets restart at 0), so standbys see who
          // holds it and the plugin sees a newer epoch. A standby waits for that record.
          const std::string what =
              std::string("lease: the lease topic was deleted; ") +
              (e.created_here ? "this controller created it again"
                              : "it exists again, its offsets restarted (created by someone else)");
          if (assigned_ && !superseded_) {
            log.push_back(what + "; claiming the lease on it above epoch " +
                          std::to_string(known_epoch_));
            lift_base_ = true;
            epoch_ = 0;  // claimed again below, in this poll
            next_claim_ms_ = 0;
          } else {
            log.push_back(what + "; waiting for the holder's claim on it");
          }
          break;
        }
      }
    }
  }
  check_ignored(now_ms, &log);
  if (assigned_ && !superseded_ && epoch_ == 0 && now_ms >= next_claim_ms_) claim(now_ms, &log);
  if (joined_ && !active() && !(assigned_ && !superseded_)) standby_view(&log);
  return log;
}

void Lease::check_ignored(std::int64_t now_ms, std::vector<std::string>* log) {
  if (!active() || known_epoch_ <= epoch_ || (holder_ && holder_->epoch > epoch_)) {
    ignored_since_ms_ = -1;
    return;
  }
  if (ignored_since_ms_ < 0 || now_ms - ignored_since_ms_ < reclaim_after_ms_) return;
  log->push_back("lease: the job applies epoch " + std::to_string(known_epoch_) +
                 ", above this controller's " + std::to_string(epoch_) +
                 ", and no lease record names its holder (was the lease topic recreated?); "
                 "claiming above it");
  ignored_since_ms_ = -1;
  lift_base_ = true;
  epoch_ = 0;  // claimed again below, in this poll
  next_claim_ms_ = 0;
}

void Lease::claim(std::int64_t now_ms, std::vector<std::string>* log) {
  bus::LeaseRecord r = self_;
  r.ts_ms = now_ms;
  // The base of the lease topic as far as known: every record of one topic carries the same.
  if (holder_) r.base = holder_->record.base;
  if (lift_base_) r.base = std::min(known_epoch_, bus::kMaxLeaseBase);  // check_ignored()
  auto offset = link_->publish(r);
  if (offset.ok() && bus::lease_epoch(r, *offset) <= known_epoch_) {
    // Offsets restarted (a recreated lease topic), or the base copied is stale: one more
    // record, lifted above every epoch known.
    log->push_back("lease: epoch " + std::to_string(bus::lease_epoch(r, *offset)) +
                   " would not be above " + std::to_string(known_epoch_) +
                   ", the newest known (was the lease topic recreated?); claiming again above it");
    r.base = std::min(known_epoch_, bus::kMaxLeaseBase);
    offset = link_->publish(r);
  }
  if (!offset.ok()) {
    if (offset.error().message != claim_error_)
      log->push_back("lease: assigned, but the lease record could not be written (" +
                     offset.error().message + "); commanding nothing, retrying every second");
    claim_error_ = offset.error().message;
    next_claim_ms_ = now_ms + 1000;
    return;
  }
  claim_error_.clear();
  lift_base_ = false;
  epoch_ = bus::lease_epoch(r, *offset);
  own_epoch_ = epoch_;
  known_epoch_ = std::max(known_epoch_, epoch_);
  std::string after;
  if (holder_ && holder_->epoch < epoch_ && holder_->record.controller != self_.controller)
    after = ", after controller " + holder_->record.controller + " (epoch " +
            std::to_string(holder_->epoch) + ")";
  holder_ = Holder{r, epoch_};
  standby_logged_ = -1;
  log->push_back("active: this controller (" + self_.controller + ") holds the lease (epoch " +
                 std::to_string(epoch_) + after + "); commanding");
}

void Lease::on_record(std::int64_t offset, const bus::LeaseRecord& r,
                      std::vector<std::string>* log) {
  if (r.group != self_.group) return;  // another job's lease on a shared lease topic
  const std::int64_t e = bus::lease_epoch(r, offset);
  // Known already (our own claim included), or below a known epoch (a recreated topic's
  // first claim, lifted by the record after it).
  if (holder_ && e <= holder_->epoch) return;
  known_epoch_ = std::max(known_epoch_, e);
  holder_ = Holder{r, e};
  if (active() && e > epoch_) {
    // The group gave the lease to someone else and this member has not heard yet (a long
    // pause, a partition from the coordinator): the record is proof enough.
    superseded_ = true;
    step_down("controller " + r.controller + " took the lease (epoch " + std::to_string(e) +
                  " > this controller's " + std::to_string(epoch_) + ")",
              log);
    standby_logged_ = e;
  }
}

void Lease::step_down(const std::string& why, std::vector<std::string>* log) {
  log->push_back("standby: " + why + "; stopped commanding");
}

void Lease::standby_view(std::vector<std::string>* log) {
  const bool known = holder_ && holder_->epoch != own_epoch_;
  const std::int64_t key = known ? holder_->epoch : 0;
  if (key == standby_logged_) return;
  standby_logged_ = key;
  log->push_back(describe());
}

std::string Lease::describe() const {
  if (!joined_) return "joining the lease group " + self_.group;
  if (active()) return "active (epoch " + std::to_string(epoch_) + ")";
  if (assigned_ && !superseded_)
    return "acquiring: assigned the lease, its record is not written yet" +
           (claim_error_.empty() ? std::string() : " (" + claim_error_ + ")");
  if (!holder_ || holder_->epoch == own_epoch_)
    return "standby: another controller holds the lease or is taking it (no newer lease "
           "record seen yet)";
  return "standby: controller " + holder_->record.controller + " holds the lease (epoch " +
         std::to_string(holder_->epoch) +
         (holder_->record.policy.empty() ? "" : ", policy " + holder_->record.policy) + ")";
}

// ---------------------------------------------------------------------------------------
// Over Kafka

namespace {

class KafkaLeaseLink : public LeaseLink {
 public:
  std::string topic, key;
  bus::KafkaProps props;
  int publish_timeout_ms = 5000;
  int check_every_ms = 6000;  // is the lease topic still there? (the session timeout)
  std::chrono::steady_clock::time_point next_check = std::chrono::steady_clock::now();
  std::unique_ptr<bus::Producer> producer;
  std::unique_ptr<bus::Consumer> watcher;  // the lease topic from its last record
  std::unique_ptr<bus::GroupMember> member;
  std::vector<Event> pending;       // read at start-up
  std::int64_t newest_offset = -1;  // of the newest record read or written (-1: none)

  // The lease records that arrived (at most 64 a call).
  void read_records(std::vector<Event>* out, std::string* error) {
    for (int i = 0; i < 64; ++i) {
      auto m = watcher->poll(0);
      if (!m.ok()) {
        *error = m.error().message;
        return;
      }
      if (!m->has_value()) return;
      newest_offset = std::max(newest_offset, (*m)->offset);
      if (auto r = bus::decode_lease_record((*m)->payload); r.ok())
        out->push_back({Event::Kind::kRecord, (*m)->offset, std::move(*r)});
      // Anything else on the lease topic is not a claim and is ignored.
    }
  }

  // A deleted lease topic is not recreated by anyone else (brokers should not auto-create
  // it: auto.create.topics.enable makes topics with the broker's default partition count),
  // and the group keeps its member assigned to a partition that no longer exists. So every
  // check_every_ms one metadata request on the producer's connection (500 ms at most, also
  // while the broker is down; no answer is not a deletion): a missing topic is created
  // again. A topic that is there but ends at or below the newest record this link read or
  // wrote was recreated by someone else (an operator, or a broker's auto-creation): its
  // offsets restarted. Either is reported (kTopicRecreated).
  void check_topic(std::vector<Event>* out, std::string* error) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_check) return;
    next_check = now + std::chrono::milliseconds(check_every_ms);
    auto n = producer->partitions(topic, 500);
    if (!n.ok()) return;
    if (*n > 0) {
      if (newest_offset < 0) return;
      auto end = producer->end_offset(topic, 0, 500);
      if (!end.ok() || *end > newest_offset) return;
    } else if (auto st = bus::ensure_topics(props, {{topic, 1}}, 5000); !st.ok()) {
      *error = "the lease topic '" + topic + "' is gone and could not be created again (" +
               st.message() + ")";
      return;
    }
    newest_offset = -1;
    // The watcher stays: its position is past the new topic's end, so it resets to the end
    // and reads the records written after that. (Replacing it here would block this thread
    // while librdkafka closes the old client, 30 s in a live run.)
    Event e{Event::Kind::kTopicRecreated};
    e.created_here = *n == 0;
    out->push_back(std::move(e));
  }

  core::Result<std::vector<Event>> poll(int timeout_ms) override {
    std::vector<Event> out;
    out.swap(pending);
    std::string error;
    check_topic(&out, &error);
    // The records first: a standby learns the holder before it learns it joined.
    read_records(&out, &error);
    auto changes = member->poll(out.empty() ? timeout_ms : 0);
    if (!changes.ok()) {
      error = changes.error().message;
    } else {
      for (const auto& c : *changes) {
        using E = bus::GroupMember::Event;
        Event e{Event::Kind::kJoined};
        if (c.event == E::kAssigned && !c.partitions.empty()) e.kind = Event::Kind::kAssigned;
        if (c.event == E::kRevoked && !c.partitions.empty()) e.kind = Event::Kind::kRevoked;
        if (c.event == E::kLost) e.kind = Event::Kind::kLost;
        out.push_back(std::move(e));
      }
    }
    if (out.empty() && !error.empty()) return core::Error{error};
    return out;
  }

  core::Result<std::int64_t> publish(const bus::LeaseRecord& r) override {
    auto offset = producer->send_and_wait(topic, key, bus::encode(r), publish_timeout_ms);
    if (offset.ok()) newest_offset = std::max(newest_offset, *offset);
    return offset;
  }
};

}  // namespace

core::Result<std::int64_t> newest_lease_epoch(const bus::KafkaProps& props,
                                              const std::string& topic, int timeout_ms) {
  auto end = bus::end_offset(props, topic, 0, timeout_ms);
  if (!end.ok()) return end.error();
  if (*end == 0) return std::int64_t{0};
  auto reader =
      bus::Consumer::create(props, bus::Plane::kControl, {topic}, bus::StartAt::kLast, timeout_ms);
  if (!reader.ok()) return reader.error();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto m = (*reader)->poll(100);
    if (!m.ok()) return m.error();
    if (!m->has_value()) continue;
    if ((**m).offset != *end - 1) continue;  // an older record; the last one follows
    auto r = bus::decode_lease_record((**m).payload);
    if (!r.ok())
      return core::Error{"the last record on '" + topic + "' (offset " + std::to_string(*end - 1) +
                         ") is not a lease record: " + r.error().message};
    return bus::lease_epoch(*r, (**m).offset);
  }
  return core::Error{"the last record on '" + topic + "' (offset " + std::to_string(*end - 1) +
                     ") was not read within " + std::to_string(timeout_ms) + " ms"};
}

std::string controller_id(const ControllerConfig& cfg) {
  if (!cfg.lease_id.empty()) return cfg.lease_id;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "localhost") + ":" + std::to_string(::getpid());
}

core::Result<std::unique_ptr<LeaseLink>> make_kafka_lease_link(const ControllerConfig& cfg,
                                                               bool* config_error) {
  const std::string topic = lease_topic(cfg);
  const std::string group = lease_group(cfg);
  if (auto st = bus::ensure_topics(cfg.kafka, {{topic, 1}}, 10'000); !st.ok()) {
    auto it = cfg.kafka.find("bootstrap.servers");
    return core::Error{
        "lease.topic: '" + topic + "' does not exist and could not be created (" + st.message() +
        "); create it with exactly one partition, e.g. kafka-topics.sh --bootstrap-server " +
        (it == cfg.kafka.end() ? std::string("HOST:PORT") : it->second) + " --create --topic " +
        topic + " --partitions 1, or name an existing one-partition topic in lease.topic (" +
        cfg.source + ")"};
  }
  auto partitions = bus::partition_count(cfg.kafka, topic, 10'000);
  if (!partitions.ok()) return partitions.error();
  if (*partitions != 1) {
    if (config_error) *config_error = true;
    return core::Error{cfg.source + ": lease.topic: '" + topic + "' has " +
                       std::to_string(*partitions) +
                       " partitions; the lease needs a topic with exactly one (its offsets are "
                       "the epochs, and offsets are ordered only within a partition)"};
  }
  auto link = std::make_unique<KafkaLeaseLink>();
  link->topic = topic;
  link->key = group;
  link->props = cfg.kafka;
  link->publish_timeout_ms = std::min(5000, cfg.lease_session_timeout_ms);
  link->check_every_ms = cfg.lease_session_timeout_ms;
  link->next_check =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg.lease_session_timeout_ms);
  auto producer = bus::Producer::create(cfg.kafka, bus::Plane::kControl);
  if (!producer.ok()) return producer.error();
  link->producer = std::move(*producer);
  auto watcher =
      bus::Consumer::create(cfg.kafka, bus::Plane::kControl, {topic}, bus::StartAt::kLast);
  if (!watcher.ok()) return watcher.error();
  link->watcher = std::move(*watcher);
  // The current holder's record, before joining: a standby then says at once who holds it.
  if (auto end = bus::end_offset(cfg.kafka, topic, 0, 5000); end.ok() && *end > 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    std::string error;
    while (link->pending.empty() && std::chrono::steady_clock::now() < deadline) {
      link->read_records(&link->pending, &error);
      if (link->pending.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  bus::GroupMember::Options o;
  o.group = group;
  o.topic = topic;
  o.session_timeout_ms = cfg.lease_session_timeout_ms;
  o.heartbeat_interval_ms = cfg.lease_heartbeat_interval_ms;
  o.max_poll_interval_ms = std::max(30'000, cfg.lease_session_timeout_ms);
  auto member = bus::GroupMember::create(cfg.kafka, o);
  if (!member.ok()) return member.error();
  link->member = std::move(*member);
  return std::unique_ptr<LeaseLink>(std::move(link));
}

}  // namespace prescale::control
