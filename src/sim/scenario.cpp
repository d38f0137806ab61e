#include "sim/scenario.h"

#include "core/files.h"
#include "core/yaml.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <sstream>

namespace prescale::sim {

std::optional<LatencyModel> parse_latency_model(std::string_view text) {
  if (text == "fluid") return LatencyModel::kFluid;
  if (text == "microbatch") return LatencyModel::kMicroBatch;
  return std::nullopt;
}

std::string_view to_string(LatencyModel model) {
  return model == LatencyModel::kMicroBatch ? "microbatch" : "fluid";
}

namespace {

using MapReader = core::YamlMap;

std::optional<WorkloadSource> parse_source(std::string_view text) {
  if (text == "synthetic") return WorkloadSource::kSynthetic;
  if (text == "trace") return WorkloadSource::kTrace;
  return std::nullopt;
}

void read_tier(MapReader& r, TierSpec* t) {
  r.number("latency_ms", &t->latency_ms, 0, 1e6);
  r.number("bandwidth_mb_s", &t->bandwidth_mb_s, 1e-6, 1e9);
  r.number("price_gb_hour", &t->price_gb_hour, 0, 1e6);
  r.number("put_per_1000", &t->put_per_1000, 0, 1e6);
  r.number("get_per_1000", &t->get_per_1000, 0, 1e6);
}

void read_codec(MapReader& r, CompressionSpec* c) {
  r.number("ratio", &c->ratio, 0.01, 1.0);
  r.number("cpu_overhead", &c->cpu_overhead, 0, 10);
}

void read_scenario(MapReader& r, Scenario* s) {
  r.text("name", &s->name);
  r.text("description", &s->description);
  r.integer("steps", &s->steps, 1, kMaxSteps);
  r.number("step_s", &s->step_s, 0.001, 86400);
  r.integer("seeds", &s->seeds, 1, 100'000);
  r.u64("base_seed", &s->base_seed);
  r.number("record_bytes", &s->record_bytes, 1, 1e9);
  r.choice("context", &s->context, &core::parse_context, "balanced|healthcare|budget");
  r.choice("default_tier", &s->default_tier, &core::parse_tier, "redis|nvme|s3");
  r.section("workload", [&](MapReader& w) {
    w.choice("source", &s->source, &parse_source, "synthetic|trace");
    w.section("synthetic", [&](MapReader& y) {
      SyntheticSpec& g = s->synthetic;
      y.number("base_rps", &g.base_rps, 0, 1e12);
      y.number("cycle_amplitude", &g.cycle_amplitude, 0, 0.99);
      y.number("cycle_period_s", &g.cycle_period_s, 1, 1e9);
      y.number("noise_sigma", &g.noise_sigma, 0, 2);
      y.number("noise_phi", &g.noise_phi, 0, 0.9999);
      y.integer("bursts", &g.bursts, 0, 100'000);
      y.number("burst_factor", &g.burst_factor, 1, 1e4);
      y.number("burst_min_s", &g.burst_min_s, 0, 1e9);
      y.number("burst_max_s", &g.burst_max_s, 0, 1e9);
      y.number("burst_ramp_s", &g.burst_ramp_s, 0, 1e9);
      y.number("first_burst_after_s", &g.first_burst_after_s, 0, 1e9);
    });
    w.section("trace", [&](MapReader& y) {
      TraceSpec& t = s->trace;
      y.text("file", &t.file);
      y.number("peak_rps", &t.peak_rps, 1e-9, 1e12);
      y.number("bucket_s", &t.bucket_s, 0, 1e9);
      y.number("speedup", &t.speedup, 0, 1e6);
      y.number("jitter_sigma", &t.jitter_sigma, 0, 2);
      y.number("burst_threshold", &t.burst_threshold, 1, 1e6);
      y.integer("baseline_window", &t.baseline_window, 1, 1'000'000);
    });
  });
  r.section("edge", [&](MapReader& y) {
    EdgeSpec& e = s->edge;
    y.number("horizon_s", &e.horizon_s, 0, 1e6);
    y.number("miss_rate", &e.miss_rate, 0, 1);
    y.number("false_alarms_per_hour", &e.false_alarms_per_hour, 0, 3600);
    y.number("forecast_sigma", &e.forecast_sigma, 0, 5);
  });
  r.section("cluster", [&](MapReader& y) {
    ClusterSpec& c = s->cluster;
    y.integer("min_executors", &c.min_executors, 0, kMaxExecutors);
    y.integer("max_executors", &c.max_executors, 1, kMaxExecutors);
    y.integer("initial_executors", &c.initial_executors, 0, kMaxExecutors);
    y.number("cold_start_s", &c.cold_start_s, 0, 86400);
    y.integer("vcpu_per_executor", &c.vcpu_per_executor, 1, 1024);
    y.number("memory_gb_per_executor", &c.memory_gb_per_executor, 0, 1e5);
    y.number("capacity_rps", &c.capacity_rps, 1e-9, 1e12);
    y.number("contention", &c.contention, 0, 1);
    y.number("warmup_s", &c.warmup_s, 0, 3600);
    y.integer("kafka_partitions", &c.kafka_partitions, 1, 1'000'000);
    y.integer("records_per_message", &c.records_per_message, 1, 1'000'000);
    y.integer("tasks_per_batch", &c.tasks_per_batch, 1, 10'000'000);
  });
  r.section("shuffle", [&](MapReader& y) {
    ShuffleSpec& h = s->shuffle;
    y.number("bytes_per_input_byte", &h.bytes_per_input_byte, 0, 1e3);
    y.integer("ops_per_batch", &h.ops_per_batch, 0, 1000);
    y.number("retention_s", &h.retention_s, 0, 1e9);
    y.number("object_mb", &h.object_mb, 1e-6, 1e6);
    y.number("switch_pause_s", &h.switch_pause_s, 0, 3600);
    y.number("state_mb", &h.state_mb, 0, 1e9);
    y.section("tiers", [&](MapReader& t) {
      t.section("redis", [&](MapReader& x) { read_tier(x, &h.tiers[0]); });
      t.section("nvme", [&](MapReader& x) { read_tier(x, &h.tiers[1]); });
      t.section("s3", [&](MapReader& x) { read_tier(x, &h.tiers[2]); });
    });
    y.section("compression", [&](MapReader& t) {
      t.section("none", [&](MapReader& x) { read_codec(x, &h.codecs[0]); });
      t.section("lz4", [&](MapReader& x) { read_codec(x, &h.codecs[1]); });
      t.section("zstd", [&](MapReader& x) { read_codec(x, &h.codecs[2]); });
    });
  });
  r.section("latency", [&](MapReader& y) {
    LatencySpec& l = s->latency;
    y.number("sla_ms", &l.sla_ms, 1e-6, 1e9);
    y.number("overhead_ms", &l.overhead_ms, 0, 1e9);
    y.number("trigger_s", &l.trigger_s, 1e-6, 86400);
    y.number("cap_ms", &l.cap_ms, 1, 1e12);
    y.choice("model", &l.model, &parse_latency_model, "fluid|microbatch");
  });
  r.section("pricing", [&](MapReader& y) {
    y.number("vcpu_hour", &s->pricing.vcpu_hour, 0, 1e6);
    y.number("memory_gb_hour", &s->pricing.memory_gb_hour, 0, 1e6);
  });
  r.each("policies", [&](const std::string& name, MapReader& p) {
    core::ParamTable table("policies." + name, p.where());
    p.scalars([&](const std::string& key, const std::string& value, const std::string& where) {
      table.set(key, value, where);
    });
    s->policies.insert_or_assign(name, std::move(table));
  });
}

}  // namespace

int Scenario::cold_start_steps() const {
  return static_cast<int>(std::ceil(cluster.cold_start_s / step_s - 1e-9));
}

double Scenario::executor_price_per_step() const {
  const double per_hour = cluster.vcpu_per_executor * pricing.vcpu_hour +
                          cluster.memory_gb_per_executor * pricing.memory_gb_hour;
  return per_hour * step_s / 3600.0;
}

Scenario default_scenario() {
  Scenario s;
  ShuffleSpec& h = s.shuffle;
  // Tier figures: the seed system's measurements (latency per operation, aggregate
  // bandwidth); prices: see docs/model.md "Prices".
  h.tiers[0] = TierSpec{0.5, 2400, 0.219 / 13.07, 0, 0};           // Redis: cache.r7g.large per GiB
  h.tiers[1] = TierSpec{20, 850, 0.08 / 730.0, 0, 0};              // NVMe: gp3 $0.08/GB-month
  h.tiers[2] = TierSpec{200, 1200, 0.023 / 730.0, 0.005, 0.0004};  // S3 Standard
  h.codecs[0] = CompressionSpec{1.0, 0.0};
  h.codecs[1] = CompressionSpec{0.5, 0.10};
  h.codecs[2] = CompressionSpec{0.3, 0.30};
  return s;
}

core::Status validate(const Scenario& s) {
  const std::string where = s.source_file.empty() ? "scenario" : s.source_file;
  const auto& c = s.cluster;
  if (c.min_executors < 0 || c.max_executors > kMaxExecutors) {
    return core::Error{where + ": cluster executors [" + std::to_string(c.min_executors) + ", " +
                       std::to_string(c.max_executors) + "]; expected bounds within [0, " +
                       std::to_string(kMaxExecutors) + "]"};
  }
  if (c.max_executors < c.min_executors) {
    return core::Error{where + ": cluster.max_executors (" + std::to_string(c.max_executors) +
                       ") is below cluster.min_executors (" + std::to_string(c.min_executors) +
                       "); expected max_executors >= min_executors"};
  }
  if (c.initial_executors < c.min_executors || c.initial_executors > c.max_executors) {
    return core::Error{where + ": cluster.initial_executors (" +
                       std::to_string(c.initial_executors) + ") must lie in [min_executors, " +
                       "max_executors] = [" + std::to_string(c.min_executors) + ", " +
                       std::to_string(c.max_executors) + "]"};
  }
  if (s.steps < 0 || s.steps > kMaxSteps) {
    return core::Error{where + ": steps (" + std::to_string(s.steps) +
                       ", the file's or --steps'); expected at most " + std::to_string(kMaxSteps) +
                       " (--steps takes a window of a trace)"};
  }
  if (s.synthetic.burst_max_s < s.synthetic.burst_min_s) {
    return core::Error{where + ": workload.synthetic.burst_max_s is below burst_min_s"};
  }
  if (s.trace.bucket_s > 0 && s.trace.speedup > 0) {
    std::ostringstream m;
    m << where << ": workload.trace.bucket_s (" << s.trace.bucket_s
      << ") and workload.trace.speedup (" << s.trace.speedup
      << ") are both set; expected one of them (bucket_s: trace seconds per step; speedup: "
         "trace seconds per simulated second)";
    return core::Error{m.str()};
  }
  if (s.source == WorkloadSource::kTrace && s.trace.file.empty()) {
    return core::Error{where + ": workload.source is 'trace' but workload.trace.file is empty"};
  }
  return core::Status::Ok();
}

core::Result<Scenario> load_scenario_file(const std::string& path) {
  if (std::error_code ec; !std::filesystem::is_regular_file(path, ec)) {
    return core::Error{path + ": cannot open scenario file (does it exist and is it readable?)"};
  }
  auto text = core::read_file(path);
  if (!text.ok()) return text.error();
  return parse_scenario(*text, path);
}

core::Result<Scenario> parse_scenario(std::string_view text, const std::string& path) {
  YAML::Node root;
  if (core::Status st = core::parse_yaml(text, path, &root); !st.ok()) return st.error();
  if (!root || root.IsNull()) {
    return core::Error{path + ": empty scenario file; expected a mapping with at least 'name'"};
  }
  Scenario s = default_scenario();
  s.source_file = path;
  std::string error;
  MapReader reader(root, path, "", &error);
  if (error.empty()) {
    read_scenario(reader, &s);
    reader.finish();
  }
  if (!error.empty()) return core::Error{error};
  if (core::Status st = validate(s); !st.ok()) return st.error();
  return s;
}

core::Result<Scenario> load_scenario(const std::string& name_or_path) {
  namespace fs = std::filesystem;
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       name_or_path.ends_with(".yaml") || name_or_path.ends_with(".yml");
  if (is_path) return load_scenario_file(name_or_path);
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("PRESCALE_SCENARIOS")) dirs.emplace_back(env);
  dirs.emplace_back("scenarios");
  dirs.emplace_back(fs::path(PRESCALE_SOURCE_DIR) / "scenarios");
  for (const auto& dir : dirs) {
    fs::path candidate = dir / (name_or_path + ".yaml");
    std::error_code ec;
    if (fs::exists(candidate, ec)) return load_scenario_file(candidate.string());
  }
  return core::Error{"unknown scenario '" + name_or_path + "': no " + name_or_path +
                     ".yaml in $PRESCALE_SCENARIOS, ./scenarios or " +
                     std::string(PRESCALE_SOURCE_DIR) + "/scenarios"};
}

}  // namespace prescale::sim
