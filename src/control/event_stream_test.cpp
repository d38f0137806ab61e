#include "control/event_stream.h"

#include <gtest/gtest.h>

#include <regex>
#include <thread>

namespace prescale::control {
namespace {

using std::chrono::milliseconds;

// The ids of the SSE frames in `text`, in order.
std::vector<std::uint64_t> ids(const std::string& text) {
  std::vector<std::uint64_t> out;
  static const std::regex id_line("(^|\n)id: ([0-9]+)\n");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), id_line);
       it != std::sregex_iterator(); ++it)
    out.push_back(std::stoull((*it)[2]));
  return out;
}

TEST(EventStream, FormatsAnEventAsSseWithOneDataLinePerLine) {
  EXPECT_EQ(format_sse({7, "tick", "{\"a\":1}"}), "id: 7\nevent: tick\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(format_sse({8, "note", "one\ntwo"}), "id: 8\nevent: note\ndata: one\ndata: two\n\n");
  EXPECT_EQ(format_sse({9, "empty", ""}), "id: 9\nevent: empty\ndata: \n\n");
}

TEST(EventStream, ARingKeepsTheLastItemsPushed) {
  Ring<int> r(3);
  for (int i = 1; i <= 5; ++i) r.push(i);
  EXPECT_EQ(std::vector<int>(r.items().begin(), r.items().end()), (std::vector<int>{3, 4, 5}));
  Ring<int> none(0);
  none.push(1);
  EXPECT_TRUE(none.items().empty());
}

TEST(EventStream, ANewSubscriberGetsTheKeptHistoryInOrderThenTheLiveEvents) {
  EventHub hub;
  hub.keep("tick", 3);
  hub.keep("decision", 10);
  for (int i = 0; i < 5; ++i) hub.publish("tick", "t" + std::to_string(i));  // ids 1-5
  hub.publish("decision", "d");                                              // 6
  hub.publish("debug", "not kept");                                          // 7
  hub.publish("tick", "t5");                                                 // 8
  const auto history = hub.history();
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].id, 4u);  // ticks 1-3 fell out of the ring of 3
  EXPECT_EQ(history[1].id, 5u);
  EXPECT_EQ(history[2].type, "decision");
  EXPECT_EQ(history[3].data, "t5");

  auto sub = hub.subscribe();
  ASSERT_NE(sub, nullptr);
  hub.publish("tick", "t6");  // 9: after subscribing, so live
  std::string got;
  ASSERT_TRUE(sub->next(&got, milliseconds(0)));
  EXPECT_EQ(ids(got), (std::vector<std::uint64_t>{4, 5, 6, 8, 9}));
  EXPECT_EQ(got.find("not kept"), std::string::npos);
}

TEST(EventStream, ASubscriberThatStopsReadingIsDroppedWithoutBlockingThePublisher) {
  EventHub hub(EventHub::Options{/*queue=*/4, /*max_clients=*/2});
  hub.keep("tick", 100);
  hub.publish("tick", "before");
  auto slow = hub.subscribe();
  auto fast = hub.subscribe();
  ASSERT_TRUE(slow && fast);
  std::string fast_got;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    hub.publish("tick", std::string(1000, 'x'));
    ASSERT_TRUE(fast->next(&fast_got, milliseconds(0)));  // this one keeps up
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_TRUE(slow->closed());
  EXPECT_TRUE(slow->dropped());
  EXPECT_FALSE(fast->closed());
  EXPECT_EQ(hub.clients(), 1u);
  EXPECT_EQ(hub.dropped_total(), 1u);
  EXPECT_EQ(ids(fast_got).size(), 51u);  // the kept one and the 50 live ones
  // The dropped page's reader sees the end of the stream (its browser reconnects).
  std::string rest;
  EXPECT_FALSE(slow->next(&rest, milliseconds(0)));
  // Reconnecting gets the kept history again.
  auto again = hub.subscribe();
  ASSERT_NE(again, nullptr);
  std::string replay;
  ASSERT_TRUE(again->next(&replay, milliseconds(0)));
  EXPECT_EQ(ids(replay).size(), 51u);
}

TEST(EventStream, RefusesSubscribersBeyondTheLimitUntilOneLeaves) {
  EventHub hub(EventHub::Options{16, 2});
  auto a = hub.subscribe();
  auto b = hub.subscribe();
  EXPECT_TRUE(a && b);
  EXPECT_EQ(hub.subscribe(), nullptr);
  hub.unsubscribe(a);
  EXPECT_TRUE(a->closed());
  EXPECT_FALSE(a->dropped());
  EXPECT_NE(hub.subscribe(), nullptr);
}

TEST(EventStream, NextWaitsForAnEventAndTimesOutWithNothing) {
  EventHub hub;
  auto sub = hub.subscribe();
  std::string got;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(sub->next(&got, milliseconds(30)));  // still open, nothing to send
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(25));
  EXPECT_TRUE(got.empty());
  std::thread later([&] {
    std::this_thread::sleep_for(milliseconds(20));
    hub.publish("tick", "x");
  });
  EXPECT_TRUE(sub->next(&got, milliseconds(5000)));
  later.join();
  EXPECT_EQ(ids(got), (std::vector<std::uint64_t>{1}));
}

TEST(EventStream, ShutdownEndsEveryStreamAndRefusesNewOnes) {
  EventHub hub;
  auto sub = hub.subscribe();
  std::thread reader([&] {
    std::string got;
    while (sub->next(&got, milliseconds(5000))) {
    }
  });
  hub.shutdown();
  reader.join();  // woke up and saw the end
  EXPECT_TRUE(sub->closed());
  EXPECT_EQ(hub.subscribe(), nullptr);
}

TEST(EventStream, AReaderOnAnotherThreadGetsEveryEventInOrder) {
  EventHub hub(EventHub::Options{100000, 4});
  auto sub = hub.subscribe();
  std::string got;
  std::thread reader([&] {
    while (ids(got).size() < 2000 && sub->next(&got, milliseconds(1000))) {
    }
  });
  for (int i = 0; i < 2000; ++i) hub.publish("tick", std::to_string(i));
  reader.join();
  const auto seen = ids(got);
  ASSERT_EQ(seen.size(), 2000u);
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1);
}

}  // namespace
}  // namespace prescale::control
