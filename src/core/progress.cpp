#include "core/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace prescale::core {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const long s = std::lround(seconds);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%lds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  }
  return buf;
}

Progress::Progress(Options options) : opt_(std::move(options)) {
  if (!opt_.out) opt_.out = stderr;
  tty_ = opt_.tty >= 0 ? opt_.tty == 1 : ::isatty(::fileno(opt_.out)) == 1;
  if (opt_.width <= 0) {
    winsize ws{};
    opt_.width = tty_ && ::ioctl(::fileno(opt_.out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10
                     ? ws.ws_col
                     : 100;
  }
  start_ = last_done_at_ = now();
  if (tty_ && opt_.refresh_s > 0) {
    refresher_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!quit_) {
        cv_.wait_for(lock, std::chrono::duration<double>(opt_.refresh_s));
        if (!quit_ && shown_) draw_locked();
      }
    });
  }
}

Progress::~Progress() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
    clear_locked();
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

double Progress::now() const {
  if (opt_.clock) return opt_.clock();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Progress::begin(int index, const std::string& label) {
  std::lock_guard<std::mutex> lock(mu_);
  index_ = index;
  label_ = label;
  fraction_ = 0;
  draw_locked();
}

void Progress::fraction(double f) {
  std::lock_guard<std::mutex> lock(mu_);
  fraction_ = std::clamp(f, 0.0, 1.0);
  draw_locked();
}

void Progress::done(const std::string& summary) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ = std::max(done_ + 1, index_);
  last_done_at_ = now();
  fraction_ = 0;
  clear_locked();
  if (!summary.empty()) std::fprintf(opt_.out, "%s\n", summary.c_str());
  std::fflush(opt_.out);
  draw_locked();
}

void Progress::line(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  clear_locked();
  std::fprintf(opt_.out, "%s\n", text.c_str());
  std::fflush(opt_.out);
  draw_locked();
}

std::optional<double> Progress::eta_s() const {
  std::lock_guard<std::mutex> lock(mu_);
  return eta_locked();
}

std::optional<double> Progress::eta_locked() const {
  if (opt_.total <= 0) return std::nullopt;
  const bool running = index_ > done_;
  if (running && fraction_ <= 0 && done_ > 0) {
    // A step under way with no fraction: the mean step time for what is left, less what
    // the running step has already taken (but never below the steps after it).
    const double per_step = (last_done_at_ - start_) / done_;
    const double left = opt_.total - done_;
    return std::max(per_step * (left - 1), per_step * left - (now() - last_done_at_));
  }
  // Work done: finished steps, plus the running one's fraction.
  const double work = running ? index_ - 1 + fraction_ : done_;
  if (work <= 0) return std::nullopt;
  const double elapsed = now() - start_;
  return std::max(0.0, elapsed / work * (opt_.total - work));
}

std::string Progress::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_locked();
}

std::string Progress::status_locked() const {
  std::string s = opt_.what;
  if (index_ > 0) {
    s += opt_.total > 0 ? " [" + std::to_string(index_) + "/" + std::to_string(opt_.total) + "]"
                        : " [" + std::to_string(index_) + "]";
  }
  if (!label_.empty()) s += " " + label_;
  s += ": " + format_duration(now() - start_) + " elapsed";
  if (const auto eta = eta_locked()) s += ", ETA ~" + format_duration(*eta);
  return s;
}

void Progress::draw_locked() {
  if (!tty_) return;
  std::string s = status_locked();
  const size_t width = static_cast<size_t>(std::max(10, opt_.width - 1));
  if (s.size() > width) s = s.substr(0, width - 1) + "~";
  std::fprintf(opt_.out, "\r%s\033[K", s.c_str());
  std::fflush(opt_.out);
  shown_ = true;
}

void Progress::clear_locked() {
  if (!tty_ || !shown_) return;
  std::fprintf(opt_.out, "\r\033[K");
  std::fflush(opt_.out);
  shown_ = false;
}

}  // namespace prescale::core
