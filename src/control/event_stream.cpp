#include "control/event_stream.h"

#include <algorithm>

namespace prescale::control {

std::string format_sse(const Event& e) {
  std::string out = "id: " + std::to_string(e.id) + "\nevent: " + e.type + "\n";
  size_t at = 0;
  while (true) {
    const size_t nl = e.data.find('\n', at);
    out += "data: ";
    out.append(e.data, at, nl == std::string::npos ? std::string::npos : nl - at);
    out += "\n";
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  out += "\n";
  return out;
}

bool Subscription::next(std::string* out, std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  if (frames_.empty() && !closed_)
    cv_.wait_for(lock, wait, [&] { return !frames_.empty() || closed_; });
  if (frames_.empty()) return !closed_;
  for (auto& f : frames_) *out += f;
  frames_.clear();
  return true;
}

bool Subscription::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

bool Subscription::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

EventHub::EventHub() : EventHub(Options{}) {}
EventHub::EventHub(Options options) : opt_(options) {}
EventHub::~EventHub() { shutdown(); }

void EventHub::keep(const std::string& type, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  kept_.insert_or_assign(type, Ring<Event>(n));
}

std::uint64_t EventHub::publish(const std::string& type, std::string data) {
  std::lock_guard<std::mutex> lock(mu_);
  Event e{next_id_++, type, std::move(data)};
  const std::string frame = format_sse(e);
  for (auto it = subs_.begin(); it != subs_.end();) {
    Subscription& s = **it;
    bool drop = false;
    {
      std::lock_guard<std::mutex> sl(s.mu_);
      if (s.frames_.size() >= s.limit_) {
        // Too slow: drop it rather than buffer without bound or wait for it.
        s.closed_ = s.dropped_ = true;
        s.frames_.clear();
        drop = true;
      } else {
        s.frames_.push_back(frame);
      }
    }
    s.cv_.notify_all();
    if (drop) {
      ++dropped_;
      it = subs_.erase(it);
    } else {
      ++it;
    }
  }
  const std::uint64_t id = e.id;
  if (auto k = kept_.find(type); k != kept_.end()) k->second.push(std::move(e));
  return id;
}

std::vector<Event> EventHub::history() const {
  std::lock_guard<std::mutex> lock(mu_);
  return history_locked();
}

std::vector<Event> EventHub::history_locked() const {
  std::vector<Event> out;
  for (const auto& [type, ring] : kept_)
    out.insert(out.end(), ring.items().begin(), ring.items().end());
  std::sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.id < b.id; });
  return out;
}

std::shared_ptr<Subscription> EventHub::subscribe() {
  // History and registration under one lock: no event is missed or sent twice.
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_ || subs_.size() >= opt_.max_clients) return nullptr;
  auto s = std::make_shared<Subscription>();
  for (const auto& e : history_locked()) s->frames_.push_back(format_sse(e));
  s->limit_ = s->frames_.size() + opt_.queue;
  subs_.push_back(s);
  return s;
}

void EventHub::unsubscribe(const std::shared_ptr<Subscription>& s) {
  if (!s) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    subs_.erase(std::remove(subs_.begin(), subs_.end(), s), subs_.end());
  }
  {
    std::lock_guard<std::mutex> sl(s->mu_);
    s->closed_ = true;
  }
  s->cv_.notify_all();
}

void EventHub::shutdown() {
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shut_ = true;
    subs.swap(subs_);
  }
  for (auto& s : subs) {
    {
      std::lock_guard<std::mutex> sl(s->mu_);
      s->closed_ = true;
    }
    s->cv_.notify_all();
  }
}

size_t EventHub::clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subs_.size();
}

std::uint64_t EventHub::dropped_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

}  // namespace prescale::control
