// Server-sent events (SSE) for the controller's dashboard, without any HTTP: what is kept
// for a page opened later, and what each connected page has still to read.
//
// The publisher (the tick loop) must never wait for a browser. So:
//   - each event type the page needs after the fact ("tick", "decision", "tier") keeps its
//     last N events in a ring (EventHub::keep); a new subscriber starts with all kept
//     events, in publication order, then receives what is published after it subscribed,
//     with no gap and no duplicate (both happen under one lock);
//   - each subscriber has a bounded queue of frames not yet written: publish() appends
//     and returns; a subscriber that has fallen more than `queue` frames behind (a page on
//     a stalled connection) is closed and dropped, and its reader sees the end of the stream
//     (the browser's EventSource reconnects and starts again from the kept history);
//   - at most `max_clients` subscribers at once (each holds an HTTP server thread).
//
// Thread-safe: publish() from one thread, Subscription::next() from one thread per
// subscriber (cpp-httplib's connection threads), anything else from anywhere.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace prescale::control {

struct Event {
  std::uint64_t id = 0;  // 1, 2, ... in publication order
  std::string type;      // the SSE event name ("tick")
  std::string data;      // the payload (JSON); may span lines
};

// The SSE wire form of one event: "id: N\nevent: TYPE\ndata: LINE\n...\n\n" (one data line
// per line of the payload, as the format requires).
std::string format_sse(const Event& e);

// A bounded first-in, first-out ring: the last `capacity` items pushed.
template <class T>
class Ring {
 public:
  explicit Ring(size_t capacity) : capacity_(capacity) {}
  void push(T item) {
    if (capacity_ == 0) return;
    if (items_.size() == capacity_) items_.pop_front();
    items_.push_back(std::move(item));
  }
  const std::deque<T>& items() const { return items_; }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::deque<T> items_;
};

class EventHub;

// One connected page. next() waits for frames; it returns false once the subscription is
// closed (dropped as too slow, or the hub shut down) and everything before was read.
class Subscription {
 public:
  // Appends every pending frame (SSE text) to *out; waits up to `wait` when there is none
  // (then *out is unchanged and the caller may send a keep-alive comment). False = closed.
  bool next(std::string* out, std::chrono::milliseconds wait);
  bool closed() const;
  // Whether the hub dropped this subscriber for falling behind.
  bool dropped() const;

 private:
  friend class EventHub;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> frames_;
  size_t limit_ = 0;  // frames beyond which the subscriber is too slow
  bool closed_ = false, dropped_ = false;
};

class EventHub {
 public:
  struct Options {
    size_t queue = 256;      // unread live frames per subscriber before it is dropped
    size_t max_clients = 8;  // concurrent subscribers
  };
  EventHub();
  explicit EventHub(Options options);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Keep the last `n` events of `type` for new subscribers (0 = none; the default).
  void keep(const std::string& type, size_t n);
  // Never blocks on a subscriber. Returns the event's id.
  std::uint64_t publish(const std::string& type, std::string data);
  // Null when max_clients are connected or the hub is shut down.
  std::shared_ptr<Subscription> subscribe();
  // Closes and forgets one subscriber (its page went away).
  void unsubscribe(const std::shared_ptr<Subscription>& s);
  // Closes every subscriber and refuses new ones (before stopping the HTTP server).
  void shutdown();

  // The kept events of every type, in publication order.
  std::vector<Event> history() const;
  size_t clients() const;
  std::uint64_t dropped_total() const;  // subscribers dropped for falling behind

 private:
  std::vector<Event> history_locked() const;

  Options opt_;
  mutable std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::map<std::string, Ring<Event>> kept_;
  std::vector<std::shared_ptr<Subscription>> subs_;
  std::uint64_t dropped_ = 0;
  bool shut_ = false;
};

}  // namespace prescale::control
