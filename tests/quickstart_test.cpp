// The quickstart as written (docs/quickstart.md, issue 17): `examples/quickstart/quickstart.sh
// run` on a real Kafka and Spark 3.5 standalone. The test starts them through the stack
// scripts, as `make stack-up` does but on free ports in a private run directory (so it never
// meets a running `make stack-up`, `make stack-demo` or the E2E test); the script then finds
// them running, as after make stack-up, and does the rest itself: the plugin jar, the topics,
// the key, the example job through spark-submit with the plugin and the progress listener,
// the controller with examples/quickstart/controller.yaml, one gateway replaying
// examples/quickstart/burst.csv (a 4x burst at +50 s, signalled 30 s ahead), and its watch of
// Spark's executors, until 10 s past the burst's peak, when the test presses Ctrl-C (SIGTERM)
// as a user would (the whole replay would take the test past 5 minutes). Asserted: the job
// runs its minimum when the replay starts and more executors (Spark's REST API) before the
// burst peaks; the plugin logged both; the controller ran the example's configuration; the
// script stopped everything it started.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include "stack_fixture.h"

namespace prescale {
namespace {

using testing::Child;
using testing::free_port;
using testing::read_text;

const std::string kSource = PRESCALE_SOURCE_DIR;
const std::string kScript = kSource + "/examples/quickstart/quickstart.sh";

// burst.csv's one-minute samples at the script's SPEEDUP (30): 2 s each.
constexpr int kSampleS = 2;

struct Sample {
  int t_s = 0;
  int executors = 0;
  bool burst = false;
};

// The watch's lines: "  +T s  executors N  target N  signal BURST|calm  input N/s".
std::vector<Sample> watch_lines(const std::string& out) {
  static const std::regex line(
      R"(^  \+(\d+) s  executors (\d+)  target \S+  signal (BURST|calm) )");
  std::vector<Sample> v;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, line))
      v.push_back({std::stoi(m[1]), std::stoi(m[2]), m[3] == "BURST"});
  }
  return v;
}

// The first sample at the trace's maximum, in seconds of replay.
int burst_peak_s() {
  std::istringstream in(read_text(kSource + "/examples/quickstart/burst.csv"));
  std::string l;
  std::getline(in, l);  // header
  double max = -1;
  int at = -1;
  for (int i = 0; std::getline(in, l); ++i) {
    const double v = std::stod(l.substr(l.find(',') + 1));
    if (v > max) max = v, at = i;
  }
  return at * kSampleS;
}

std::string tail(const std::string& text, size_t n = 4000) {
  return text.size() > n ? "..." + text.substr(text.size() - n) : text;
}

TEST(Quickstart, YourJobScalesBeforeTheBurstPeaks) {
  const auto began = std::chrono::steady_clock::now();
  ASSERT_NE(read_text(kScript).find("\nSPEEDUP=30 "), std::string::npos) << "kSampleS assumes it";
  const int peak_s = burst_peak_s();
  ASSERT_EQ(peak_s, 50);

  testing::Stack stack(kSource);
  ASSERT_EQ(stack.start_kafka(), "");
  ASSERT_EQ(stack.start_spark(), "");
  const std::string dir = stack.run_dir();
  const std::string qs = dir + "/quickstart";
  std::vector<std::string> env = stack.script_env();
  env.push_back("JOB_UI_PORT=" + std::to_string(free_port()));
  env.push_back("CONTROLLER_HTTP_PORT=" + std::to_string(free_port()));
  env.push_back("PRESCALE_BIN=" + std::string(PRESCALE_BIN));
  env.push_back("PRESCALE_PROGRESS=never");

  // Its own trap stops what it started; should the script have to be killed, its stop step
  // (by PID files) is the backstop, then the fixture stops Kafka and Spark.
  struct Backstop {
    std::vector<std::string> argv;
    ~Backstop() {
      std::string cmd;
      for (const auto& a : argv) cmd += "'" + a + "' ";
      std::system((cmd + "stop >/dev/null 2>&1").c_str());
    }
  } backstop;
  backstop.argv = {"/usr/bin/env"};
  backstop.argv.insert(backstop.argv.end(), env.begin(), env.end());
  backstop.argv.insert(backstop.argv.end(), {"bash", kScript});

  std::vector<std::string> argv = backstop.argv;
  argv.push_back("run");
  // The run, until the watch is 10 s past the burst's peak: then Ctrl-C (SIGTERM), which the
  // script answers by stopping everything it started. The rest of the replay (the burst's end
  // and the scale-down, ~70 s more) would take the test past 5 minutes.
  int rc = -1;
  bool interrupted = false, reached = false;
  std::vector<int> pids;  // the script's processes, once the watch runs
  {
    Child run(argv, "/dev/null", dir + "/quickstart.out", dir + "/quickstart.err");
    ASSERT_TRUE(run.started());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(330);
    while ((rc = run.wait(0.5)) == -1) {
      const auto seen = watch_lines(read_text(dir + "/quickstart.out"));
      if (pids.empty() && !seen.empty())
        for (const std::string p : {"gateway.pid", "controller.pid", "driver.pid"})
          pids.push_back(std::atoi(read_text(qs + "/" + p).c_str()));
      const bool past_peak = !seen.empty() && seen.back().t_s >= peak_s + 10;
      reached = reached || past_peak;
      if (!interrupted && (past_peak || std::chrono::steady_clock::now() > deadline)) {
        run.signal(SIGTERM);
        interrupted = true;
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
      } else if (interrupted && std::chrono::steady_clock::now() > deadline) {
        break;  // the Child's destructor kills it; the backstop stops the rest
      }
    }
  }
  const std::string out = read_text(dir + "/quickstart.out");
  const std::string err = read_text(dir + "/quickstart.err");
  const std::string driver = read_text(qs + "/driver.log");
  const std::string controller = read_text(qs + "/controller.log");
  const std::string why = "--- quickstart.sh run, stderr:\n" + err + "--- stdout:\n" + out +
                          "--- controller.log:\n" + tail(controller) + "--- gateway.log:\n" +
                          tail(read_text(qs + "/gateway.log"), 2000);
  ASSERT_TRUE(reached) << "the watch did not get to +" << peak_s + 10 << " s within 330 s\n" << why;
  // 130: the script's answer to Ctrl-C, once its trap has stopped what it started.
  ASSERT_EQ(rc, 130) << why;

  // The job ran its minimum when the replay began, and more executors (Spark's REST API)
  // before the burst peaked.
  const auto samples = watch_lines(out);
  ASSERT_GE(samples.size(), 30u) << why;
  EXPECT_EQ(samples.front().executors, 1) << why;
  int rose = -1, signal = -1;
  for (const auto& s : samples) {
    if (s.burst && signal < 0) signal = s.t_s;
    if (s.executors > 1 && rose < 0) rose = s.t_s;
  }
  EXPECT_GE(signal, 0) << "the gateway's BURST never reached the controller\n" << why;
  ASSERT_GE(rose, 0) << "the executor count never rose\n" << why;
  EXPECT_LT(rose, peak_s) << why;
  EXPECT_NE(err.find("quickstart: executors 1 -> "), std::string::npos) << why;

  // The plugin applied the controller's commands: down to 1 for the idle job, then up again.
  static const std::regex applied(R"(prescale: seq \d+ applied: total (\d+))");
  std::vector<int> totals;
  for (std::sregex_iterator it(driver.begin(), driver.end(), applied), e; it != e; ++it)
    totals.push_back(std::stoi((*it)[1]));
  const auto down = std::find(totals.begin(), totals.end(), 1);
  ASSERT_NE(down, totals.end()) << "no 'applied: total 1' in the driver's log\n" << tail(driver);
  EXPECT_TRUE(std::any_of(down, totals.end(), [](int n) { return n > 1; })) << tail(driver);

  // The controller ran examples/quickstart/controller.yaml, only its addresses replaced.
  std::istringstream example(read_text(kSource + "/examples/quickstart/controller.yaml"));
  std::istringstream used(read_text(qs + "/controller.yaml"));
  std::string a, b;
  int lines = 0;
  while (std::getline(example, a)) {
    ASSERT_TRUE(std::getline(used, b)) << "the copy is shorter";
    ++lines;
    if (a.find("127.0.0.1:9092") != std::string::npos || a.rfind("keys_file:", 0) == 0 ||
        a.find("port: 9464") != std::string::npos)
      continue;
    EXPECT_EQ(a, b) << "line " << lines;
  }
  EXPECT_FALSE(std::getline(used, b)) << "the copy is longer";
  EXPECT_NE(controller.find("policy rl"), std::string::npos) << tail(controller);

  // Everything the script started is stopped: the processes are gone and their PID files
  // removed (Kafka and Spark were running before it: the fixture stops them).
  for (const std::string p : {"gateway.pid", "controller.pid", "driver.pid"})
    EXPECT_FALSE(std::filesystem::exists(qs + "/" + p)) << p;
  ASSERT_EQ(pids.size(), 3u);
  for (const int pid : pids) {
    EXPECT_GT(pid, 0);
    bool gone = false;
    for (int i = 0; i < 50 && !gone; ++i) {  // an exited child of the script may await reaping
      const std::string status = read_text("/proc/" + std::to_string(pid) + "/status");
      gone = status.empty() || status.find("\nState:\tZ") != std::string::npos;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(gone) << "pid " << pid << " still runs";
  }

  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::cout << err << out << "signal at +" << signal << " s, executors rose at +" << rose
            << " s, burst peak at +" << peak_s << " s; wall time (stack start to stop) "
            << static_cast<int>(wall) << " s\n";
}

}  // namespace
}  // namespace prescale
