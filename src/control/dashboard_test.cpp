#include "control/dashboard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "bus/signing.h"
#include "control/daemon.h"
#include "control/web_assets.h"

namespace prescale::control {
namespace {

using nlohmann::json;

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("prescale-dashboard-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path) << text;
  return path.string();
}

ControllerConfig config(const std::string& policy, const std::string& extra = "") {
  const std::string keys = write_temp("keys.txt", "gw-1 " + std::string(64, 'a') + "\n");
  auto cfg = load_config(write_temp(
      "c.yaml", "policy: " + policy +
                    "\nscenario: seed\ntick_ms: 5000\nmin_executors: 1\nmax_executors: 10\n"
                    "initial_executors: 2\nmetrics_stale_ms: 20000\nsignal_stale_ms: 60000\n"
                    "scale_down_stabilization_ms: 15000\nkeys_file: " +
                    keys + "\nkafka:\n  bootstrap.servers: 127.0.0.1:9092\n" + extra));
  EXPECT_TRUE(cfg.ok()) << cfg.error().message;
  return *cfg;
}

std::unique_ptr<Controller> make(const std::string& policy) {
  auto c = make_controller(config(policy));
  EXPECT_TRUE(c.ok()) << c.error().message;
  return std::move(*c);
}

std::string progress(std::int64_t batch, double input_rps, double batch_ms, int executors) {
  bus::Progress p;
  p.app = "iot";
  p.batch_id = batch;
  p.input_rows_per_s = input_rps;
  p.processed_rows_per_s = input_rps;
  p.batch_duration_ms = batch_ms;
  p.num_input_rows = 10;
  p.executors_active = executors;
  return bus::encode(p);
}

std::string signal(const std::string& device, std::uint64_t seq, std::int64_t ts, bool burst,
                   double forecast) {
  bus::BurstSignal s;
  s.device = device;
  s.seq = seq;
  s.ts_ms = ts;
  s.horizon_s = 30;
  s.forecast = forecast;
  s.baseline = 100;
  s.burst = burst;
  s.confidence = burst ? 0.8 : 0;
  bus::sign(&s, std::vector<unsigned char>(32, 0xaa));
  return bus::encode(s);
}

constexpr std::int64_t kNow = 1'764'000'000'000;

TEST(Dashboard, ATickShowsWhatThePolicySawAndWhatWasCommanded) {
  auto c = make("hpa");
  ASSERT_TRUE(c->on_signal(signal("gw-1", 1, kNow, true, 4200), kNow));
  EXPECT_FALSE(c->on_signal(signal("gw-2", 1, kNow, true, 1e9), kNow));  // unknown device
  ASSERT_TRUE(c->on_progress(progress(1, 3000, 800, 2), kNow));
  const bus::ScaleTo cmd = c->tick(kNow + 1000);
  const TickView v = tick_view(*c, cmd, kNow + 1000);
  EXPECT_EQ(v.t_ms, kNow + 1000);
  EXPECT_EQ(v.seq, cmd.seq);
  EXPECT_TRUE(v.metrics_fresh);
  EXPECT_DOUBLE_EQ(v.input_rps, 3000);
  EXPECT_EQ(v.target, cmd.target_executors);
  EXPECT_EQ(v.active, 2);
  EXPECT_EQ(v.pending, std::max(0, cmd.target_executors - 2));
  EXPECT_TRUE(v.burst);
  EXPECT_DOUBLE_EQ(v.forecast_rps, 4200);
  EXPECT_EQ(v.reason, cmd.reason);
  ASSERT_EQ(v.gateways.size(), 1u);  // only accepted signals make a gateway
  EXPECT_EQ(v.gateways[0].device, "gw-1");
  EXPECT_TRUE(v.gateways[0].fresh);
  EXPECT_DOUBLE_EQ(v.gateways[0].age_s, 1.0);
  EXPECT_EQ(v.counters.signals[static_cast<int>(bus::Verdict::kUnknownDevice)], 1u);

  const json j = json::parse(to_json(v));
  EXPECT_EQ(j["target"], cmd.target_executors);
  EXPECT_EQ(j["gateways"][0]["device"], "gw-1");
  EXPECT_EQ(j["gateways"][0]["burst"], true);
  EXPECT_EQ(j["counters"]["signals"]["unknown_device"], 1);
  EXPECT_EQ(j["counters"]["signals"]["accepted"], 1);
  EXPECT_EQ(j["policy_reason"], cmd.reason.substr(0, cmd.reason.find(" (")));

  // 70 s later the signal is older than signal_stale_ms: shown, but marked stale.
  ASSERT_TRUE(c->on_progress(progress(2, 3000, 800, 2), kNow + 70'000));
  const TickView later = tick_view(*c, c->tick(kNow + 71'000), kNow + 71'000);
  ASSERT_EQ(later.gateways.size(), 1u);
  EXPECT_FALSE(later.gateways[0].fresh);
  EXPECT_FALSE(later.burst);
}

TEST(Dashboard, ATickWithoutFreshMetricsIsAHold) {
  auto c = make("hpa");
  const TickView v = tick_view(*c, c->tick(kNow), kNow);
  EXPECT_FALSE(v.metrics_fresh);
  EXPECT_EQ(v.target, 2);  // initial_executors
  const ReasonParts p = split_reason(v.reason, v.guards);
  EXPECT_EQ(p.controller.rfind("hold: waiting for the job's first metrics", 0), 0u) << v.reason;
  EXPECT_EQ(p.policy, "");
}

struct ReasonCase {
  const char* name;
  std::string reason;
  std::uint8_t guards;
  ReasonParts want;
};

class SplitReason : public testing::TestWithParam<ReasonCase> {};

TEST_P(SplitReason, SeparatesThePolicyTheEnvelopeAndTheController) {
  const ReasonCase& c = GetParam();
  SCOPED_TRACE(c.name);
  const ReasonParts p = split_reason(c.reason, c.guards);
  EXPECT_EQ(p.policy, c.want.policy);
  EXPECT_EQ(p.envelope, c.want.envelope);
  EXPECT_EQ(p.controller, c.want.controller);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SplitReason,
    testing::Values(ReasonCase{"a policy's own reason is the policy's",
                               "hpa: cpu above target",
                               0,
                               {"hpa: cpu above target", "", ""}},
                    ReasonCase{"a guard named by the reason is the envelope's",
                               "rl: guard: floor",
                               0,
                               {"rl", "floor", ""}},
                    ReasonCase{"the guard bits name every guard that applied",
                               "rl: guard: stabilise",
                               core::kGuardStabilise | core::kGuardDwell,
                               {"rl", "stabilise, dwell", ""}},
                    ReasonCase{"the controller's stabilisation is the controller's",
                               "seer: linear trend (scale-down stabilised at 3)",
                               0,
                               {"seer: linear trend", "", "scale-down stabilised at 3"}},
                    ReasonCase{"an envelope guard and the controller's stabilisation together",
                               "rl: guard: floor (scale-down stabilised at 4)",
                               core::kGuardFloor,
                               {"rl", "floor", "scale-down stabilised at 4"}},
                    ReasonCase{"a hold is the controller's alone",
                               "hold: no fresh metrics for 30000 ms",
                               0,
                               {"", "", "hold: no fresh metrics for 30000 ms"}}));

TickView at(std::int64_t t, int target, const std::string& reason, std::uint8_t guards = 0) {
  TickView v;
  v.t_ms = t;
  v.target = target;
  v.reason = reason;
  v.guards = guards;
  return v;
}

TEST(Dashboard, TheDecisionLogRecordsChangesOfTargetAndOfOverrideOnly) {
  DecisionLog log;
  auto e = log.on_tick(at(0, 2, "hold: no fresh metrics for 30000 ms"));
  ASSERT_TRUE(e);  // the first tick always
  EXPECT_EQ(e->from, 2);
  EXPECT_FALSE(log.on_tick(at(1, 2, "hold: no fresh metrics for 30000 ms")));
  e = log.on_tick(at(2, 2, "hpa: within tolerance or stabilised"));  // the hold ended
  ASSERT_TRUE(e);
  EXPECT_EQ(e->parts.controller, "");
  EXPECT_FALSE(log.on_tick(at(3, 2, "hpa: between syncs")));  // rewording: not an event
  e = log.on_tick(at(4, 4, "hpa: cpu above target"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->from, 2);
  EXPECT_EQ(e->to, 4);
  e = log.on_tick(at(5, 4, "rl: guard: floor", core::kGuardFloor));  // a guard starts
  ASSERT_TRUE(e);
  EXPECT_EQ(e->parts.envelope, "floor");
  EXPECT_FALSE(log.on_tick(at(6, 4, "rl: guard: floor", core::kGuardFloor)));
  e = log.on_tick(at(7, 4, "hpa: x (scale-down stabilised at 4)"));  // guard ends, stab. starts
  ASSERT_TRUE(e);
  EXPECT_EQ(e->parts.controller, "scale-down stabilised at 4");
  const json j = json::parse(to_json(*e));
  EXPECT_EQ(j["from"], 4);
  EXPECT_EQ(j["controller"], "scale-down stabilised at 4");
}

TEST(Dashboard, ParsesPrometheusTextWithLabelsAndNamesABadLine) {
  auto s = parse_prometheus(
      "# HELP a A.\n# TYPE a gauge\na 1.5\nb{x=\"1\",y=\"q\\\"uote\"} 2 1700000000\n"
      "c{} -3e2\n\n");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0].name, "a");
  EXPECT_DOUBLE_EQ((*s)[0].value, 1.5);
  EXPECT_EQ((*s)[1].labels.at("y"), "q\"uote");
  EXPECT_DOUBLE_EQ((*s)[1].value, 2);
  EXPECT_DOUBLE_EQ((*s)[2].value, -300);
  auto bad = parse_prometheus("a 1\nb{x=1} 2\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse_prometheus("a one\n").ok());
}

TEST(Dashboard, ReadsTheTierOccupancyFromTheTierServersMetrics) {
  auto v = parse_tier_metrics(
      "prescale_tier_objects{tier=\"redis\"} 3\nprescale_tier_objects{tier=\"nvme\"} 10\n"
      "prescale_tier_stored_bytes{tier=\"redis\"} 300\n"
      "prescale_tier_stored_bytes{tier=\"nvme\"} 12000\nprescale_tier_burst 1\n");
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->tiers.size(), 2u);
  EXPECT_EQ(v->tiers[0].tier, "redis");
  EXPECT_DOUBLE_EQ(v->tiers[1].bytes, 12000);
  EXPECT_DOUBLE_EQ(v->tiers[1].objects, 10);
  EXPECT_TRUE(v->burst);
  EXPECT_TRUE(v->ok);
  // Another server's metrics are not a tier store's.
  auto other = parse_tier_metrics("prescale_controller_ticks_total 3\n");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("no prescale_tier_"), std::string::npos);
}

// The frames a new page would get, as (type, data) pairs.
std::vector<std::pair<std::string, json>> replay(EventHub& hub) {
  auto sub = hub.subscribe();
  std::string text;
  EXPECT_TRUE(sub->next(&text, std::chrono::milliseconds(0)));
  hub.unsubscribe(sub);
  std::vector<std::pair<std::string, json>> out;
  static const std::regex frame("event: ([a-z]+)\ndata: ([^\n]*)\n\n");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), frame);
       it != std::sregex_iterator(); ++it)
    out.emplace_back((*it)[1], json::parse(std::string((*it)[2])));
  return out;
}

TEST(Dashboard, ANewPageGetsTheConfigTheTicksAndTheDecisionLog) {
  ControllerConfig cfg = config("hpa", "tier_metrics_url: http://127.0.0.1:9470/metrics\n");
  EXPECT_EQ(cfg.tier_metrics_url, "http://127.0.0.1:9470/metrics");
  Dashboard d(cfg);
  // An empty controller: only the config (the page says there is no data yet).
  d.start(kNow);
  auto frames = replay(d.hub());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].first, "config");
  EXPECT_EQ(frames[0].second["policy"], "hpa");
  EXPECT_EQ(frames[0].second["tier_metrics_url"], "http://127.0.0.1:9470/metrics");
  EXPECT_EQ(frames[0].second["started_ms"], kNow);

  d.on_status("running", "reading iot-metadata + iot-metrics");
  for (int i = 0; i < 5; ++i)
    d.on_tick(at(kNow + i * 5000, i < 3 ? 2 : 5, "hpa: cpu above target"));
  TierView t;
  t.ok = false;
  t.error = "unreachable";
  d.on_tier(t);
  frames = replay(d.hub());
  std::map<std::string, int> count;
  for (const auto& [type, data] : frames) ++count[type];
  EXPECT_EQ(count["config"], 1);
  EXPECT_EQ(count["status"], 1);
  EXPECT_EQ(count["tick"], 5);
  EXPECT_EQ(count["decision"], 2);  // the first tick, then 2 -> 5
  EXPECT_EQ(count["tier"], 1);
  EXPECT_EQ(frames.back().first, "tier");
  EXPECT_EQ(frames.back().second["error"], "unreachable");
}

TEST(Dashboard, KeepsOnlyTheLastHourOfTicksForNewPages) {
  Dashboard d(config("hpa"));
  for (size_t i = 0; i < kTickHistory + 50; ++i)
    d.on_tick(at(static_cast<std::int64_t>(i), 2, "hpa: between syncs"));
  size_t ticks = 0;
  for (const auto& e : d.hub().history()) ticks += e.type == "tick";
  EXPECT_EQ(ticks, kTickHistory);
}

TEST(Dashboard, ThePageIsSelfContainedAndTalksOnlyToItsOwnServer) {
  const std::string page = dashboard_page(config("hpa"));
  EXPECT_NE(page.find("uPlot " + std::string(assets::uplot_version())), std::string::npos);
  EXPECT_NE(page.find(std::string(assets::dashboard_js().substr(0, 200))), std::string::npos);
  EXPECT_NE(page.find("default-src 'none'; connect-src 'self';"), std::string::npos);
  EXPECT_NE(page.find("id=\"page-data\""), std::string::npos);
  // Nothing is fetched: no src= or href= attributes, no stylesheet links.
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_NE(page.find("MIT License"), std::string::npos);
}

TEST(Dashboard, PrometheusShowsWhatTheDashboardShows) {
  auto c = make("hpa");
  ASSERT_TRUE(c->on_signal(signal("gw-1", 1, kNow, true, 4200), kNow));
  ASSERT_TRUE(c->on_progress(progress(1, 3000, 800, 2), kNow));
  c->tick(kNow + 2000);
  const std::string m = c->prometheus();
  for (const char* line :
       {"prescale_controller_input_rps 3000\n", "prescale_controller_burst_signal 1\n",
        "prescale_controller_forecast_rps 4200\n",
        "prescale_controller_gateway_forecast_rps{device=\"gw-1\"} 4200\n",
        "prescale_controller_gateway_burst{device=\"gw-1\"} 1\n",
        "prescale_controller_gateway_signal_age_seconds{device=\"gw-1\"} 2\n",
        "prescale_controller_commands_total 1\n"})
    EXPECT_NE(m.find(line), std::string::npos) << line << " in\n" << m;
  EXPECT_TRUE(parse_prometheus(m).ok());
}

}  // namespace
}  // namespace prescale::control
