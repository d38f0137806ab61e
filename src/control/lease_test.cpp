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

// A recreated lease topic restarts its offsets at 0: the next holder's epoch must still be
// above every epoch before (the plugin ignores lower ones for good).
TEST(Lease, ARecreatedLeaseTopicDoesNotRestartTheEpochs) {
  Fixture f;
  f.poll({rec(9, "old:1"), ev(Kind::kJoined)});  // the old topic: old:1 holds epoch 10
  ASSERT_EQ(f.lease.holder()->epoch, 10);
  f.script.next_offset = 0;  // the topic is recreated; then this controller gets the lease
  const auto log = f.poll({ev(Kind::kAssigned)});
  ASSERT_TRUE(f.lease.active());
  // Offset 0 would be epoch 1: written again, lifted above 10.
  ASSERT_EQ(f.script.published.size(), 2u);
  EXPECT_EQ(f.script.published[0].base, 0);
  EXPECT_EQ(f.script.published[1].base, 10);
  EXPECT_EQ(f.lease.epoch(), 12);  // base 10 + offset 1 + 1
  EXPECT_NE(joined(log).find("epoch 1 would not be above 10"), std::string::npos) << joined(log);
  // Its two records read back change nothing; the next holder copies the base and stays above.
  EXPECT_TRUE(f.poll({rec(0, "me:1"), {Kind::kRecord, 1, f.script.published[1]}}).empty());
  EXPECT_TRUE(f.lease.active());
  f.poll({ev(Kind::kRevoked)});
  bus::LeaseRecord next = record("b:2");
  next.base = 10;
  f.poll({{Kind::kRecord, 2, next}});
  EXPECT_EQ(f.lease.holder()->epoch, 13);
  f.script.next_offset = 3;
  f.poll({ev(Kind::kAssigned)});
  EXPECT_EQ(f.script.published.size(), 3u);  // one record: 10 + 3 + 1 is above 13
  EXPECT_EQ(f.script.published[2].base, 10);
  EXPECT_EQ(f.lease.epoch(), 14);
}

// The topic deleted under a running holder and created again by its link (chaos.sh's lease
// case): the holder claims on the new topic at once, above its own epoch; a standby waits.
TEST(Lease, AHolderClaimsAgainOnALeaseTopicItCreatedAgain) {
  Fixture f;
  f.script.next_offset = 15;
  f.poll({ev(Kind::kAssigned)}, 1000);
  ASSERT_EQ(f.lease.epoch(), 16);
  f.script.next_offset = 0;  // the new topic
  LeaseLink::Event gone{Kind::kTopicRecreated};
  gone.created_here = true;
  const auto log = f.poll({gone}, 2000);
  ASSERT_TRUE(f.lease.active()) << joined(log);
  ASSERT_EQ(f.script.published.size(), 2u) << joined(log);  // one record, lifted at once
  EXPECT_EQ(f.script.published[1].base, 16);
  EXPECT_EQ(f.lease.epoch(), 17);  // base 16 + offset 0 + 1
  EXPECT_NE(joined(log).find("lease: the lease topic was deleted; this controller created it "
                             "again; claiming the lease on it above epoch 16"),
            std::string::npos)
      << joined(log);

  Fixture standby;
  standby.poll({rec(15, "other:1"), ev(Kind::kJoined)}, 1000);
  const auto slog = standby.poll({ev(Kind::kTopicRecreated)}, 2000);
  EXPECT_FALSE(standby.lease.active());
  EXPECT_TRUE(standby.script.published.empty());
  EXPECT_NE(joined(slog).find("its offsets restarted (created by someone else); waiting for the "
                              "holder's claim on it"),
            std::string::npos)
      << joined(slog);
  bus::LeaseRecord next = record("other:1");
  next.base = 16;
  standby.poll({{Kind::kRecord, 0, next}}, 3000);
  EXPECT_EQ(standby.lease.holder()->epoch, 17);
}

// A controller that joined after the recreation knows no old epoch from the lease topic; the
// job's progress says which epoch it applies, and after reclaim_after_ms the holder claims
// above it.
TEST(Lease, AHolderTheJobIgnoresClaimsAboveTheJobsEpochAfterAWait) {
  Fixture f;  // reclaim_after_ms 6000 (the default)
  f.poll({ev(Kind::kAssigned)}, 1000);
  ASSERT_EQ(f.lease.epoch(), 1);
  f.lease.observe_epoch(1, 1000);  // its own commands, read back: nothing to do
  f.lease.observe_epoch(7, 2000);  // the plugin applies 7
  EXPECT_TRUE(f.poll({}, 7999).empty());
  EXPECT_EQ(f.lease.epoch(), 1);
  const auto log = f.poll({}, 8000);
  ASSERT_EQ(f.script.published.size(), 2u) << joined(log);
  EXPECT_EQ(f.script.published[1].base, 7);
  EXPECT_EQ(f.lease.epoch(), 9);  // base 7 + offset 1 + 1
  EXPECT_NE(joined(log).find("the job applies epoch 7, above this controller's 1"),
            std::string::npos)
      << joined(log);
  f.lease.observe_epoch(9, 9000);  // now the job follows it
  EXPECT_TRUE(f.poll({}, 20'000).empty());
  EXPECT_EQ(f.script.published.size(), 2u);
}

// A higher epoch the lease topic explains is a real newer holder: step down, never outbid.
TEST(Lease, AHigherEpochWithANewerHoldersRecordIsNotOutbid) {
  Fixture f;
  f.poll({ev(Kind::kAssigned)}, 1000);
  ASSERT_EQ(f.lease.epoch(), 1);
  f.lease.observe_epoch(5, 2000);  // b's command, seen before b's record
  f.poll({rec(4, "b:2")}, 3000);
  EXPECT_FALSE(f.lease.active());
  f.poll({}, 60'000);
  EXPECT_EQ(f.script.published.size(), 1u);
  EXPECT_EQ(f.lease.known_epoch(), 5);
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
