// `prescale tier serve`: the store behind a small HTTP API on loopback, plus the
// background migrator.
//
//   PUT    /objects/KEY      body = the object        -> 204 (400 bad key, 413 over
//                                                        http.max_body_mb, 507 every tier failed)
//   GET    /objects/KEY                               -> 200 body | 404 (chunked, streamed,
//                                                        over http.body_buffer_kb)
//   HEAD   /objects/KEY                               -> 200 with X-Object-Size | 404
//   DELETE /objects/KEY                               -> 204
//   GET    /objects?prefix=P                          -> 200, one key per line
//   GET    /stats                                     -> 200 JSON (StoreStats::to_json)
//   POST   /burst?on=1|0                              -> 204 (burst mode on/off)
//   GET    /metrics                                   -> Prometheus text
//   GET    /healthz                                   -> 200 "ok"
//
// Every error answer is {"error": "..."}. Limits (TierConfig): http.threads connections at
// once, http.timeout_s per read/write, bodies up to http.max_body_mb, one Content-Length.
// A PUT body past http.body_buffer_kb is spooled to a file as it arrives (tier/body.h).
//
// The migrator thread calls TieredStore::tick() every tick_ms; its errors are logged to
// stderr (never secrets) and it carries on.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "tier/config.h"

namespace prescale::tier {

// Recovers the store, then serves until `stop` is set. A port already taken is an error.
core::Status serve(const TierConfig& config, TieredStore* store, const std::atomic<bool>& stop);

// The HTTP API served in memory, without a socket: the same routes and limits as serve()'s,
// over connections given as raw bytes. No recovery, no migrator. Built once (the routes
// are compiled then), it serves any number of connections, one at a time. For the request
// path's fuzz target (fuzz/tier_http_fuzz.cpp) and tests. Not thread-safe.
class InProcessServer {
 public:
  InProcessServer(const TierConfig& config, TieredStore* store);
  ~InProcessServer();
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  // Serves one client connection: the requests in `request` (raw HTTP/1.1 bytes, keep-alive
  // requests one after another, at most kMaxRequestsPerConnection) until the bytes run out
  // or the connection closes; returns the raw bytes answered.
  static constexpr int kMaxRequestsPerConnection = 16;
  std::string serve(std::string_view request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescale::tier
