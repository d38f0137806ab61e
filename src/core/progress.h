// Progress of a long command (issue 13): what is running, the step, and an ETA.
//
// On a terminal, one status line on stderr, rewritten in place ("\r" + clear to the end of
// the line) and kept below the command's own lines:
//
//   traces [4/18] nyc_taxi (real): 1m12s elapsed, ETA ~5m30s
//
// Anywhere else (a log file, CI, a pipe) there is no status line at all: only the lines the
// command prints per step or phase (done(summary), line()), so a log stays a log.
//
// The ETA assumes the steps left take as long as the ones done: the elapsed time over the
// work done (finished steps plus the running step's fraction, when the command knows it)
// times the work left; without a fraction, the mean step time times the steps left, less
// what the running step has taken so far. Thread-safe (a command may log from several
// threads).
#pragma once

#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/log.h"

namespace prescale::core {

class Progress {
 public:
  struct Options {
    std::string what;  // the command ("traces")
    int total = 0;     // steps (0 = unknown: no step count, no ETA)
    std::FILE* out = stderr;
    int tty = -1;                   // -1 = isatty(out); 0 or 1 to force (tests)
    int width = 0;                  // the status line's width; 0 = the terminal's (else 100)
    std::function<double()> clock;  // seconds, monotonic; default std::chrono::steady_clock
    // On a terminal, redraw every this many seconds while nothing happens (the elapsed
    // time moves); 0 = only when something changes.
    double refresh_s = 1.0;
  };
  explicit Progress(Options options);
  ~Progress();  // clears the status line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool tty() const { return tty_; }
  // Step `index` (1-based) begins; `label` says what runs ("nyc_taxi (real)").
  void begin(int index, const std::string& label);
  // How far the current step is, in [0, 1] (optional; refines the ETA within a long step).
  void fraction(double f);
  // The current step ended; `summary` (if not empty) becomes a permanent line, terminal
  // or not.
  void done(const std::string& summary = "");
  // A permanent line (the command's log): on a terminal, written above the status line.
  void line(const std::string& text);

  // Seconds left, once some work is done and the total is known.
  std::optional<double> eta_s() const;
  // The status line's text (no control characters).
  std::string status() const;

 private:
  double now() const;
  void draw_locked();   // on a terminal: the status line
  void clear_locked();  // on a terminal: erase it
  std::optional<double> eta_locked() const;
  std::string status_locked() const;

  Options opt_;
  bool tty_ = false;
  double start_ = 0, last_done_at_ = 0;
  mutable std::mutex mu_;
  int index_ = 0, done_ = 0;
  double fraction_ = 0;
  std::string label_;
  bool shown_ = false;  // a status line is on screen
  // The refresher (terminal only).
  std::condition_variable cv_;
  bool quit_ = false;
  std::thread refresher_;
};

// While alive, every log line (core::log) goes above `progress`'s status line as one of its
// permanent lines (Progress::line): what a command with a status line installs around its
// work. Destroy it before the Progress.
class LogsAbove {
 public:
  explicit LogsAbove(Progress& progress)
      : sink_([&progress](LogLevel l, std::string_view who, std::string_view m) {
          progress.line(format_log_line(l, who, m));
        }) {}

 private:
  ScopedLogSink sink_;
};

// "45s", "3m05s", "1h02m".
std::string format_duration(double seconds);

}  // namespace prescale::core
