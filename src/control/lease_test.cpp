// The lease's state machine (control/lease.h) against a scripted LeaseLink: no broker.
#include "control/lease.h"

#include <gtest/gtest.h>

#include <deque>

namespace prescale::control {
namespace {

using Kind = LeaseLink::Event::Kind;

// Each poll() returns the next scripted batch of events; publish() appends the record to a
// log whose offsets continue from `next_offset` (or fails while `fail_publish`).
struct Script {
  std::deque<std::vector<LeaseLink::Event>> batches;
  std::vector<bus::LeaseRecord> published;
  std::int64_t next_offset = 0;
  bool fail_publish = false;
  int polls = 0;
};

class FakeLink : public LeaseLink {
 public:
  explicit FakeLink(Script* s) : s_(s) {}
  core::Result<std::vector<Event>> poll(int) override {
    ++s_->polls;
    if (s_->batches.empty()) return std::vector<Event>{};
    auto out = std::move(s_->batches.front());
    s_->batches.pop_front();
    return out;
  }
  core::Result<std::int64_t> publish(const bus::LeaseRecord& r) override {
    if (s_->fail_publish) return core::Error{"kafka: produce to 'lease': Local: Message timed out"};
    s_->published.push_back(r);
    return s_->next_offset++;
  }

 private:
  Script* s_;
};

constexpr const char* kGroup = "prescale-controller.iot-control";

bus::LeaseRecord record(const std::string& who, const std::string& group = kGroup) {
  return {who, group, "hpa", 1000};
}

LeaseLink::Event ev(Kind k) { return {k}; }
LeaseLink::Event rec(std::int64_t offset, const std::string& who,
                     const std::string& group = kGroup) {
  return {Kind::kRecord, offset, record(who, group)};
}

struct Fixture {
  Script script;
  Lease lease{std::make_unique<FakeLink>(&script), record("me:1")};
  std::vector<std::string> poll(std::vector<LeaseLink::Event> events, std::int64_t now = 10'000) {
    script.batches.push_back(std::move(events));
    return lease.poll(0, now);
  }
};

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(Lease, TakesTheLeaseWithTheOffsetOfItsRecordAsEpoch) {
  Fixture f;
  EXPECT_FALSE(f.lease.joined());
  EXPECT_FALSE(f.lease.active());
  EXPECT_EQ(f.lease.describe(), "joining the lease group prescale-controller.iot-control");
  f.script.next_offset = 41;
  const auto log = f.poll({ev(Kind::kAssigned)}, 123'456);
  ASSERT_TRUE(f.lease.active());
  EXPECT_EQ(f.lease.epoch(), 42);  // offset 41 + 1
  ASSERT_EQ(f.script.published.size(), 1u);
  EXPECT_EQ(f.script.published[0].controller, "me:1");
  EXPECT_EQ(f.script.published[0].group, kGroup);
  EXPECT_EQ(f.script.published[0].policy, "hpa");
  EXPECT_EQ(f.script.published[0].ts_ms, 123'456);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("active: this controller (me:1) holds the lease (epoch 42)"),
            std::string::npos)
      << log[0];
  EXPECT_EQ(f.lease.describe(), "active (epoch 42)");
  // Its own record read back changes nothing; nor do more polls (one record per claim).
  EXPECT_TRUE(f.poll({rec(41, "me:1")}).empty());
  EXPECT_TRUE(f.poll({}).empty());
  EXPECT_EQ(f.script.published.size(), 1u);
  EXPECT_EQ(f.lease.epoch(), 42);
}

TEST(Lease, AStandbyNamesTheHolderOnceAndAgainOnlyWhenItChanges) {
  Fixture f;
  auto log = f.poll({rec(6, "other:9"), ev(Kind::kJoined)});
  EXPECT_FALSE(f.lease.active());
  EXPECT_EQ(f.lease.epoch(), 0);
  EXPECT_TRUE(f.lease.joined());
  ASSERT_EQ(log.size(), 1u) << joined(log);
  EXPECT_EQ(log[0], "standby: controller other:9 holds the lease (epoch 7, policy hpa)");
  EXPECT_EQ(f.lease.describe(), log[0]);
  ASSERT_TRUE(f.lease.holder().has_value());
  EXPECT_EQ(f.lease.holder()->epoch, 7);
  // Every later poll (a tick's worth each) says nothing new...
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(f.poll({}).empty());
  EXPECT_TRUE(f.poll({ev(Kind::kJoined)}).empty());  // another rebalance, still not ours
  EXPECT_TRUE(f.poll({rec(6, "other:9")}).empty());  // the same record again
  // ... until another controller takes the lease.
  log = f.poll({rec(9, "third:3")});
  ASSERT_EQ(log.size(), 1u) << joined(log);
  EXPECT_EQ(log[0], "standby: controller third:3 holds the lease (epoch 10, policy hpa)");
  EXPECT_TRUE(f.script.published.empty());  // a standby writes nothing
}

TEST(Lease, AStandbyWithoutARecordSaysSoOnce) {
  Fixture f;
  auto log = f.poll({ev(Kind::kJoined)});
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("standby: another controller holds the lease"), std::string::npos)
      << log[0];
  EXPECT_TRUE(f.poll({}).empty());
}

TEST(Lease, StopsAtOnceWhenRevokedOrLost) {
  for (Kind k : {Kind::kRevoked, Kind::kLost}) {
    Fixture f;
    f.script.next_offset = 3;
    f.poll({ev(Kind::kAssigned)});
    ASSERT_TRUE(f.lease.active());
    const auto log = f.poll({ev(k)});
    EXPECT_FALSE(f.lease.active()) << "after the poll that delivered it, not a tick later";
    EXPECT_EQ(f.lease.epoch(), 0);
    ASSERT_GE(log.size(), 1u);
    EXPECT_NE(log[0].find(k == Kind::kLost ? "standby: lease lost" : "standby: lease revoked"),
              std::string::npos)
        << log[0];
    EXPECT_NE(log[0].find("stopped commanding"), std::string::npos) << log[0];
    // Its own old record is not mistaken for another holder's.
    EXPECT_EQ(joined(log).find("controller me:1 holds"), std::string::npos) << joined(log);
    // The new holder's record, once it arrives, is named once.
    const auto next = f.poll({rec(4, "b:2")});
    ASSERT_EQ(next.size(), 1u) << joined(next);
    EXPECT_EQ(next[0], "standby: controller b:2 holds the lease (epoch 5, policy hpa)");
  }
}

TEST(Lease, ANewerHoldersRecordMakesTheActiveStepDown) {
  Fixture f;
  f.script.next_offset = 10;
  f.poll({ev(Kind::kAssigned)});
  ASSERT_EQ(f.lease.epoch(), 11);
  // A record of another job sharing the lease topic means nothing to this one.
  EXPECT_TRUE(f.poll({rec(12, "x:1", "prescale-controller.other-job")}).empty());
  EXPECT_TRUE(f.lease.active());
  // The group gave the lease to b (this member has not heard yet): its record is proof.
  const auto log = f.poll({rec(13, "b:2")});
  EXPECT_FALSE(f.lease.active());
  ASSERT_EQ(log.size(), 1u) << joined(log);
  EXPECT_EQ(log[0],
            "standby: controller b:2 took the lease (epoch 14 > this controller's 11); stopped "
            "commanding");
  EXPECT_TRUE(f.poll({}).empty());
  // The revocation that follows adds no second line about the same holder.
  EXPECT_TRUE(f.poll({ev(Kind::kRevoked)}).empty());
  EXPECT_EQ(f.lease.describe(), "standby: controller b:2 holds the lease (epoch 14, policy hpa)");
}

TEST(Lease, AReassignmentIsANewClaimWithALargerEpoch) {
  Fixture f;
  f.script.next_offset = 2;
  f.poll({ev(Kind::kAssigned)});
  EXPECT_EQ(f.lease.epoch(), 3);
  f.poll({ev(Kind::kLost)});
  f.poll({rec(5, "b:2")});
  f.script.next_offset = 8;
  const auto log = f.poll({ev(Kind::kAssigned)});
  ASSERT_TRUE(f.lease.active());
  EXPECT_EQ(f.lease.epoch(), 9);
  EXPECT_EQ(f.script.published.size(), 2u);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("(epoch 9, after controller b:2 (epoch 6))"), std::string::npos) << log[0];
}

TEST(Lease, AClaimThatCannotBeWrittenCommandsNothingAndIsRetried) {
  Fixture f;
  f.script.fail_publish = true;
  auto log = f.poll({ev(Kind::kAssigned)}, 1000);
  EXPECT_FALSE(f.lease.active());
  EXPECT_EQ(f.lease.epoch(), 0);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("could not be written (kafka: produce to 'lease': Local: Message timed "
                        "out); commanding nothing"),
            std::string::npos)
      << log[0];
  EXPECT_NE(f.lease.describe().find("acquiring"), std::string::npos) << f.lease.describe();
  EXPECT_TRUE(f.poll({}, 1500).empty());  // within the second: no retry, no repeated line
  EXPECT_TRUE(f.poll({}, 2100).empty());  // retried, failed the same way: said once
  f.script.fail_publish = false;
  f.script.next_offset = 5;
  log = f.poll({}, 3200);
  EXPECT_TRUE(f.lease.active());
  EXPECT_EQ(f.lease.epoch(), 6);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("active:"), std::string::npos);
}

TEST(Lease, ARevocationWhileTheClaimIsPendingCancelsIt) {
  Fixture f;
  f.script.fail_publish = true;
  f.poll({ev(Kind::kAssigned)}, 1000);
  f.poll({ev(Kind::kRevoked)}, 1100);
  f.script.fail_publish = false;
  f.poll({}, 5000);
  EXPECT_FALSE(f.lease.active());
  EXPECT_TRUE(f.script.published.empty());
}

TEST(Lease, LinkErrorsAreLoggedOncePerDistinctMessage) {
  struct Failing : LeaseLink {
    core::Result<std::vector<Event>> poll(int) override {
      return core::Error{"kafka: group 'g': Broker: Coordinator not available"};
    }
    core::Result<std::int64_t> publish(const bus::LeaseRecord&) override { return 0; }
  };
  Lease lease(std::make_unique<Failing>(), record("me:1"));
  auto log = lease.poll(0, 0);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "lease: kafka: group 'g': Broker: Coordinator not available (retrying)");
  EXPECT_TRUE(lease.poll(0, 1).empty());
  EXPECT_FALSE(lease.active());
}

}  // namespace
}  // namespace prescale::control
