#include "tier/bench.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tier/dir_store.h"
#include "tier/local_server.h"
#include "tier/redis_store.h"
#include "tier/s3_store.h"
#include "tier/tiered_store.h"

namespace prescale::tier {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string payload(std::size_t size) {
  std::string s(size, '\0');
  std::uint64_t x = 88172645463325252ULL;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

int count_for(std::size_t size, int at_64k, double scale) {
  const double n = at_64k * scale * std::min(1.0, (64.0 * 1024) / static_cast<double>(size) * 4);
  return std::max(10, static_cast<int>(n));
}

// Runs `cmd`, returns its stdout.
core::Result<std::string> capture(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return core::Error{"cannot run: " + cmd};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = ::pclose(p);
  if (rc != 0) return core::Error{"failed (" + std::to_string(rc) + "): " + cmd + "\n" + out};
  return out;
}

// redis-benchmark --csv: "test","rps",... then one line per test.
double csv_rps(const std::string& csv, const std::string& test) {
  std::istringstream in(csv);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("\"" + test + "\"", 0) != 0) continue;
    const auto a = line.find(",\"");
    if (a == std::string::npos) continue;
    return std::atof(line.c_str() + a + 2);
  }
  return 0;
}

core::Result<nlohmann::json> bench_redis(const BenchOptions& o, const RedisAddress& addr,
                                         const std::string& url) {
  nlohmann::json out = nlohmann::json::array();
  const int c = std::max(1, o.connections);
  std::vector<std::unique_ptr<RedisStore>> conns;
  for (int i = 0; i < c; ++i) {
    RedisOptions ro;
    ro.url = url;
    auto s = RedisStore::open(ro);
    if (!s.ok()) return s.error();
    conns.push_back(std::move(*s));
  }
  for (std::size_t size : o.sizes) {
    const int n = count_for(size, 20000, o.scale);
    const std::string value = payload(size);
    auto run = [&](bool put) -> core::Result<double> {
      std::vector<std::thread> threads;
      std::vector<std::string> errors(static_cast<size_t>(c));
      const auto t0 = Clock::now();
      for (int t = 0; t < c; ++t) {
        threads.emplace_back([&, t] {
          const std::string key = "bench:tier:" + std::to_string(t);
          for (int i = t; i < n; i += c) {
            if (put) {
              auto st = conns[static_cast<size_t>(t)]->put(key, value);
              if (!st.ok()) errors[static_cast<size_t>(t)] = st.message();
            } else {
              auto g = conns[static_cast<size_t>(t)]->get(key);
              if (!g.ok() || !*g || (*g)->size() != size)
                errors[static_cast<size_t>(t)] = g.ok() ? "short read" : g.error().message;
            }
          }
        });
      }
      for (auto& th : threads) th.join();
      const double secs = seconds_since(t0);
      for (const auto& e : errors)
        if (!e.empty()) return core::Error{"redis bench: " + e};
      return n / secs;
    };
    auto put_rps = run(true);
    if (!put_rps.ok()) return put_rps.error();
    auto get_rps = run(false);
    if (!get_rps.ok()) return get_rps.error();
    const std::string cmd = "redis-benchmark -h " + addr.host + " -p " + std::to_string(addr.port) +
                            " -c " + std::to_string(c) + " -n " + std::to_string(n) + " -d " +
                            std::to_string(size) + " -P 1 -t set,get --csv 2>/dev/null";
    auto ref = capture(cmd);
    if (!ref.ok()) return ref.error();
    const double ref_set = csv_rps(*ref, "SET"), ref_get = csv_rps(*ref, "GET");
    out.push_back({{"value_bytes", size},
                   {"ops", n},
                   {"connections", c},
                   {"tier_put_ops_s", *put_rps},
                   {"tier_get_ops_s", *get_rps},
                   {"redis_benchmark_set_ops_s", ref_set},
                   {"redis_benchmark_get_ops_s", ref_get},
                   {"put_ratio", ref_set > 0 ? *put_rps / ref_set : 0},
                   {"get_ratio", ref_get > 0 ? *get_rps / ref_get : 0},
                   {"tier_put_mb_s", *put_rps * static_cast<double>(size) / 1e6},
                   {"reference", "redis-benchmark -c " + std::to_string(c) + " -P 1 -d " +
                                     std::to_string(size) + " -t set,get"}});
  }
  return out;
}

core::Result<double> raw_appends(const std::string& path, const std::string& value, int n) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return core::Error{path + ": cannot create"};
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size()) ||
        ::fdatasync(fd) != 0) {
      ::close(fd);
      return core::Error{path + ": write failed"};
    }
  }
  const double secs = seconds_since(t0);
  ::close(fd);
  ::unlink(path.c_str());
  return n / secs;
}

// Each variant writes n new files into a directory of its own, right after a raw run of
// the same size and count in the same file system (its ratio is to that neighbour), with
// ::sync() before each timed section so one variant's write-back does not land in the next.
core::Result<nlohmann::json> bench_nvme(const BenchOptions& o) {
  nlohmann::json out = nlohmann::json::array();
  std::filesystem::remove_all(o.dir);
  std::filesystem::create_directories(o.dir);
  int variant = 0;
  for (std::size_t size : o.sizes) {
    const int n = count_for(size, 1000, o.scale);
    const std::string value = payload(size);
    nlohmann::json row = {{"value_bytes", size}, {"ops", n}};
    // put(): temp + rename (atomic replace); put_fresh(): in place (the tiered store's copies).
    struct Variant {
      const char* name;
      DirSync sync;
      bool fresh;
    };
    const Variant variants[] = {{"tier_put", DirSync::kFull, true},
                                {"tier_put_fsync_file", DirSync::kFile, true},
                                {"atomic_put", DirSync::kFull, false},
                                {"atomic_put_fsync_file", DirSync::kFile, false}};
    double raw_sum = 0;
    for (const auto& v : variants) {
      const std::string dir = o.dir + "/v" + std::to_string(variant++);
      std::filesystem::create_directories(dir);
      ::sync();
      auto raw = raw_appends(dir + "/raw-append", value, n);
      if (!raw.ok()) return raw.error();
      raw_sum += *raw;
      auto store = DirStore::open(dir, v.sync);
      if (!store.ok()) return store.error();
      ::sync();
      const auto t0 = Clock::now();
      for (int i = 0; i < n; ++i) {
        const std::string k = "bench/" + std::to_string(i);
        auto st = v.fresh ? (*store)->put_fresh(k, value) : (*store)->put(k, value);
        if (!st.ok()) return st.error();
      }
      const double rps = n / seconds_since(t0);
      row[std::string(v.name) + "_ops_s"] = rps;
      row[std::string(v.name) + "_ratio"] = rps / *raw;
      if (v.fresh && v.sync == DirSync::kFull) {
        const auto g0 = Clock::now();
        for (int i = 0; i < n; ++i) {
          auto g = (*store)->get("bench/" + std::to_string(i));
          if (!g.ok() || !*g) return core::Error{"nvme bench: read failed"};
        }
        row["tier_get_ops_s"] = n / seconds_since(g0);
      }
    }
    row["raw_fdatasync_append_ops_s"] = raw_sum / 4;
    // The whole TieredStore put path (catalog intent + commit, synchronous=FULL).
    const std::string dir = o.dir + "/v" + std::to_string(variant++);
    std::array<std::unique_ptr<ObjectStore>, 3> tiers;
    auto d = DirStore::open(dir + "/nvme");
    if (!d.ok()) return d.error();
    tiers[kDir] = std::move(*d);
    TieredOptions topt;
    topt.catalog_path = dir + "/catalog.db";
    auto ts = TieredStore::open(topt, std::move(tiers));
    if (!ts.ok()) return ts.error();
    ::sync();
    auto raw = raw_appends(dir + "/raw-append", value, n);
    if (!raw.ok()) return raw.error();
    ::sync();
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto st = (*ts)->put("tb/" + std::to_string(i), value);
      if (!st.ok()) return st.error();
    }
    const double rps = n / seconds_since(t0);
    row["tiered_store_put_ops_s"] = rps;
    row["tiered_store_put_ratio"] = rps / *raw;
    out.push_back(row);
  }
  std::filesystem::remove_all(o.dir);
  return out;
}

core::Result<nlohmann::json> bench_s3(const BenchOptions& o, const std::string& endpoint,
                                      bool local) {
  nlohmann::json out = nlohmann::json::array();
  S3Options so;
  so.endpoint = endpoint;
  so.bucket = "prescale-bench";
  if (local) {
    so.access_key = LocalServer::s3_access_key();
    so.secret_key = LocalServer::s3_secret_key();
  }
  auto s3 = S3Store::open(so);
  if (!s3.ok()) return s3.error();
  for (std::size_t size : o.sizes) {
    const int n = count_for(size, 200, o.scale);
    const std::string value = payload(size);
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto st = (*s3)->put("bench/" + std::to_string(i % 16), value);
      if (!st.ok()) return st.error();
    }
    const double put_rps = n / seconds_since(t0);
    t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto g = (*s3)->get("bench/" + std::to_string(i % 16));
      if (!g.ok() || !*g || (*g)->size() != size) return core::Error{"s3 bench: read failed"};
    }
    const double get_rps = n / seconds_since(t0);
    out.push_back({{"value_bytes", size},
                   {"ops", n},
                   {"put_ops_s", put_rps},
                   {"get_ops_s", get_rps},
                   {"put_mb_s", put_rps * static_cast<double>(size) / 1e6},
                   {"get_mb_s", get_rps * static_cast<double>(size) / 1e6}});
  }
  const std::size_t big = 40u << 20;
  const std::string value = payload(big);
  auto t0 = Clock::now();
  auto st = (*s3)->put("bench/multipart", value);
  if (!st.ok()) return st.error();
  const double put_s = seconds_since(t0);
  t0 = Clock::now();
  auto g = (*s3)->get("bench/multipart");
  if (!g.ok() || !*g || **g != value) return core::Error{"s3 bench: multipart read-back failed"};
  const double get_s = seconds_since(t0);
  out.push_back({{"value_bytes", big},
                 {"multipart", true},
                 {"put_mb_s", static_cast<double>(big) / 1e6 / put_s},
                 {"get_mb_s", static_cast<double>(big) / 1e6 / get_s}});
  for (int i = 0; i < 16; ++i) (void)(*s3)->del("bench/" + std::to_string(i));
  (void)(*s3)->del("bench/multipart");
  return out;
}

}  // namespace

core::Result<std::string> run_bench(const BenchOptions& o) {
  nlohmann::json j;
  auto want = [&](const char* t) {
    return std::find(o.tiers.begin(), o.tiers.end(), t) != o.tiers.end();
  };
  if (want("redis")) {
    std::unique_ptr<LocalServer> local;
    std::string url = o.redis_url;
    if (url.empty()) {
      auto r = LocalServer::start(o.source_dir, "redis");
      if (!r.ok()) return r.error();
      local = std::move(*r);
      url = "redis://127.0.0.1:" + std::to_string(local->port());
    }
    auto addr = parse_redis_url(url);
    if (!addr.ok()) return addr.error();
    if (!addr->password.empty())
      return core::Error{
          "tier bench: a Redis with a password is not supported (redis-benchmark "
          "would need it on its command line)"};
    auto r = bench_redis(o, *addr, url);
    if (!r.ok()) return r.error();
    j["redis"] = *r;
  }
  if (want("nvme")) {
    auto r = bench_nvme(o);
    if (!r.ok()) return r.error();
    j["nvme"] = *r;
  }
  if (want("s3")) {
    std::unique_ptr<LocalServer> local;
    std::string endpoint = o.s3_endpoint;
    if (endpoint.empty()) {
      auto s = LocalServer::start(o.source_dir, "s3proxy");
      if (!s.ok()) return s.error();
      local = std::move(*s);
      endpoint = "http://127.0.0.1:" + std::to_string(local->port());
    }
    auto r = bench_s3(o, endpoint, local != nullptr);
    if (!r.ok()) return r.error();
    j["s3"] = *r;
    j["s3_server"] = local ? "local S3Proxy 2.6.0 (filesystem-nio2)" : endpoint;
  }
  j["machine"] = {{"cores", std::thread::hardware_concurrency()}};
  return j.dump(2);
}

}  // namespace prescale::tier
