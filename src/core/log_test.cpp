#include "core/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace prescale::core {
namespace {

TEST(Log, LinesNameTheProgramTheComponentAndTheLevel) {
  EXPECT_EQ(format_log_line(LogLevel::kInfo, "controller", "policy rl"),
            "prescale controller: policy rl");
  EXPECT_EQ(format_log_line(LogLevel::kWarn, "kafka", "broker down"),
            "prescale kafka: warning: broker down");
  EXPECT_EQ(format_log_line(LogLevel::kError, "edge", "x"), "prescale edge: error: x");
}

TEST(Log, ASinkReceivesEveryLineAboveTheMinimumLevelAndIsRestored) {
  std::vector<std::string> got;
  {
    ScopedLogSink sink([&](LogLevel l, std::string_view who, std::string_view m) {
      got.push_back(format_log_line(l, who, m));
    });
    log_info("edge", "one");
    log(LogLevel::kDebug, "edge", "dropped at the default level");
    log_warn("kafka", "two");
    set_min_log_level(LogLevel::kWarn);
    log_info("edge", "dropped too");
    log_error("edge", "three");
    set_min_log_level(LogLevel::kInfo);
  }
  log_info("test", "after the scope: to stderr, not to the sink");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "prescale edge: one");
  EXPECT_EQ(got[1], "prescale kafka: warning: two");
  EXPECT_EQ(got[2], "prescale edge: error: three");
}

TEST(LogLimiter, LinesThatDifferOnlyInTheirDigitsAreOneKind) {
  EXPECT_EQ(LogLimiter::kind("Connect to ipv4#127.0.0.1:9092 failed (after 0ms in state CONNECT)"),
            "Connect to ipv###.#.#.#:# failed (after #ms in state CONNECT)");
  EXPECT_EQ(LogLimiter::kind("Connect failed (after 0ms, 3 identical error(s) suppressed)"),
            LogLimiter::kind("Connect failed (after 17ms, 12 identical error(s) suppressed)"));
  EXPECT_EQ(LogLimiter::kind("1/1 brokers are down"), LogLimiter::kind("2/3 brokers are down"));
  EXPECT_NE(LogLimiter::kind("1/1 brokers are down"), LogLimiter::kind("1/1 brokers are up"));
}

TEST(LogLimiter, TheSameMessageAtMostOncePerWindowWithACountOfTheSuppressed) {
  LogLimiter lim(30);
  EXPECT_TRUE(lim.check("FAIL: 127.0.0.1:9092/bootstrap: Connection refused", 0).emit);
  // A thousand more within the window: none written.
  for (int i = 1; i <= 1000; ++i) {
    const auto v = lim.check("FAIL: 127.0.0.1:9092/bootstrap: Connection refused", i * 0.01);
    ASSERT_FALSE(v.emit);
    EXPECT_EQ(v.suppressed, static_cast<std::uint64_t>(i));
  }
  // Another message is its own kind.
  EXPECT_TRUE(lim.check("ERROR: all brokers are down", 5).emit);
  // After the window: written, with the count and the time since the last one written.
  const auto after = lim.check("FAIL: 127.0.0.1:9092/bootstrap: Connection refused", 31);
  EXPECT_TRUE(after.emit);
  EXPECT_EQ(after.suppressed, 1000u);
  EXPECT_DOUBLE_EQ(after.since_s, 31);
  EXPECT_EQ(suppressed_note(after.suppressed, after.since_s),
            " (1000 similar lines suppressed in the last 31 s)");
  EXPECT_EQ(suppressed_note(1, 30), " (1 similar line suppressed in the last 30 s)");
  EXPECT_EQ(suppressed_note(0, 30), "");
  // The count starts again.
  EXPECT_FALSE(lim.check("FAIL: 127.0.0.1:9092/bootstrap: Connection refused", 32).emit);
  EXPECT_EQ(lim.check("FAIL: 127.0.0.1:9092/bootstrap: Connection refused", 62).suppressed, 1u);
}

TEST(LogLimiter, TheTableOfKindsIsBounded) {
  LogLimiter lim(30, 4);
  for (char c = 'a'; c <= 'z'; ++c) EXPECT_TRUE(lim.check(std::string("msg ") + c, 1).emit);
  // 'z' is still known (the newest), so a repeat is suppressed.
  EXPECT_FALSE(lim.check("msg z", 2).emit);
}

}  // namespace
}  // namespace prescale::core
