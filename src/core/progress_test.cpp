#include "core/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "core/capture_file.h"

namespace prescale::core {
namespace {

using Capture = core::CaptureFile;  // what was written, through an in-memory FILE

Progress::Options options(Capture& c, double* clock, bool tty, int total = 4) {
  Progress::Options o;
  o.what = "traces";
  o.total = total;
  o.out = c.f;
  o.tty = tty ? 1 : 0;
  o.width = 80;
  o.clock = [clock] { return *clock; };
  o.refresh_s = 0;
  return o;
}

TEST(Progress, FormatsDurationsLikeAPerson) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(44.6), "45s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-1), "0s");
}

TEST(Progress, TheEtaIsTheElapsedTimePerStepTimesTheStepsLeft) {
  Capture c;
  double t = 100;
  Progress p(options(c, &t, false));
  EXPECT_FALSE(p.eta_s());  // nothing done: no guess
  p.begin(1, "nyc_taxi (compressed)");
  t = 110;
  p.done();
  EXPECT_DOUBLE_EQ(*p.eta_s(), 30);  // 10 s a step, 3 left
  p.begin(2, "nyc_taxi (real)");
  t = 114;  // 4 s into the second step, no fraction known: 30 - 4
  EXPECT_DOUBLE_EQ(*p.eta_s(), 26);
  t = 135;  // longer than the mean: at least the two steps after it
  EXPECT_DOUBLE_EQ(*p.eta_s(), 20);
  t = 120;
  p.fraction(0.5);  // 1.5 steps in 20 s; 2.5 left
  EXPECT_NEAR(*p.eta_s(), 20.0 / 1.5 * 2.5, 1e-9);
  EXPECT_EQ(p.status(), "traces [2/4] nyc_taxi (real): 20s elapsed, ETA ~33s");
}

TEST(Progress, OffATerminalOnlyThePerStepLinesAreWritten) {
  Capture c;
  double t = 0;
  {
    Progress p(options(c, &t, false));
    p.begin(1, "a");
    p.fraction(0.5);
    t = 5;
    p.done("traces [1/4] a: 5.0 s");
    p.line("a log line");
    p.begin(2, "b");
  }
  EXPECT_EQ(c.text(), "traces [1/4] a: 5.0 s\na log line\n");  // no status, no escapes
}

TEST(Progress, OnATerminalTheStatusLineIsRedrawnInPlaceBelowTheLog) {
  Capture c;
  double t = 0;
  {
    Progress p(options(c, &t, true, 2));
    p.begin(1, "a");
    p.line("log");
    t = 3;
    p.done("a done");
  }  // the destructor leaves a clean line
  const std::string out = c.text();
  EXPECT_EQ(out.rfind("\rtraces [1/2] a: 0s elapsed\033[K", 0), 0u) << out;
  // The log line erases the status first, then it comes back.
  EXPECT_NE(out.find("\r\033[Klog\n\rtraces [1/2] a: 0s elapsed\033[K"), std::string::npos) << out;
  EXPECT_NE(out.find("a done\n\rtraces [1/2] a: 3s elapsed, ETA ~3s\033[K"), std::string::npos)
      << out;
  EXPECT_EQ(out.substr(out.size() - 4), "\r\033[K");
}

// While a LogsAbove lives, log lines are the status line's permanent lines; after it, they are not.
TEST(Progress, LogsAboveRoutesLogLinesAboveTheStatusLine) {
  Capture c;
  double t = 0;
  Progress p(options(c, &t, true, 2));
  p.begin(1, "a");
  {
    LogsAbove above(p);
    log_warn("kafka", "broker down");
  }
  EXPECT_NE(c.text().find("\r\033[Kprescale kafka: warning: broker down\n\rtraces [1/2] a"),
            std::string::npos)
      << c.text();
  const size_t before = c.text().size();
  set_min_log_level(LogLevel::kError);  // the default sink (stderr) stays quiet here
  log_warn("kafka", "after");
  set_min_log_level(LogLevel::kInfo);
  EXPECT_EQ(c.text().size(), before);
}

TEST(Progress, ALongLabelIsCutToTheTerminalsWidth) {
  Capture c;
  double t = 0;
  auto o = options(c, &t, true);
  o.width = 30;
  Progress p(o);
  p.begin(1, std::string(100, 'x'));
  const std::string out = c.text();
  const size_t start = out.find('\r') + 1;
  const size_t end = out.find('\033');
  EXPECT_EQ(end - start, 29u) << out;
}

}  // namespace
}  // namespace prescale::core
