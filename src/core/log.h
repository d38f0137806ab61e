// The project's logger: one line per event on stderr, "prescale WHO: message" (warnings and
// errors say so: "prescale kafka: warning: ..."), thread-safe, and replaceable by a sink (a
// command that keeps a status line on the terminal writes log lines above it; tests capture
// them).
//
// Third-party libraries that log on their own (librdkafka) are routed through log() too,
// behind a LogLimiter: the same message at most once per window, the next one carrying how
// many were suppressed meanwhile, so a broker outage is a few lines, not thousands.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace prescale::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
const char* to_string(LogLevel l);

// Where log lines go: (level, who, message). The default writes to stderr.
using LogSink = std::function<void(LogLevel, std::string_view who, std::string_view message)>;

// Logs one line through the current sink. Lines below the minimum level (set_min_log_level,
// default kInfo; PRESCALE_LOG_LEVEL=debug|info|warn|error overrides it) are dropped.
void log(LogLevel level, std::string_view who, std::string_view message);
inline void log_info(std::string_view who, std::string_view m) { log(LogLevel::kInfo, who, m); }
inline void log_warn(std::string_view who, std::string_view m) { log(LogLevel::kWarn, who, m); }
inline void log_error(std::string_view who, std::string_view m) { log(LogLevel::kError, who, m); }

void set_min_log_level(LogLevel level);

// The line the default sink writes (without the newline): "prescale WHO: [warning: ]message".
std::string format_log_line(LogLevel level, std::string_view who, std::string_view message);

// Replaces the sink (nullptr = the default) and returns the previous one.
LogSink set_log_sink(LogSink sink);

// Installs a sink for its lifetime, then restores the previous one.
class ScopedLogSink {
 public:
  explicit ScopedLogSink(LogSink sink) : previous_(set_log_sink(std::move(sink))) {}
  ~ScopedLogSink() { set_log_sink(std::move(previous_)); }
  ScopedLogSink(const ScopedLogSink&) = delete;
  ScopedLogSink& operator=(const ScopedLogSink&) = delete;

 private:
  LogSink previous_;
};

// Rate limiting by message: check() says whether a line may be written now. Lines are "the
// same" when they differ only in their digits (librdkafka writes "after 0ms", "after 1ms",
// "3 identical error(s) suppressed" into otherwise equal lines). The first line of a kind is
// written; the same kind again within `window_s` is suppressed and counted; the first one
// after the window is written with that count. Thread-safe; the clock is the caller's.
class LogLimiter {
 public:
  struct Verdict {
    bool emit = false;
    std::uint64_t suppressed = 0;  // lines of this kind suppressed since the last written one
    double since_s = 0;            // seconds since that line (0 for a first line)
  };
  explicit LogLimiter(double window_s, std::size_t max_kinds = 512)
      : window_s_(window_s), max_kinds_(max_kinds) {}
  Verdict check(std::string_view line, double now_s);
  double window_s() const { return window_s_; }

  // The key lines are compared by: every run of digits becomes one '#'.
  static std::string kind(std::string_view line);

 private:
  struct Entry {
    double last_emit_s = 0;
    std::uint64_t suppressed = 0;
  };
  double window_s_;
  std::size_t max_kinds_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// " (N similar lines suppressed in the last S s)", or "" for N = 0.
std::string suppressed_note(std::uint64_t n, double since_s);

}  // namespace prescale::core
