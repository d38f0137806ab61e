#include "tier_cmds.h"

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tier/bench.h"
#include "tier/config.h"
#include "tier/crashtest.h"
#include "tier/server.h"

namespace prescale::cli {

struct TierArgs {
  CLI::App *group = nullptr, *serve = nullptr, *worker = nullptr, *put = nullptr, *get = nullptr,
           *stat = nullptr, *ls = nullptr, *burst = nullptr, *crashtest = nullptr, *bench = nullptr;
  std::string config, key, file, prefix, on_off;
  tier::WorkerOptions worker_opts;
  tier::CrashTestOptions crash;
  std::string crash_format = "json";
  tier::BenchOptions bench_opts;
  std::string bench_tiers = "redis,nvme,s3";
};

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_tier_signal(int) { g_stop = true; }

int fail(const std::string& m, int code = 2) {
  std::cerr << "prescale tier: error: " << m << "\n";
  return code;
}

void add_config(CLI::App* c, TierArgs* a) {
  c->add_option("--config", a->config, "YAML configuration (docs/tier.md)")
      ->required()
      ->check(CLI::ExistingFile);
}

}  // namespace

TierArgs* add_tier_command(CLI::App& app) {
  // Lives as long as the process, like the App; owned here, so LeakSanitizer (make
  // test-asan) does not report it at exit.
  static std::unique_ptr<TierArgs> args;
  args = std::make_unique<TierArgs>();
  TierArgs* a = args.get();
  a->group = app.add_subcommand(
      "tier", "tiered storage: Redis hot, a directory (NVMe) warm, S3 cold (docs/tier.md)");
  a->group->require_subcommand(1);
  a->serve = a->group->add_subcommand(
      "serve",
      "HTTP API on loopback (PUT/GET/DELETE /objects/KEY, /stats, /metrics, /burst) with "
      "the background migrator");
  add_config(a->serve, a);
  a->worker = a->group->add_subcommand("worker", "");  // hidden: the crash test's child
  a->worker->group("");
  add_config(a->worker, a);
  a->worker->add_option("--crash-at", a->worker_opts.crash_at, "SIGKILL self at this point");
  a->worker->add_option("--crash-after", a->worker_opts.crash_after, "at the Nth pass");

  a->put = a->group->add_subcommand("put", "store one object (from --file or stdin)");
  add_config(a->put, a);
  a->put->add_option("key", a->key, "object key")->required();
  a->put->add_option("--file", a->file, "read the object from this file")->check(CLI::ExistingFile);
  a->get = a->group->add_subcommand("get", "print one object (or write it to --out)");
  add_config(a->get, a);
  a->get->add_option("key", a->key, "object key")->required();
  a->get->add_option("--out", a->file, "write the object to this file");
  a->stat = a->group->add_subcommand("stat", "an object's catalog entry as JSON");
  add_config(a->stat, a);
  a->stat->add_option("key", a->key, "object key")->required();
  a->ls = a->group->add_subcommand("ls", "keys, their tier and size");
  add_config(a->ls, a);
  a->ls->add_option("--prefix", a->prefix, "only keys starting with this");
  a->burst = a->group->add_subcommand(
      "burst", "switch burst mode of a running `tier serve` (writes land in Redis)");
  add_config(a->burst, a);
  a->burst->add_option("mode", a->on_off, "on|off")
      ->required()
      ->check(CLI::IsMember({"on", "off"}));

  a->crashtest = a->group->add_subcommand(
      "crashtest", "kill -9 a writing, migrating store at random points; verify every object");
  auto& c = a->crash;
  a->crashtest->add_option("--rounds", c.rounds, "crash points")->capture_default_str();
  a->crashtest->add_option("--keys", c.keys, "distinct keys")->capture_default_str();
  a->crashtest->add_option("--seed", c.seed, "random seed")->capture_default_str();
  a->crashtest->add_option("--redis", c.redis_url, "use this Redis (default: start one)");
  a->crashtest->add_option("--s3-endpoint", c.s3_endpoint,
                           "use this S3 server, AWS_* credentials (default: start S3Proxy)");
  a->crashtest->add_option("--dir", c.work_dir, "work directory (default: a temporary one)");
  a->crashtest->add_flag("--verbose", c.verbose, "one line per round on stderr");
  a->crashtest->add_flag("--no-server-kills{false}", c.kill_servers,
                         "kill only the worker, never the Redis and S3 servers it started");
  a->crashtest->add_option("--format", a->crash_format, "json")
      ->check(CLI::IsMember({"json"}))
      ->capture_default_str();

  a->bench = a->group->add_subcommand(
      "bench", "each tier vs its reference (redis-benchmark, raw fsync'd writes, S3 server), JSON");
  auto& b = a->bench_opts;
  a->bench->add_option("--tiers", a->bench_tiers, "comma-separated: redis,nvme,s3")
      ->capture_default_str();
  a->bench->add_option("--redis", b.redis_url, "use this Redis (default: start one)");
  a->bench->add_option("--s3-endpoint", b.s3_endpoint, "use this S3 server (default: S3Proxy)");
  a->bench->add_option("--dir", b.dir, "directory of the nvme tier")->capture_default_str();
  a->bench
      ->add_option("--connections", b.connections,
                   "Redis connections, ours and redis-benchmark's -c")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  a->bench->add_option("--scale", b.scale, "multiplies the operation counts")
      ->capture_default_str();
  return a;
}

bool tier_selected(const TierArgs* a) { return a && a->group && *a->group; }

namespace {

const char* tier_name(int t) { return t == 0 ? "redis" : t == 1 ? "nvme" : "s3"; }

}  // namespace

int run_tier_cmd(TierArgs* a, const std::string& source_dir) {
  if (*a->serve || *a->worker) {
    auto cfg = tier::load_tier_config(a->config);
    if (!cfg.ok()) return fail(cfg.error().message);
    if (*a->worker) return tier::run_worker(*cfg, a->worker_opts);
    auto store = tier::open_store(*cfg);
    if (!store.ok()) return fail(store.error().message);
    std::signal(SIGINT, on_tier_signal);
    std::signal(SIGTERM, on_tier_signal);
    auto st = tier::serve(*cfg, store->get(), g_stop);
    if (!st.ok()) return fail(st.message(), 1);
    return 0;
  }
  if (*a->burst) {
    auto cfg = tier::load_tier_config(a->config);
    if (!cfg.ok()) return fail(cfg.error().message);
    httplib::Client cli(cfg->listen, cfg->port);
    auto res = cli.Post("/burst?on=" + std::string(a->on_off == "on" ? "1" : "0"));
    if (!res || res->status != 204)
      return fail("cannot reach `tier serve` on " + cfg->listen + ":" + std::to_string(cfg->port),
                  1);
    return 0;
  }
  if (*a->crashtest) {
    // Workers exec this very binary through /proc/self/exe (inherited across fork), not its
    // path: a rebuild relinking build/prescale mid-run once made a worker fail to start.
    a->crash.self_exe = "/proc/self/exe";
    a->crash.source_dir = source_dir;
    auto r = tier::run_crashtest(a->crash);
    if (!r.ok()) return fail(r.error().message, 1);
    std::printf("%s\n", r->to_json().c_str());
    return r->lost == 0 && r->corrupted == 0 && r->orphans == 0 ? 0 : 1;
  }
  if (*a->bench) {
    a->bench_opts.source_dir = source_dir;
    a->bench_opts.tiers.clear();
    std::stringstream ss(a->bench_tiers);
    std::string t;
    while (std::getline(ss, t, ',')) {
      if (t != "redis" && t != "nvme" && t != "s3")
        return fail("--tiers: got '" + t + "', expected redis, nvme or s3");
      a->bench_opts.tiers.push_back(t);
    }
    auto r = tier::run_bench(a->bench_opts);
    if (!r.ok()) return fail(r.error().message, 1);
    std::printf("%s\n", r->c_str());
    return 0;
  }
  auto cfg = tier::load_tier_config(a->config);
  if (!cfg.ok()) return fail(cfg.error().message);  // bad input: exit 2
  auto store = tier::open_store(*cfg);
  if (!store.ok()) return fail(store.error().message, 1);
  auto& s = **store;
  if (*a->put) {
    std::string data;
    if (!a->file.empty()) {
      std::ifstream in(a->file, std::ios::binary);
      data.assign(std::istreambuf_iterator<char>(in), {});
    } else {
      data.assign(std::istreambuf_iterator<char>(std::cin), {});
    }
    auto st = s.put(a->key, data);
    if (!st.ok()) return fail(st.message(), 1);
    (void)s.tick_access_only(false);
    auto row = s.row(a->key);
    if (row.ok() && *row)
      std::fprintf(stderr, "%s: %zu bytes in %s\n", a->key.c_str(), data.size(),
                   tier_name((*row)->tier));
    return 0;
  }
  if (*a->get) {
    auto g = s.get(a->key);
    if (!g.ok()) return fail(g.error().message, 1);
    if (!*g) return fail(a->key + ": no such object", 1);
    if (!a->file.empty()) {
      std::ofstream out(a->file, std::ios::binary);
      out << **g;
    } else {
      std::fwrite((*g)->data(), 1, (*g)->size(), stdout);
    }
    // Reads heat objects: store the access now (no migrator runs in this process).
    (void)s.tick_access_only(false);
    return 0;
  }
  if (*a->stat) {
    auto row = s.row(a->key);
    if (!row.ok()) return fail(row.error().message, 1);
    if (!*row) return fail(a->key + ": no such object", 1);
    const auto& r = **row;
    nlohmann::json j = {{"key", r.key},
                        {"tier", tier_name(r.tier)},
                        {"version", r.version},
                        {"size", r.size},
                        {"stored_size", r.stored_size},
                        {"codec", std::string(tier::to_string(static_cast<tier::Codec>(r.codec)))},
                        {"sha256", r.sha256},
                        {"accesses_per_hour", s.options().temperature.per_hour(
                                                  r.rate, r.last_access_ms, s.options().clock())},
                        {"last_access_ms", r.last_access_ms},
                        {"burst", r.burst}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  if (*a->ls) {
    auto rows = s.rows(a->prefix);
    if (!rows.ok()) return fail(rows.error().message, 1);
    for (const auto& r : *rows)
      std::printf("%-6s %12llu  %s\n", tier_name(r.tier), static_cast<unsigned long long>(r.size),
                  r.key.c_str());
    return 0;
  }
  return 0;
}

}  // namespace prescale::cli
