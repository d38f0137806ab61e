// The controller's live dashboard (`/` on its HTTP port, docs/controller.md): what a tick
// shows, the decision log, the tier store's occupancy, and the page. The daemon
// (control/daemon.cpp) feeds a Dashboard after every tick and every tier poll; the page
// reads it as server-sent events from `/events` (control/event_stream.h):
//
//   config    once: the policy, bounds, tick, SLA, whether a tier server is configured;
//   status    the daemon's state: "connecting" (to Kafka, with the error) or "running",
//             and its role in the job's lease ("active" or "standby", control/lease.h);
//   tick      every tick (TickView as JSON; the last kTickHistory are kept for new pages);
//   decision  when the target changes or an override starts or ends (the last
//             kDecisionHistory are kept);
//   tier      every poll of the tier server's /metrics (the last kTierHistory are kept).
//
// Everything here is pure or owns its state; nothing touches a socket.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/messages.h"
#include "control/controller.h"
#include "control/event_stream.h"
#include "core/result.h"

namespace prescale::control {

inline constexpr size_t kTickHistory = 720;  // an hour of 5 s ticks
inline constexpr size_t kDecisionHistory = 200;
inline constexpr size_t kTierHistory = 360;

struct GatewayView {
  std::string device;
  double forecast_rps = 0, baseline_rps = 0, horizon_s = 0, confidence = 0;
  bool burst = false;
  bool fresh = false;  // within signal_stale_ms: the observation counts it
  double age_s = 0;    // since the controller accepted it
};

// One tick as the dashboard shows it.
struct TickView {
  std::int64_t t_ms = 0;  // the tick's wall clock, ms since the epoch
  std::uint64_t seq = 0;  // the command's
  bool metrics_fresh = false;
  double input_rps = 0, processed_rps = 0;
  double forecast_rps = 0;  // the fresh gateways' sum
  bool burst = false;       // any fresh gateway
  int target = 0, active = 0, pending = 0;
  double latency_ms = 0, batch_ms = 0, busy = 0, sla_ms = 0;
  std::string tier;                   // the commanded shuffle tier
  std::string reason;                 // the command's
  std::uint8_t guards = 0;            // the policy's envelope guards (core::kGuard*)
  std::vector<GatewayView> gateways;  // every gateway with an accepted signal
  ControllerStats counters;           // signals by verdict, progress, holds
};

// What the last tick (which returned `cmd` at now_ms) showed.
TickView tick_view(const Controller& c, const bus::ScaleTo& cmd, std::int64_t now_ms);
std::string to_json(const TickView& v);

// A command's reason in its parts: the policy's own words, the safety envelope's override
// (policy/envelope.h: "floor", "stabilise", "dwell"; several when the guard bits say so)
// and the controller's own stage ("scale-down stabilised at 3", "hold: no fresh metrics
// for 30000 ms"). E.g. "rl: guard: floor" -> {"rl", "floor", ""};
// "hpa: cpu above target (scale-down stabilised at 3)" -> {"hpa: cpu above target", "",
// "scale-down stabilised at 3"}.
struct ReasonParts {
  std::string policy, envelope, controller;
};
ReasonParts split_reason(std::string_view reason, std::uint8_t guards = 0);

struct DecisionEntry {
  std::int64_t t_ms = 0;
  int from = 0, to = 0;  // the target before and after
  std::string reason;
  ReasonParts parts;
};
std::string to_json(const DecisionEntry& e);

// `kubectl describe hpa`'s events for the controller: an entry when the target changes,
// or when an override (an envelope guard, the controller's stabilisation, a hold on stale
// metrics) starts or ends — not when a policy merely rewords its reason between ticks.
class DecisionLog {
 public:
  std::optional<DecisionEntry> on_tick(const TickView& v);

 private:
  bool first_ = true;
  int target_ = 0;
  std::string override_;  // the envelope and the controller's stage, as a key
};

// The tier store's occupancy per tier, from the tier server's Prometheus text
// (`prescale tier serve` /metrics: prescale_tier_objects / _stored_bytes{tier=...},
// prescale_tier_burst; tier/tiered_store.cpp).
struct TierUsage {
  std::string tier;
  double objects = 0, bytes = 0;
};
struct TierView {
  std::int64_t t_ms = 0;
  std::string url;
  bool ok = false;
  std::string error;  // when !ok: why the poll failed
  std::vector<TierUsage> tiers;
  bool burst = false;
};
core::Result<TierView> parse_tier_metrics(const std::string& prometheus_text);
std::string to_json(const TierView& v);

// One sample of Prometheus text exposition: name{label="value",...} value.
struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};
// The samples of a Prometheus text body (comments skipped); an error names the line.
core::Result<std::vector<PromSample>> parse_prometheus(const std::string& text);

// The page's static facts (the "config" event).
std::string config_json(const ControllerConfig& cfg, std::int64_t started_ms);

// The dashboard's state between the daemon and the pages.
class Dashboard {
 public:
  explicit Dashboard(const ControllerConfig& cfg, EventHub::Options options = {});
  EventHub& hub() { return hub_; }
  void start(std::int64_t now_ms);  // publishes "config"
  void on_tick(const TickView& v);  // "tick", and "decision" on a change
  void on_tier(const TierView& v);  // "tier"
  // "status": state "connecting" (detail: why Kafka is not reachable yet) or "running";
  // when the lease is known, role "active" or "standby" and the lease's one-line
  // description (Lease::describe(): the epoch, or who holds the lease).
  void on_status(const std::string& state, const std::string& detail, const std::string& role = "",
                 const std::string& lease = "");

 private:
  ControllerConfig cfg_;
  EventHub hub_;
  DecisionLog log_;
};

// The page (self-contained: uPlot and its script inlined; it connects only to /events on
// its own origin).
std::string dashboard_page(const ControllerConfig& cfg);

}  // namespace prescale::control
