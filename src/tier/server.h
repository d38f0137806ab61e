// `prescale tier serve`: the store behind a small HTTP API on loopback, plus the
// background migrator.
//
//   PUT    /objects/KEY      body = the object        -> 204 (400 bad key, 413 over
//                                                        http.max_body_mb, 507 every tier failed)
//   GET    /objects/KEY                               -> 200 body | 404
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
//
// The migrator thread calls TieredStore::tick() every tick_ms; its errors are logged to
// stderr (never secrets) and it carries on.
#pragma once

#include <atomic>

#include "core/result.h"
#include "tier/config.h"

namespace prescale::tier {

// Recovers the store, then serves until `stop` is set. A port already taken is an error.
core::Status serve(const TierConfig& config, TieredStore* store, const std::atomic<bool>& stop);

}  // namespace prescale::tier
