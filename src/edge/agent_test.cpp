#include "edge/agent.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/capture_file.h"

namespace prescale::edge {
namespace {

using Capture = core::CaptureFile;  // what was written, through an in-memory FILE

bus::BurstSignal signal(bool burst, double forecast) {
  bus::BurstSignal s;
  s.burst = burst;
  s.forecast = forecast;
  return s;
}

TEST(ReplayStatus, SaysReadingsRateAndSignal) {
  EXPECT_EQ(format_replay_status(1234567, 5120.4, signal(true, 9800)),
            "1.23M readings, 5.1k/s, signal BURST");
  EXPECT_EQ(format_replay_status(0, 0, signal(false, 12.3)), "0 readings, 0/s, signal calm");
  EXPECT_EQ(format_replay_status(999, 12345678, signal(false, 0)),
            "999 readings, 12.35M/s, signal calm");
}

TEST(ReplayStatus, OnATerminalALineEveryFewSecondsWithTheRateOfThatPeriod) {
  Capture c;
  double t = 100;
  ReplayStatus::Options o;
  o.out = c.f;
  o.tty = 1;
  o.every_s = 2;
  o.clock = [&t] { return t; };
  {
    ReplayStatus status(1000, o);
    ASSERT_TRUE(status.tty());
    GatewayStats stats;
    status.update(0, stats, signal(false, 100));  // the first sample: drawn at once
    EXPECT_NE(c.text().find("edge replay [1/1000] 0 readings, 0/s, signal calm"), std::string::npos)
        << c.text();
    stats.readings = 3000;
    t = 101;  // within the period: not redrawn
    status.update(1, stats, signal(false, 100));
    EXPECT_EQ(c.text().find("[2/1000]"), std::string::npos) << c.text();
    stats.readings = 10000;
    t = 102;  // 10,000 readings in 2 s
    status.update(2, stats, signal(true, 8000));
    const std::string s = c.text();
    EXPECT_NE(
        s.find("edge replay [3/1000] 10.0k readings, 5.0k/s, signal BURST: 2s elapsed, ETA ~"),
        std::string::npos)
        << s;
    EXPECT_NE(s.find("ETA ~"), std::string::npos) << s;
    EXPECT_NE(s.find("\r"), std::string::npos);  // rewritten in place
  }
  // Cleared at the end: the last thing written erases the line.
  const std::string s = c.text();
  EXPECT_EQ(s.substr(s.size() - 4), "\r\033[K");
}

TEST(ReplayStatus, QuietWhenNotATerminal) {
  Capture c;
  double t = 0;
  ReplayStatus::Options o;
  o.out = c.f;
  o.tty = 0;
  o.clock = [&t] { return t; };
  {
    ReplayStatus status(10, o);
    EXPECT_FALSE(status.tty());
    GatewayStats stats;
    for (size_t i = 0; i < 10; ++i) {
      stats.readings += 500;
      t += 5;
      status.update(i, stats, signal(i > 5, 100));
    }
  }
  EXPECT_EQ(c.text(), "");
}

}  // namespace
}  // namespace prescale::edge
