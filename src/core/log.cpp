#include "core/log.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace prescale::core {

namespace {

LogLevel level_from_env() {
  const char* e = std::getenv("PRESCALE_LOG_LEVEL");
  if (!e) return LogLevel::kInfo;
  const std::string_view v(e);
  if (v == "debug") return LogLevel::kDebug;
  if (v == "warn" || v == "warning") return LogLevel::kWarn;
  if (v == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

// Leaked on purpose: librdkafka's threads may log while static destructors run at exit.
struct State {
  std::mutex mu;
  LogSink sink;
  std::atomic<int> min_level{static_cast<int>(level_from_env())};
};
State& state() {
  static State* s = new State();
  return *s;
}

}  // namespace

const char* to_string(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string format_log_line(LogLevel level, std::string_view who, std::string_view message) {
  std::string line = "prescale ";
  line.append(who);
  line += ": ";
  if (level != LogLevel::kInfo) {
    line += to_string(level);
    line += ": ";
  }
  line.append(message);
  return line;
}

void log(LogLevel level, std::string_view who, std::string_view message) {
  State& s = state();
  if (static_cast<int>(level) < s.min_level.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(s.mu);  // one line at a time, from any thread
  if (s.sink) {
    s.sink(level, who, message);
    return;
  }
  const std::string line = format_log_line(level, who, message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void set_min_log_level(LogLevel level) {
  state().min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogSink set_log_sink(LogSink sink) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  LogSink previous = std::move(s.sink);
  s.sink = std::move(sink);
  return previous;
}

std::string LogLimiter::kind(std::string_view line) {
  std::string k;
  k.reserve(line.size());
  bool in_digits = false;
  for (char c : line) {
    const bool digit = c >= '0' && c <= '9';
    if (digit && in_digits) continue;
    k.push_back(digit ? '#' : c);
    in_digits = digit;
  }
  return k;
}

LogLimiter::Verdict LogLimiter::check(std::string_view line, double now_s) {
  const std::string k = kind(line);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(k);
  if (it == entries_.end()) {
    if (entries_.size() >= max_kinds_) {
      // Forget the kind written longest ago (a bounded table, whatever the input).
      auto oldest = entries_.begin();
      for (auto e = entries_.begin(); e != entries_.end(); ++e)
        if (e->second.last_emit_s < oldest->second.last_emit_s) oldest = e;
      entries_.erase(oldest);
    }
    entries_.emplace(k, Entry{now_s, 0});
    return {true, 0, 0};
  }
  Entry& e = it->second;
  if (now_s - e.last_emit_s < window_s_) {
    ++e.suppressed;
    return {false, e.suppressed, now_s - e.last_emit_s};
  }
  const Verdict v{true, e.suppressed, now_s - e.last_emit_s};
  e.last_emit_s = now_s;
  e.suppressed = 0;
  return v;
}

std::string suppressed_note(std::uint64_t n, double since_s) {
  if (n == 0) return "";
  return " (" + std::to_string(n) + " similar line" + (n == 1 ? "" : "s") +
         " suppressed in the last " + std::to_string(std::lround(since_s)) + " s)";
}

}  // namespace prescale::core
