#include "live_cmds.h"

#include <stdlib.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>

#include "core/files.h"
#include "core/log.h"
#include "core/progress.h"
#include "fail.h"
#include "live/race_report.h"
#include "live/shapes.h"
#include "sim/scenario.h"
#include "validate_cmds.h"

namespace prescale::cli {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

}  // namespace

CLI::App* add_edge_command(CLI::App& app, EdgeArgs* a) {
  auto* c = app.add_subcommand(
      "edge",
      "the gateway agent: readings in (trace replay, stdin JSON lines, or MQTT), reading "
      "batches on the data plane and signed Burst_Signals on the control plane (Kafka)");
  auto& o = a->opts;
  c->add_option("--device", o.gateway.device, "this gateway's id (its key is in --key-file)")
      ->capture_default_str();
  c->add_option("--key-file", o.key_file, "file of `DEVICE HEXKEY` lines (HMAC-SHA256 keys)")
      ->required();
  auto* trace = c->add_option("--trace", o.trace_file, "replay a timestamp,value CSV trace")
                    ->check(CLI::ExistingFile);
  auto* in = c->add_flag("--stdin", a->stdin_input, "read one JSON reading per line from stdin");
  auto* mqtt = c->add_option("--mqtt", a->mqtt, "subscribe to an MQTT broker at HOST:PORT");
  trace->excludes(in)->excludes(mqtt);
  in->excludes(mqtt);
  c->add_option("--mqtt-topic", o.mqtt_topic, "MQTT topic filter (one reading per message)")
      ->capture_default_str();
  c->add_option("--speedup", o.speedup,
                "trace replay: times faster than the trace's own clock (0 = as fast as possible)")
      ->capture_default_str();
  c->add_option("--scale", o.gateway.scale,
                "readings per unit of the forecaster's series (trace replay: readings per unit "
                "of trace value)")
      ->capture_default_str();
  c->add_option("--sensors", o.sensors, "trace replay: synthetic sensors per gateway")
      ->capture_default_str();
  c->add_option("--interval-ms", o.gateway.interval_ms,
                "stdin/MQTT: the forecaster's step (trace replay: the trace's step / speedup)")
      ->capture_default_str();
  a->horizon = c->add_option("--horizon", o.gateway.horizon,
                             "intervals ahead (the cold start in intervals; --forecaster "
                             "global: default the model's, else it must be the model's)")
                   ->capture_default_str();
  c->add_option(
       "--forecaster", o.forecaster,
       "auto | lstm:FILE | global | global:FILE (one model for every stream: its burst head "
       "raises the signal, its 90% quantile is the forecast sent; global = MODELS/global.json) "
       "| last | seasonal | ewma | holt-winters | linreg | lookahead (trace replay: the "
       "trace's future, for demos and tests of the cloud side)")
      ->capture_default_str();
  c->add_option("--models", o.models_dir,
                "where --forecaster auto finds a trace's LSTM, and global its global.json")
      ->capture_default_str();
  c->add_option("--batch", o.gateway.batch_readings, "readings per data-plane message (at most)")
      ->capture_default_str();
  c->add_option("--batch-bytes", o.gateway.batch_bytes, "bytes per data-plane message (about)")
      ->capture_default_str();
  c->add_option("--linger-ms", o.gateway.linger_ms, "a partial batch leaves after this long")
      ->capture_default_str();
  c->add_option("--brokers", a->brokers, "Kafka bootstrap servers")->capture_default_str();
  c->add_option("--kafka", a->kafka,
                "librdkafka property KEY=VALUE, repeatable (TLS, SASL, acks, ...)");
  c->add_option("--kafka-file", a->kafka_file,
                "librdkafka properties from a file, key=value lines (# comments): for secrets "
                "such as sasl.password, which --kafka would put on the command line; mode 600");
  c->add_option("--connect-timeout-ms", o.connect_timeout_ms,
                "how long to wait for the first broker answer")
      ->capture_default_str();
  c->add_option("--data-topic", o.data_topic, "data plane topic")->capture_default_str();
  c->add_option("--control-topic", o.control_topic, "control plane topic")->capture_default_str();
  c->add_option("--partitions", o.partitions, "partitions of a data topic the agent creates")
      ->capture_default_str();
  return c;
}

int run_edge_cmd(EdgeArgs a) {
  auto& o = a.opts;
  if (!o.trace_file.empty()) {
    o.input = edge::Input::kTrace;
  } else if (a.stdin_input) {
    o.input = edge::Input::kStdin;
  } else if (!a.mqtt.empty()) {
    o.input = edge::Input::kMqtt;
    const auto colon = a.mqtt.rfind(':');
    try {
      if (colon == std::string::npos || colon == 0) throw std::invalid_argument("no port");
      o.mqtt_host = a.mqtt.substr(0, colon);
      size_t used = 0;
      o.mqtt_port = std::stoi(a.mqtt.substr(colon + 1), &used);
      if (used != a.mqtt.size() - colon - 1 || o.mqtt_port < 1 || o.mqtt_port > 65535)
        throw std::invalid_argument("bad port");
    } catch (const std::exception&) {
      std::cerr << "error: --mqtt '" << a.mqtt << "': expected HOST:PORT\n";
      return 2;
    }
  } else {
    std::cerr << "error: prescale edge needs an input: --trace FILE, --stdin or --mqtt HOST:PORT\n";
    return 2;
  }
  auto props = bus::parse_props(a.kafka);
  if (!props.ok()) {
    std::cerr << "error: --kafka: " << props.error().message << "\n";
    return 2;
  }
  o.kafka = *props;
  if (!a.kafka_file.empty()) {
    auto file = bus::read_props_file(a.kafka_file);
    if (!file.ok()) {
      std::cerr << "error: --kafka-file: " << file.error().message << "\n";
      return 2;
    }
    for (const auto& [key, value] : file->props) {
      if (o.kafka.count(key)) {
        std::cerr << "error: --kafka-file: " << a.kafka_file << ":" << file->line.at(key) << ": "
                  << key << ": also given with --kafka (set it in one place)\n";
        return 2;
      }
      o.kafka[key] = value;
    }
  }
  o.kafka.emplace("bootstrap.servers", a.brokers);
  // The global model forecasts for its own horizon: --horizon left out means that one.
  if (edge::is_global_forecaster(o.forecaster) && a.horizon && a.horizon->count() == 0)
    o.gateway.horizon = 0;

  auto prepared = edge::prepare_agent(o);
  if (!prepared.ok()) {
    std::cerr << "error: " << prepared.error().message << "\n";
    return 2;
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  auto rep = edge::run_agent(std::move(*prepared), g_stop);
  if (!rep.ok()) {
    std::cerr << "error: " << rep.error().message << "\n";
    return 1;
  }
  std::printf("%s\n", rep->to_json().c_str());
  return 0;
}

CLI::App* add_controller_command(CLI::App& app, std::string* config) {
  auto* c = app.add_subcommand(
      "controller",
      "the live controller: edge signals and job progress in (Kafka control plane), the "
      "configured policy, scale_to commands out; /metrics and /healthz");
  c->add_option("--config", *config, "YAML configuration (docs/controller.md)")
      ->required()
      ->check(CLI::ExistingFile);
  return c;
}

int run_controller_cmd(const std::string& config) {
  auto cfg = control::load_config(config);
  if (!cfg.ok()) {
    std::cerr << "error: " << cfg.error().message << "\n";
    return 2;
  }
  auto c = control::make_controller(*cfg);
  if (!c.ok()) {
    std::cerr << "error: " << c.error().message << "\n";
    return 2;
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  bool config_error = false;
  auto st = control::run_controller(c->get(), g_stop, &config_error);
  if (!st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    return config_error ? 2 : 1;  // 2: the configuration's to fix (e.g. the HTTP port taken)
  }
  return 0;
}

CLI::App* add_plane_bench_command(CLI::App& bench, PlaneBenchArgs* a) {
  auto* c = bench.add_subcommand(
      "dualplane",
      "control-message latency while large messages saturate the data plane: dual-plane "
      "(separate clients and topics) vs single-plane (shared), on a real broker");
  c->add_option("--brokers", a->brokers,
                "Kafka bootstrap servers (default: start a private broker on loopback)");
  c->add_option("--kafka", a->kafka, "librdkafka property KEY=VALUE, repeatable");
  c->add_option("--seconds", a->opts.seconds, "per mode")->capture_default_str();
  c->add_option("--data-bytes", a->opts.data_bytes, "per data message")->capture_default_str();
  c->add_option("--control-interval-ms", a->opts.control_interval_ms, "between control messages")
      ->capture_default_str();
  c->add_option("--format", a->format, "json|table")
      ->check(CLI::IsMember({"json", "table"}))
      ->capture_default_str();
  return c;
}

int run_plane_bench_cmd(const PlaneBenchArgs& a, const std::string& source_dir) {
  auto props = bus::parse_props(a.kafka);
  if (!props.ok()) {
    std::cerr << "error: --kafka: " << props.error().message << "\n";
    return 2;
  }
  std::unique_ptr<bus::LocalKafka> local;
  std::string brokers = a.brokers;
  if (brokers.empty()) {
    auto k = bus::LocalKafka::start(source_dir);
    if (!k.ok()) {
      std::cerr << "error: " << k.error().message << "\n";
      return 1;
    }
    local = std::move(*k);
    brokers = local->brokers();
    std::cerr << "prescale bench dualplane: private broker on " << brokers << "\n";
  }
  props->emplace("bootstrap.servers", brokers);
  auto r = bus::bench_planes(*props, a.opts);
  if (!r.ok()) {
    std::cerr << "error: " << r.error().message << "\n";
    return r.error().message.rfind("--", 0) == 0 ? 2 : 1;
  }
  if (a.format == "json") {
    std::printf("%s\n", r->to_json().c_str());
  } else {
    std::printf("%-8s %10s %10s %10s %8s %10s\n", "mode", "p50 ms", "p99 ms", "max ms", "lost",
                "data MB/s");
    auto row = [](const char* name, const bus::LatencyStats& s, double mbs) {
      std::printf("%-8s %10.2f %10.2f %10.2f %8zu %10.1f\n", name, s.p50_ms, s.p99_ms, s.max_ms,
                  s.sent - s.received, mbs);
    };
    row("dual", r->dual, r->dual_data_mb_s);
    row("single", r->single, r->single_data_mb_s);
  }
  return 0;
}

CLI::App* add_race_command(CLI::App& app, RaceArgs* a) {
  auto& o = a->opts;
  auto* c = app.add_subcommand(
      "race",
      "end to end on the live stack: one bursty trace replayed by the edge agent once per "
      "policy, the controller driving the running Spark job; executors from Spark's REST API, "
      "batch latencies from the job's progress (docs/controller.md)");
  c->add_option("--config", o.controller_config, "controller YAML (docs/controller.md)")
      ->required()
      ->check(CLI::ExistingFile);
  a->trace = c->add_option("--trace", o.trace_file, "timestamp,value CSV with a burst")
                 ->check(CLI::ExistingFile);
  a->shape = c->add_option("--shape", o.shape,
                           "a traffic shape instead of --trace: " + live::shape_names() +
                               " (the trace or its window, the speed-up and the scale; "
                               "docs/sim2real.md)");
  a->shape->excludes(a->trace);
  c->add_option("--key-file", o.key_file, "DEVICE HEXKEY lines (the agent's and the controller's)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--policies", a->policies, "comma-separated, run in this order")
      ->capture_default_str();
  c->add_option("--brokers", o.brokers, "Kafka bootstrap servers (default: the config's)");
  c->add_option("--spark-ui-port", o.spark_ui_port, "the job's REST API port on 127.0.0.1")
      ->capture_default_str();
  a->speedup = c->add_option("--speedup", o.speedup, "replay speed-up")
                   ->check(CLI::PositiveNumber)
                   ->capture_default_str();
  a->scale =
      c->add_option("--scale", o.scale, "readings per unit of trace value")->capture_default_str();
  a->horizon = c->add_option("--horizon", o.horizon,
                             "trace samples the lookahead signal sees ahead (--forecaster "
                             "global: default the model's horizon, else it must be that)")
                   ->check(CLI::PositiveNumber)
                   ->capture_default_str();
  c->add_option("--forecaster", o.forecaster,
                "the edge agent's forecaster: lookahead (the trace's own future: a signal a "
                "known --horizon ahead of the burst, to test the cloud side) | global | "
                "global:FILE (the global model, models/forecast/global.json by default: its "
                "burst head and 90% quantile, as `prescale edge --forecaster global`)")
      ->capture_default_str();
  c->add_option("--device", o.device, "the gateway id (in --key-file)")->capture_default_str();
  a->burst_threshold = c->add_option("--burst-threshold", o.burst_threshold,
                                     "a sample >= this x the median is part of the burst")
                           ->capture_default_str();
  c->add_option("--sla-ms", o.sla_ms,
                "a batch above this latency is a violation (default: the controller's SLA)")
      ->check(CLI::PositiveNumber);
  c->add_option("--tail-s", o.tail_s, "seconds watched after the replay, at least")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  c->add_option("--tail-max-s", o.tail_max_s,
                "watching goes on while Spark runs more than the minimum, up to this")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  c->add_option("--warmup-s", o.warmup_s,
                "before the first run, replay the trace's calm opening this long with no "
                "controller, so no run meets a cold job (0 = none)")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  c->add_option("--settle-timeout-s", o.settle_timeout_s,
                "the reset before each run: how long to wait for min executors and no backlog")
      ->capture_default_str();
  c->add_option("--format", a->format, "table|json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  c->add_option("--out", a->out, "write the JSON (with every timeline) to this file too");
  c->add_option("--report", a->report,
                "write report.html (every run's timeline and the summary) to this file");
  c->add_option("--record-dir", o.record_dir,
                "write the timelines as JSON lines here after each run (runs, batches, executors, "
                "commands: the input of prescale calibrate --from; docs/sim2real.md)");
  c->add_option("--scenario", a->scenario,
                "after the live runs, the same traffic through the arena with this scenario (name "
                "or file; a calibrated one: prescale calibrate --out), each policy as the "
                "controller ran it, compared per policy (docs/sim2real.md, \"Validation\")")
      ->capture_default_str();
  c->add_flag("--no-validate", a->no_validate, "skip the arena's side");
  return c;
}

int run_race_cmd(RaceArgs a, const std::string& source_dir) {
  std::stringstream ss(a.policies);
  a.opts.policies.clear();
  for (std::string p; std::getline(ss, p, ',');)
    if (!p.empty()) a.opts.policies.push_back(p);
  if (a.opts.policies.empty()) {
    std::cerr << "error: --policies: expected at least one policy\n";
    return 2;
  }
  // A directory for what the race writes when no --record-dir is given (a shape's window,
  // the records the arena's side reads), removed at the end.
  struct Scratch {
    std::string path;
    ~Scratch() {
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
    core::Result<std::string> get() {
      if (path.empty()) {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "prescale-race-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) return core::Error{"cannot create a temporary directory"};
        path = tmpl;
      }
      return path;
    }
  } scratch;
  // The traffic: a shape (its window, speed-up, scale, horizon, burst marker) or a trace.
  const bool global = edge::is_global_forecaster(a.opts.forecaster);
  if (!a.opts.shape.empty()) {
    for (const auto* opt : {a.speedup, a.scale, a.horizon, a.burst_threshold}) {
      if (opt && opt->count() > 0)
        return fail(opt->get_name() + ": fixed by --shape " + a.opts.shape +
                    " (use --trace to set it)");
    }
    auto shape = live::find_shape(a.opts.shape);
    if (!shape.ok()) return fail(shape.error().message);
    std::string dir = a.opts.record_dir;
    if (dir.empty()) {
      auto s = scratch.get();
      if (!s.ok()) return fail(s.error().message);
      dir = *s;
    } else {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return fail("--record-dir: " + dir + ": " + ec.message());
    }
    auto m = live::materialise(*shape, source_dir, dir + "/trace.csv");
    if (!m.ok()) return fail("--shape " + a.opts.shape + ": " + m.error().message);
    a.opts.trace_file = m->trace_file;
    a.opts.speedup = m->speedup;
    a.opts.scale = m->scale;
    a.opts.horizon = global ? 0 : m->horizon;  // the global model's own
    a.opts.burst_threshold = m->burst_threshold;
  } else if (a.opts.trace_file.empty()) {
    return fail("race needs the traffic: --trace FILE or --shape NAME (" + live::shape_names() +
                ")");
  } else if (global && a.horizon && a.horizon->count() == 0) {
    a.opts.horizon = 0;  // the model's own
  }
  // The agent's inputs (key file, trace, model) and the arena's scenario before any server
  // is touched.
  if (auto st = live::check_agent(a.opts); !st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    return 2;
  }
  if (!a.no_validate) {
    auto s = sim::load_scenario(a.scenario);
    if (!s.ok()) return fail("--scenario: " + s.error().message);
  }
  // The readable timeline goes to stderr as before; on a terminal a status line below it
  // says which run is under way, its phase and an ETA.
  core::Progress::Options po;
  po.what = "race";
  po.total = static_cast<int>(a.opts.policies.size());
  auto progress = std::make_unique<core::Progress>(po);
  a.opts.log = [&progress](const std::string& line) { progress->line("race: " + line); };
  int current = -1;
  a.opts.progress = [&progress, &current](const live::RaceProgress& p) {
    if (p.index != current) {
      if (current >= 0) progress->done();
      current = p.index;
    }
    char label[160];
    if (p.phase == "warm-up")
      std::snprintf(label, sizeof label, "warm-up: the job's cold start (%.0f s of %.0f s)", p.t_s,
                    p.expected_s);
    else if (p.phase == "reset")
      std::snprintf(label, sizeof label, "%s: reset to the minimum scale (%.0f s, at most %.0f s)",
                    p.policy.c_str(), p.t_s, p.expected_s);
    else
      std::snprintf(label, sizeof label, "%s: run %+.0f s of ~%.0f s", p.policy.c_str(), p.t_s,
                    p.expected_s);
    progress->begin(p.index + 1, label);
    if (p.phase == "run" && p.expected_s > 0) progress->fraction(p.t_s / p.expected_s);
  };
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  // The controller's, the agent's and librdkafka's log lines go above the status line too.
  auto above = std::make_unique<core::LogsAbove>(*progress);
  auto runs = live::race(a.opts, g_stop);
  above.reset();
  progress.reset();
  if (!runs.ok()) {
    std::cerr << "error: " << runs.error().message << "\n";
    return 1;
  }
  const double sla_ms = runs->empty() ? a.opts.sla_ms : runs->front().sla_ms;
  // The arena's side: the same traffic, each policy as its controller ran, compared.
  int status = g_stop ? 1 : 0;
  std::optional<validate::Report> validation;
  if (!a.no_validate && !runs->empty() && !g_stop) {
    std::string dir = a.opts.record_dir;
    core::Status st;
    if (dir.empty()) {
      auto s = scratch.get();
      auto replay = live::replay_info(a.opts);
      if (!s.ok())
        st = s.error();
      else if (!replay.ok())
        st = replay.error();
      else
        st = live::write_records(dir = *s, *runs, &*replay);
    }
    if (st.ok()) {
      auto rep = validate_run_dir(dir, a.scenario);
      if (rep.ok())
        validation = std::move(*rep);
      else
        st = rep.error();
    }
    if (!st.ok()) {
      std::cerr << "error: the arena's side (--scenario " << a.scenario << "): " << st.message()
                << "\n";
      status = 1;
    }
  }
  const std::string vj = validation ? validation->to_json(true) : "";
  std::string j = "{\"sla_ms\":" + std::to_string(sla_ms) + ",\"runs\":[";
  for (size_t i = 0; i < runs->size(); ++i) j += (i ? "," : "") + (*runs)[i].to_json();
  j += "]";
  if (validation) j += ",\"validation\":" + vj;
  j += "}";
  if (!a.out.empty()) {
    auto st = core::write_file_atomic(a.out, j + "\n");
    if (!st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
  }
  if (!a.report.empty()) {
    auto st = core::write_file_atomic(a.report, live::race_page(*runs, sla_ms, vj));
    if (!st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
    std::cerr << "race: report " << a.report << "\n";
  }
  if (a.format == "json") {
    std::printf("%s\n", j.c_str());
  } else {
    std::printf("%s", live::summary_table(*runs, sla_ms).c_str());
    if (validation) std::printf("\n%s", validation->table().c_str());
  }
  return status;
}

}  // namespace prescale::cli
