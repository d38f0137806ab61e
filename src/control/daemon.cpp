#include "control/daemon.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "control/dashboard.h"
#include "control/lease.h"
#include "core/clock.h"
#include "core/log.h"
#include "policy/registry.h"
#include "sim/scenario.h"

namespace prescale::control {

namespace {

using core::wall_ms;

void log_line(const std::string& msg) { core::log_info("controller", msg); }
void log_warning(const std::string& msg) { core::log_warn("controller", msg); }

// The dashboard's routes: the page at / and its server-sent events at /events. A page
// holds one server thread while connected; the hub bounds how many and drops slow ones.
void add_dashboard_routes(httplib::Server& http, Dashboard& dash, const std::string& page) {
  http.Get("/", [&page](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(page, "text/html; charset=utf-8");
  });
  http.Get("/events", [&dash](const httplib::Request&, httplib::Response& res) {
    auto sub = dash.hub().subscribe();
    if (!sub) {
      res.status = 503;
      res.set_content("too many dashboard pages are open\n", "text/plain");
      return;
    }
    res.set_header("Cache-Control", "no-store");
    auto first = std::make_shared<bool>(true);
    res.set_chunked_content_provider(
        "text/event-stream",
        [sub, first](size_t, httplib::DataSink& sink) {
          // The browser reconnects 2 s after the stream ends (a dropped page starts over).
          std::string frames = *first ? "retry: 2000\n\n" : "";
          *first = false;
          if (!sub->next(&frames, std::chrono::seconds(10))) return false;
          if (frames.empty()) frames = ": keep-alive\n\n";
          return sink.write(frames.data(), frames.size());
        },
        [sub, &dash](bool) { dash.hub().unsubscribe(sub); });
  });
}

// "http://HOST:PORT/PATH" -> {"http://HOST:PORT", "/PATH"} (load_config checked the scheme).
std::pair<std::string, std::string> split_url(const std::string& url) {
  const size_t slash = url.find('/', 7);
  if (slash == std::string::npos) return {url, "/metrics"};
  return {url.substr(0, slash), url.substr(slash)};
}

// Polls the tier server's /metrics every max(tick, 1 s) until `quit`; each result (or the
// reason there is none) goes to the dashboard.
void poll_tier(const std::string& url, std::int64_t tick_ms, Dashboard& dash,
               const std::atomic<bool>& quit) {
  const auto [base, path] = split_url(url);
  httplib::Client cli(base);
  cli.set_connection_timeout(1, 0);
  cli.set_read_timeout(2, 0);
  const std::int64_t period = std::max<std::int64_t>(1000, tick_ms);
  while (!quit) {
    TierView v;
    auto res = cli.Get(path.c_str());
    if (!res) {
      v.error = "unreachable (" + httplib::to_string(res.error()) + ")";
    } else if (res->status != 200) {
      v.error = "HTTP " + std::to_string(res->status);
    } else if (auto parsed = parse_tier_metrics(res->body); parsed.ok()) {
      v = *parsed;
    } else {
      v.error = parsed.error().message;
    }
    v.t_ms = wall_ms();
    v.url = url;
    dash.on_tier(v);
    for (std::int64_t waited = 0; waited < period && !quit; waited += 50)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// ---------------------------------------------------------------------------------------
// The daemon's chores, as Redis's serverCron lists its own. Each pass of the loop runs:
//
//   1. serve_lease()   the lease's heartbeats, rebalances and role (control/lease.h); a
//                      revoked or lost lease stops the commands before the next tick;
//   2. run_tick()      when tick_ms has passed: Controller::tick (observe -> decide ->
//                      envelope -> act), the command published by the lease holder only,
//                      the dashboard's view, a log line on a new target or every 30 s;
//   3. read_message()  otherwise: one control-plane message, waiting until the next tick
//                      (100 ms at most): a signal, a progress (and what the job disagrees
//                      with, logged once), a holder's command (a standby follows it); the
//                      epochs in progress and commands are the lease's evidence.
//
// Before the loop, once (run_controller): HttpSide::start(), wait_for_kafka() (with backoff:
// the job keeps its scale; /healthz says 503), connect_control_plane() (the topics, the
// clients, joining the lease group). Beside the loop, on HttpSide's threads: the HTTP server
// (/metrics, /healthz, the dashboard) and poll_tier() (the tier server's /metrics every
// max(tick, 1 s)). Every time the loop reads comes from `clock` (ms), the one it was given.
struct Chores {
  Chores(const ControllerConfig& cfg_, Controller* c_, std::mutex& mu_, std::atomic<bool>& healthy_,
         Dashboard& dash_, bus::Producer& producer_, bus::Consumer& consumer_, Lease& lease_,
         const Clock& clock_)
      : cfg(cfg_),
        c(c_),
        mu(mu_),
        healthy(healthy_),
        dash(dash_),
        producer(producer_),
        consumer(consumer_),
        lease(lease_),
        clock(clock_) {}

  const ControllerConfig& cfg;
  Controller* c;
  std::mutex& mu;  // guards *c between the loop and the HTTP threads
  std::atomic<bool>& healthy;
  Dashboard& dash;
  bus::Producer& producer;
  bus::Consumer& consumer;
  Lease& lease;
  const Clock& clock;
  std::string role;  // the lease's, as last published
  std::int64_t next_tick = 0;
  int last_target = -1;
  std::int64_t last_log = 0;
  std::int64_t last_error_log = 0;
  std::uint64_t failed_logged = 0;  // expired commands already logged
  std::int64_t last_drop_log = 0;

  // Chore 1.
  void serve_lease(int timeout_ms) {
    for (const auto& line : lease.poll(timeout_ms, clock())) log_line(line);
    const std::string now_role = lease.describe();
    if (now_role == role) return;
    role = now_role;
    const auto& h = lease.holder();
    {
      std::lock_guard<std::mutex> lock(mu);
      c->set_lease({lease.active(), lease.epoch(), h ? h->epoch : 0, role});
    }
    dash.on_status("running",
                   "reading " + cfg.metadata_topic + " + " + cfg.metrics_topic + ", " +
                       (lease.active() ? "commanding " : "following ") + cfg.control_topic,
                   lease.active() ? "active" : "standby", role);
  }

  // Chore 2.
  void run_tick(std::int64_t now) {
    const auto t0 = std::chrono::steady_clock::now();
    bus::ScaleTo cmd;
    TickView view;
    {
      std::lock_guard<std::mutex> lock(mu);
      cmd = c->tick(now);
      healthy = c->stats().metrics_fresh;
      view = tick_view(*c, cmd, now);
    }
    dash.on_tick(view);
    // Only the lease holder commands, with the epoch it holds now.
    const bool acting = lease.active() && cmd.epoch == lease.epoch();
    if (acting) publish(cmd, now);
    if (acting && (cmd.target_executors != last_target || now - last_log >= 30'000))
      log_command(cmd, now);
    if (!acting) last_target = -1;  // log the first command after taking the lease
    {
      std::lock_guard<std::mutex> lock(mu);
      c->set_tick_duration_ms(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    next_tick += cfg.tick_ms;
    if (next_tick <= now) next_tick = now + cfg.tick_ms;  // fell behind: no burst of ticks
  }

  void publish(const bus::ScaleTo& cmd, std::int64_t now) {
    auto st = producer.send(cfg.control_topic, "controller", bus::encode(cmd), 100);
    if (!st.ok() && now - last_error_log > 10'000) {
      log_warning(st.message() + " (the job keeps its scale; retrying)");
      last_error_log = now;
    }
    if (const std::uint64_t failed = producer.failed();
        failed > failed_logged && now - last_drop_log >= 10'000) {
      log_warning(std::to_string(failed - failed_logged) +
                  " command(s) not delivered within the lease session (" +
                  std::to_string(cfg.lease_session_timeout_ms) +
                  " ms), dropped: " + producer.last_error());
      failed_logged = failed;
      last_drop_log = now;
    }
  }

  // A line when the target changes, else one every 30 s (reasons change every tick), with
  // what the policy saw, so a decision can be argued with from the log alone.
  void log_command(const bus::ScaleTo& cmd, std::int64_t now) {
    last_log = now;
    core::Observation o;
    {
      std::lock_guard<std::mutex> lock(mu);
      o = c->last_observation();
    }
    char seen[256];
    std::snprintf(seen, sizeof seen,
                  " [input %.0f/s, busy %.2f, latency %.0f ms, executors %d+%d, edge %s "
                  "forecast %.0f/s in %.0f s]",
                  o.input_rps, o.busy_fraction, o.latency_ms, o.active_executors,
                  o.pending_executors, o.burst_signal ? "BURST" : "calm", o.forecast_rps,
                  o.forecast_horizon_s);
    log_line("scale_to " + std::to_string(cmd.target_executors) + " (seq " +
             std::to_string(cmd.seq) + ", epoch " + std::to_string(cmd.epoch) + "): " + cmd.reason +
             seen);
    last_target = cmd.target_executors;
  }

  // Chore 3.
  void read_message(std::int64_t now) {
    auto m = consumer.poll(static_cast<int>(std::min<std::int64_t>(next_tick - now, 100)));
    producer.poll(0);
    if (!m.ok()) {
      if (now - last_error_log > 10'000) {
        log_warning(m.error().message + " (retrying)");
        last_error_log = now;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return;
    }
    if (!m->has_value()) return;
    const bus::Message& msg = **m;
    std::lock_guard<std::mutex> lock(mu);
    if (msg.topic == cfg.metadata_topic) {
      c->on_signal(msg.payload, clock());
    } else if (msg.topic == cfg.metrics_topic) {
      // The epoch the plugin applies: evidence for the lease (a recreated lease topic).
      if (c->on_progress(msg.payload, clock()))
        lease.observe_epoch(c->last_progress()->lease_epoch, now);
      // The job disagreeing with the configuration (its bounds, its batching): said once.
      for (const auto& line : c->take_notices()) log_warning(line);
    } else {  // the control topic
      if (auto cmd = bus::decode_scale_to(msg.payload); cmd.ok())
        lease.observe_epoch(cmd->epoch, now);
      if (!lease.active()) c->on_command(msg.payload);  // a standby follows the holder
    }
  }
};

// The daemon's HTTP side: /metrics, /healthz and the dashboard, served on a thread of its own,
// and the tier server's poller (poll_tier). Stopped and joined when it goes out of scope, so
// every return of run_controller() ends the threads it started.
class HttpSide {
 public:
  explicit HttpSide(Dashboard& dash) : dash_(dash) {}
  HttpSide(const HttpSide&) = delete;
  HttpSide& operator=(const HttpSide&) = delete;
  ~HttpSide() {
    quit_pollers_ = true;
    if (tier_thread_.joinable()) tier_thread_.join();
    dash_.hub().shutdown();  // ends every page's stream, so the server's threads can finish
    if (http_thread_.joinable()) {
      http_.stop();
      http_thread_.join();
    }
  }

  // Binds http_listen:http_port (none for port 0) and starts serving; an error if the port
  // cannot be bound (a configuration error: retrying would not cure it).
  core::Status start(const ControllerConfig& cfg, Controller* c, std::mutex& mu,
                     const std::atomic<bool>& healthy) {
    if (cfg.http_port <= 0) return {};
    page_ = dashboard_page(cfg);
    // Dashboard pages each hold a thread; /metrics and /healthz keep the rest.
    http_.new_task_queue = [] { return new httplib::ThreadPool(16); };
    // An exclusive bind: SO_REUSEADDR (a restart need not wait out TIME_WAIT) but not
    // cpp-httplib's default SO_REUSEPORT, with which a second controller on this host would
    // bind the same port and the kernel would share the connections between the two.
    http_.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    add_dashboard_routes(http_, dash_, page_);
    http_.Get("/metrics", [c, &mu](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      res.set_content(c->prometheus(), "text/plain; version=0.0.4");
    });
    http_.Get("/healthz", [c, &mu, &healthy](const httplib::Request&, httplib::Response& res) {
      const bool ok = healthy;
      std::string role;
      {
        std::lock_guard<std::mutex> lock(mu);
        role = c->lease().role;
      }
      res.status = ok ? 200 : 503;
      res.set_content(
          (ok ? "ok" : "kafka unreachable or metrics stale") + std::string("; ") + role + "\n",
          "text/plain");
    });
    if (!http_.bind_to_port(cfg.http_listen.c_str(), cfg.http_port))
      return core::Error{"http: cannot listen on " + cfg.http_listen + ":" +
                         std::to_string(cfg.http_port) +
                         " (in use: another controller on this host? give each its own "
                         "http.port in " +
                         cfg.source + ", or port 0 for none)"};
    http_thread_ = std::thread([this] { http_.listen_after_bind(); });
    log_line("dashboard, /metrics and /healthz on http://" + cfg.http_listen + ":" +
             std::to_string(cfg.http_port) + "/");
    if (!cfg.tier_metrics_url.empty())
      tier_thread_ = std::thread([this, url = cfg.tier_metrics_url, tick_ms = cfg.tick_ms] {
        poll_tier(url, tick_ms, dash_, quit_pollers_);
      });
    return {};
  }

 private:
  Dashboard& dash_;
  std::string page_;
  httplib::Server http_;
  std::thread http_thread_;
  std::thread tier_thread_;
  std::atomic<bool> quit_pollers_{false};
};

// Waits for a Kafka broker, with backoff from 200 ms to 10 s; meanwhile the job keeps its scale
// and the dashboard says why. False if stopped first.
bool wait_for_kafka(const ControllerConfig& cfg, const std::atomic<bool>& stop, Dashboard& dash) {
  int backoff_ms = 200;
  while (!stop) {
    auto n = bus::probe(cfg.kafka, 2000);
    if (n.ok()) return true;
    log_warning(n.error().message + "; retrying in " + std::to_string(backoff_ms) + " ms");
    dash.on_status("connecting", n.error().message);
    for (int i = 0; i < backoff_ms / 50 && !stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    backoff_ms = std::min(backoff_ms * 2, 10'000);
  }
  return false;
}

// The control plane's clients, once a broker answers: the topics, a consumer of signals,
// progress and (a standby follows the holder) commands, the command producer, and the lease.
struct ControlPlane {
  std::unique_ptr<bus::Consumer> consumer;
  std::unique_ptr<bus::Producer> producer;
  std::unique_ptr<Lease> lease;  // declared last: it leaves the group before the clients close
};

core::Result<ControlPlane> connect_control_plane(const ControllerConfig& cfg, bool* config_error) {
  if (auto st = bus::ensure_topics(
          cfg.kafka, {{cfg.metadata_topic, 1}, {cfg.metrics_topic, 1}, {cfg.control_topic, 1}},
          10'000);
      !st.ok())
    return st.error();
  ControlPlane plane;
  auto consumer = bus::Consumer::create(cfg.kafka, bus::Plane::kControl,
                                        {cfg.metadata_topic, cfg.metrics_topic, cfg.control_topic},
                                        bus::StartAt::kLatest);
  if (!consumer.ok()) return consumer.error();
  plane.consumer = std::move(*consumer);
  // A command the broker has not taken within one lease session is dropped, not delivered
  // late: by then the lease that stamped it has lapsed, and the tick that follows the
  // broker's return sends a fresh one (librdkafka's default would deliver, after a short
  // outage, the targets decided before it, ahead of the new ones). A kafka: setting wins.
  bus::KafkaProps command_props = cfg.kafka;
  command_props.emplace("message.timeout.ms", std::to_string(cfg.lease_session_timeout_ms));
  auto producer = bus::Producer::create(command_props, bus::Plane::kControl);
  if (!producer.ok()) return producer.error();
  plane.producer = std::move(*producer);
  // One controller per job: the lease (control/lease.h).
  auto link = make_kafka_lease_link(cfg, config_error);
  if (!link.ok()) return link.error();
  const std::string id = controller_id(cfg);
  plane.lease = std::make_unique<Lease>(std::move(*link),
                                        bus::LeaseRecord{id, lease_group(cfg), cfg.policy, 0},
                                        cfg.lease_session_timeout_ms);
  log_line("controller " + id + ": joining the lease group " + lease_group(cfg) + " (topic " +
           lease_topic(cfg) + ", session timeout " + std::to_string(cfg.lease_session_timeout_ms) +
           " ms, heartbeat " + std::to_string(cfg.lease_heartbeat_interval_ms) + " ms)");
  return plane;
}

}  // namespace

core::Result<std::unique_ptr<Controller>> make_controller(const ControllerConfig& cfg) {
  // Every error names the field it blames and the line that set it (file:line: field).
  if (!is_live_policy(cfg.policy))
    return core::Error{cfg.where("policy") + ": got " + core::echo(cfg.policy) +
                       ", expected one of: " + live_policy_list() +
                       (cfg.policy == "oracle" ? " (the oracle needs the future)" : "")};
  // Properties that are each valid may still not make a client (an unreadable CA file):
  // a configuration error, which retrying in run_controller() could never cure.
  if (core::Status st = bus::check_props(cfg.kafka); !st.ok())
    return core::Error{cfg.line_of("kafka") + ": " + st.message()};
  auto scenario = sim::load_scenario(cfg.scenario);
  if (!scenario.ok()) return core::Error{cfg.where("scenario") + ": " + scenario.error().message};
  scenario->step_s = static_cast<double>(cfg.tick_ms) / 1000.0;
  // The policy for given bounds: the configuration's now, the job's once it publishes them.
  // Its records_per_message (KEDA counts lag in messages) is the factor the controller
  // converts with (JobFacts::readings), so the two conversions cancel.
  auto factory = [scenario = *scenario, cfg](
                     int min_executors, int max_executors,
                     double readings_per_message) -> core::Result<std::unique_ptr<policy::Policy>> {
    sim::Scenario s = scenario;
    s.cluster.min_executors = min_executors;
    s.cluster.max_executors = max_executors;
    s.context = cfg.context;  // the business context sets the envelope's default window
    s.cluster.records_per_message =
        std::max(1, static_cast<int>(std::lround(readings_per_message)));
    auto p = policy::make_policy(cfg.policy, s, nullptr);
    if (!p.ok()) return core::Error{cfg.where("policy") + ": " + p.error().message};
    return std::move(*p);
  };
  auto p = factory(cfg.min_executors, cfg.max_executors, cfg.records_per_message);
  if (!p.ok()) return p.error();
  auto keys = bus::KeyRing::load(cfg.keys_file);
  if (!keys.ok()) return core::Error{cfg.where("keys_file") + ": " + keys.error().message};
  ControllerConfig c = cfg;
  if (c.sla_ms <= 0) c.sla_ms = scenario->latency.sla_ms;  // the policies' latency target
  return std::make_unique<Controller>(c, std::move(*p), std::move(*keys), std::move(factory));
}

core::Status run_controller(Controller* c, const std::atomic<bool>& stop, bool* config_error,
                            Clock clock) {
  if (!clock) clock = wall_ms;
  const ControllerConfig& cfg = c->config();
  std::mutex mu;  // guards *c between the loop and the HTTP threads
  std::atomic<bool> healthy{false};
  {  // Standby until the lease says otherwise: nothing is commanded before.
    std::lock_guard<std::mutex> lock(mu);
    c->set_lease({false, 0, 0, "joining the lease group " + lease_group(cfg)});
  }
  // The dashboard's feed: the loop publishes, pages read; publishing never waits for a page.
  // Declared before the HTTP side, whose threads read it, so it outlives them.
  Dashboard dash(cfg);
  dash.start(clock());
  HttpSide http(dash);  // stopped on every return below
  if (auto st = http.start(cfg, c, mu, healthy); !st.ok()) {
    if (config_error) *config_error = true;
    return st;
  }
  if (!wait_for_kafka(cfg, stop, dash)) return {};
  auto plane = connect_control_plane(cfg, config_error);
  if (!plane.ok()) return plane.error();
  Chores chores(cfg, c, mu, healthy, dash, *plane->producer, *plane->consumer, *plane->lease,
                clock);
  // Tick once the group has answered (assigned or not): no standby tick before a first
  // assignment, and a standby's first log line already names the holder.
  const auto join_deadline = std::chrono::steady_clock::now() +
                             std::chrono::milliseconds(cfg.lease_session_timeout_ms + 10'000);
  while (!stop && !plane->lease->joined() && std::chrono::steady_clock::now() < join_deadline)
    chores.serve_lease(100);
  if (!plane->lease->joined())
    log_line("lease: the group has not answered yet; ticking as a standby");
  chores.serve_lease(0);
  log_line("policy " + cfg.policy + ", context " + std::string(core::to_string(cfg.context)) +
           ", tick " + std::to_string(cfg.tick_ms) + " ms, executors [" +
           std::to_string(cfg.min_executors) + ", " + std::to_string(cfg.max_executors) +
           "]; reading " + cfg.metadata_topic + " + " + cfg.metrics_topic + ", commanding " +
           cfg.control_topic + " while holding the lease");

  // The loop: the chores above, in their order.
  chores.next_tick = clock() + cfg.tick_ms;
  while (!stop) {
    chores.serve_lease(0);
    const std::int64_t now = clock();
    if (now >= chores.next_tick)
      chores.run_tick(now);
    else
      chores.read_message(now);
  }
  (void)plane->producer->flush(5000);
  plane->lease.reset();  // leaves the group: a standby takes over at once
  return {};             // then the clients close, then the HTTP side stops
}

}  // namespace prescale::control
