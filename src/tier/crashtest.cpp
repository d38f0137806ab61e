#include "tier/crashtest.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "core/files.h"
#include "tier/local_server.h"

namespace prescale::tier {

namespace {

std::uint64_t splitmix(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

const char* kPoints[] = {"put:intent",       "put:written",      "put:committed",
                         "drop:deleted",     "migrate:intent",   "migrate:copied",
                         "migrate:verified", "migrate:committed"};

}  // namespace

std::string test_content(const std::string& key, std::int64_t n) {
  std::uint64_t s =
      std::hash<std::string>{}(key) ^ (static_cast<std::uint64_t>(n) * 0x100000001b3ULL);
  const std::uint64_t r = splitmix(s);
  size_t size = 64 + r % 48'000;
  if (r % 16 == 0) size = 128'000 + r % 128'000;
  std::string out(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const std::uint64_t w = splitmix(s);
    for (size_t b = 0; b < 8 && i + b < size; ++b) out[i + b] = static_cast<char>(w >> (8 * b));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The worker (child)

int run_worker(const TierConfig& config, const WorkerOptions& wo) {
  TierConfig c = config;
  std::atomic<int> passes{0};
  if (!wo.crash_at.empty()) {
    const std::string at = wo.crash_at;
    const int after = wo.crash_after;
    c.store.crash_hook = [at, after, &passes](const char* point) {
      if (at == point && ++passes >= after) ::raise(SIGKILL);
    };
  }
  auto store = open_store(c);
  if (!store.ok()) {
    std::cerr << "worker: " << store.error().message << "\n";
    return 1;
  }
  auto rep = (*store)->recover();
  if (!rep.ok()) {
    std::cerr << "worker: recovery: " << rep.error().message << "\n";
    return 1;
  }
  TieredStore* s = store->get();
  std::atomic<bool> stop{false};
  std::thread migrator([&] {
    while (!stop) {
      auto t = s->tick();
      if (!t.ok()) std::cerr << "worker: tick: " << t.error().message << "\n";
      std::this_thread::sleep_for(std::chrono::milliseconds(c.tick_ms));
    }
  });
  std::printf("ready\n");
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string op, key;
    in >> op >> key;
    std::string answer = "ok";
    if (op == "p") {
      std::int64_t n = 0;
      in >> n;
      auto st = s->put(key, test_content(key, n));
      if (!st.ok()) answer = "err " + st.message();
    } else if (op == "d") {
      auto st = s->del(key);
      if (!st.ok()) answer = "err " + st.message();
    } else if (op == "g") {
      auto g = s->get(key);
      if (!g.ok()) answer = "err " + g.error().message;
    } else if (op == "b") {  // burst mode on ("b 1") or off ("b 0")
      s->set_burst(key == "1");
    } else {
      answer = "err unknown command";
    }
    std::printf("%s\n", answer.c_str());
    std::fflush(stdout);
  }
  stop = true;
  migrator.join();
  return 0;
}

// ---------------------------------------------------------------------------------------
// The parent

namespace {

struct Child {
  pid_t pid = -1;
  int in = -1, out = -1;  // our ends: write commands, read answers
  std::string buf;

  bool spawn(const std::vector<std::string>& argv, const std::string& log) {
    int to[2], from[2];
    if (::pipe2(to, O_CLOEXEC) != 0 || ::pipe2(from, O_CLOEXEC) != 0) return false;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(to[0], 0);
      ::dup2(from[1], 1);
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (err >= 0) ::dup2(err, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(to[0]);
    ::close(from[1]);
    in = to[1];
    out = from[0];
    ::signal(SIGPIPE, SIG_IGN);
    return pid > 0;
  }
  // Next answer line; "" when the child is gone or nothing came within timeout_ms.
  std::string read_line(int timeout_ms, bool* eof) {
    *eof = false;
    while (true) {
      const auto nl = buf.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return line;
      }
      pollfd p{out, POLLIN, 0};
      const int r = ::poll(&p, 1, timeout_ms);
      if (r <= 0) return "";
      char tmp[4096];
      const ssize_t n = ::read(out, tmp, sizeof tmp);
      if (n <= 0) {
        *eof = true;
        return "";
      }
      buf.append(tmp, static_cast<size_t>(n));
    }
  }
  bool send(const std::string& line) {
    const std::string l = line + "\n";
    return ::write(in, l.data(), l.size()) == static_cast<ssize_t>(l.size());
  }
  void kill_and_reap() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      pid = -1;
    }
    if (in >= 0) ::close(in);
    if (out >= 0) ::close(out);
    in = out = -1;
    buf.clear();
  }
  ~Child() { kill_and_reap(); }
};

// What a key may hold: its last acknowledged version (0 = absent) or a pending one.
struct Expect {
  std::int64_t committed = 0;
  std::vector<std::int64_t> pending;  // sent, not acknowledged (-1 = a delete)
};

std::string config_yaml(const std::string& dir, const std::string& redis_url,
                        const std::string& s3_endpoint, const std::string& secret_file) {
  std::ostringstream y;
  y << "catalog: " << dir << "/catalog.db\n"
    << "key_prefix: ct/\n"
    << "tick_ms: 5\n"
    << "half_life_s: 2\n"
    << "hot_per_hour: 4000\n"
    << "warm_per_hour: 1500\n"
    << "max_moves_per_tick: 8\n"
    << "nvme:\n  dir: " << dir << "/nvme\n  budget_mb: 0.5\n  codec: none\n"
    << "redis:\n  url: " << redis_url << "\n  budget_mb: 0.25\n  codec: lz4\n"
    << "s3:\n  endpoint: " << s3_endpoint << "\n  bucket: crashtest\n  region: us-east-1\n"
    << "  access_key: " << LocalServer::s3_access_key() << "\n  secret_file: " << secret_file
    << "\n  codec: zstd\n  max_attempts: 6\n  backoff_ms: 20\n";
  return y.str();
}

// N from s3proxy.sh's "removed N partial upload(s) ..." line; 0 when it removed none.
int partial_uploads_removed(const std::string& start_log) {
  const auto at = start_log.find("removed ");
  if (at == std::string::npos || start_log.find(" partial upload", at) == std::string::npos)
    return 0;
  return std::atoi(start_log.c_str() + at + 8);
}

}  // namespace

std::string CrashTestReport::to_json() const {
  nlohmann::json j;
  j["rounds"] = rounds;
  j["lost"] = lost;
  j["corrupted"] = corrupted;
  j["orphans"] = orphans;
  j["leftover_intents"] = leftover_intents;
  j["timer_kills"] = timer_kills;
  j["point_kills"] = point_kills;
  j["points"] = points;
  j["acked_puts"] = acked_puts;
  j["acked_deletes"] = acked_deletes;
  j["gets"] = gets;
  j["burst_switches"] = burst_switches;
  j["migrations_committed"] = migrations;
  j["recovered_intents"] = recovered_intents;
  j["recovered_orphans"] = recovered_orphans;
  j["redis_kills"] = redis_kills;
  j["redis_wipes"] = redis_wipes;
  j["redis_mid_round_restarts"] = redis_mid_round_restarts;
  j["s3_kills"] = s3_kills;
  j["redis_restart_s"] = redis_restart_s;
  j["s3_restart_s"] = s3_restart_s;
  j["s3_partial_uploads_removed"] = s3_partial_uploads_removed;
  j["cache_fallbacks"] = cache_fallbacks;
  j["recovery_retries"] = recovery_retries;
  j["seconds"] = seconds;
  if (!first_problem.empty()) j["first_problem"] = first_problem;
  return j.dump();
}

core::Result<CrashTestReport> run_crashtest(const CrashTestOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string dir = o.work_dir;
  bool remove_dir = false;
  if (dir.empty()) {
    char tmpl[] = "/tmp/prescale-crashtest.XXXXXX";
    if (!::mkdtemp(tmpl)) return core::Error{"cannot create a temporary directory"};
    dir = tmpl;
    remove_dir = true;
  }
  std::filesystem::create_directories(dir);
  // The servers keep their data and logs under the work directory, which a failed run
  // leaves in place (named in the error) so that they can be read.
  std::unique_ptr<LocalServer> redis, s3;
  bool passed = false;
  struct KeepOnFailure {
    const bool& passed;
    std::unique_ptr<LocalServer>&a, &b;
    ~KeepOnFailure() {
      if (passed) return;
      if (a) a->keep();
      if (b) b->keep();
    }
  } keep_on_failure{passed, redis, s3};
  auto failed = [&dir](const std::string& what) {
    return core::Error{what + " (work directory and server logs kept in " + dir + ")"};
  };
  std::string redis_url = o.redis_url, s3_endpoint = o.s3_endpoint;
  if (redis_url.empty()) {
    auto r = LocalServer::start(o.source_dir, "redis", dir + "/servers/redis");
    if (!r.ok()) return failed(r.error().message);
    redis = std::move(*r);
    redis_url = "redis://127.0.0.1:" + std::to_string(redis->port());
  }
  if (s3_endpoint.empty()) {
    auto s = LocalServer::start(o.source_dir, "s3proxy", dir + "/servers/s3proxy");
    if (!s.ok()) return failed(s.error().message);
    s3 = std::move(*s);
    s3_endpoint = "http://127.0.0.1:" + std::to_string(s3->port());
  }
  const std::string secret_file = dir + "/s3-secret";
  if (auto st = core::write_file_atomic(secret_file, LocalServer::s3_secret_key()); !st.ok())
    return st.error();
  const std::string cfg_path = dir + "/tier.yaml";
  if (auto st =
          core::write_file_atomic(cfg_path, config_yaml(dir, redis_url, s3_endpoint, secret_file));
      !st.ok())
    return st.error();
  auto cfg = load_tier_config(cfg_path);
  if (!cfg.ok()) return cfg.error();

  std::mt19937_64 rng(o.seed);
  std::vector<std::string> keys;
  for (int i = 0; i < o.keys; ++i) keys.push_back("sensor/" + std::to_string(i) + "/agg");
  std::map<std::string, Expect> journal;
  std::int64_t next_version = 1;
  CrashTestReport rep;

  for (int round = 0; round < o.rounds; ++round) {
    WorkerOptions wo;
    const bool by_point = rng() % 2 == 0;
    std::vector<std::string> argv = {o.self_exe, "tier", "worker", "--config", cfg_path};
    if (by_point) {
      wo.crash_at = kPoints[rng() % (sizeof kPoints / sizeof kPoints[0])];
      wo.crash_after = 1 + static_cast<int>(rng() % 4);
      argv.insert(argv.end(),
                  {"--crash-at", wo.crash_at, "--crash-after", std::to_string(wo.crash_after)});
    }
    Child child;
    if (!child.spawn(argv, dir + "/worker.log")) return failed("cannot start the worker");
    bool eof = false;
    const std::string hello = child.read_line(30'000, &eof);
    if (hello != "ready") {
      auto log = core::read_file(dir + "/worker.log");
      return failed("round " + std::to_string(round) +
                    ": the worker did not start: " + (log.ok() ? *log : ""));
    }
    // Random timer kill: 20..400 ms after ready (point rounds: a 3 s safety net).
    const std::uint64_t round_ms = 20 + rng() % 380;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(by_point ? 3000 : round_ms);
    // Servers killed this round, each at its own random moment of it (a kill still pending
    // when the worker died happens right then, before the restart and the check).
    using Clock = std::chrono::steady_clock;
    const bool kill_redis = o.kill_servers && redis && rng() % 4 == 0;
    const bool kill_s3 = o.kill_servers && s3 && rng() % 4 == 0;
    const bool wipe_redis = rng() % 2 == 0, redis_back_mid_round = rng() % 2 == 0;
    const std::uint64_t span_ms = by_point ? 150 : round_ms;
    const auto redis_at = Clock::now() + std::chrono::milliseconds(rng() % span_ms);
    const auto s3_at = Clock::now() + std::chrono::milliseconds(rng() % span_ms);
    bool redis_down = false, redis_done = !kill_redis, s3_down = false, s3_done = !kill_s3;
    auto restart = [&](LocalServer* srv, bool wipe, double* seconds) -> core::Status {
      const auto t = Clock::now();
      auto st = srv->restart(wipe);
      *seconds += std::chrono::duration<double>(Clock::now() - t).count();
      return st;
    };
    std::vector<std::pair<std::string, std::int64_t>> outstanding;  // key, version (-1 del, 0 get)
    bool died = false;
    auto kill_servers_due = [&](bool now) -> core::Status {
      if (!redis_done && (now || Clock::now() >= redis_at)) {
        redis_done = true;
        if (redis->kill9()) {
          ++rep.redis_kills;
          redis_down = true;
          if (wipe_redis) ++rep.redis_wipes;
          if (redis_back_mid_round && !now) {  // the worker sees Redis come back (maybe empty)
            if (auto st = restart(redis.get(), wipe_redis, &rep.redis_restart_s); !st.ok())
              return st;
            redis_down = false;
            ++rep.redis_mid_round_restarts;
          }
        }
      }
      if (!s3_done && (now || Clock::now() >= s3_at)) {
        s3_done = true;
        if (s3->kill9()) {
          ++rep.s3_kills;
          s3_down = true;
        }
      }
      return core::Status::Ok();
    };
    while (!died) {
      if (std::chrono::steady_clock::now() >= deadline) break;
      if (auto st = kill_servers_due(false); !st.ok()) return failed(st.message());
      while (outstanding.size() < 3) {
        const std::string& key = keys[rng() % keys.size()];
        const auto dice = rng() % 10;
        std::string cmd;
        std::int64_t v = 0;
        if (rng() % 20 == 0) {  // burst mode flips now and then: writes land in Redis
          outstanding.emplace_back("", 0);
          if (!child.send(std::string("b ") + (rng() % 2 ? "1" : "0"))) {
            died = true;
            break;
          }
          continue;
        }
        if (dice < 6) {
          v = next_version++;
          cmd = "p " + key + " " + std::to_string(v);
        } else if (dice < 7) {
          v = -1;
          cmd = "d " + key;
        } else {
          cmd = "g " + key;
        }
        if (v != 0) journal[key].pending.push_back(v);
        outstanding.emplace_back(key, v);
        if (!child.send(cmd)) {
          died = true;
          break;
        }
      }
      const std::string line = child.read_line(50, &eof);
      if (eof) {
        died = true;
        break;
      }
      if (line.empty()) continue;
      auto [key, v] = outstanding.front();
      outstanding.erase(outstanding.begin());
      if (line != "ok") {
        if (rep.first_problem.empty()) rep.first_problem = "worker: " + line;
        continue;  // a failed op stays pending (may or may not have happened)
      }
      if (key.empty()) {
        ++rep.burst_switches;
        continue;
      }
      Expect& e = journal[key];
      if (v == 0) {
        ++rep.gets;
        continue;
      }
      // Acknowledged: this version is now the committed one; older pending ones are
      // superseded (operations on one key are applied in order by the worker).
      e.committed = v < 0 ? 0 : v;
      auto it = std::find(e.pending.begin(), e.pending.end(), v);
      if (it != e.pending.end()) e.pending.erase(e.pending.begin(), it + 1);
      (v < 0 ? rep.acked_deletes : rep.acked_puts)++;
    }
    int status = 0;
    if (!died) {
      ++rep.timer_kills;
    } else {
      ::waitpid(child.pid, &status, 0);
      child.pid = -1;
      if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
        ++rep.point_kills;
        rep.points[wo.crash_at]++;
      } else {
        auto log = core::read_file(dir + "/worker.log");
        return failed("round " + std::to_string(round) + ": the worker exited on its own (" +
                      std::to_string(status) + "): " + (log.ok() ? *log : ""));
      }
    }
    child.kill_and_reap();

    if (auto st = kill_servers_due(true); !st.ok()) return failed(st.message());
    // Servers killed this round come back (on the same port) before the check.
    if (redis_down)
      if (auto st = restart(redis.get(), wipe_redis, &rep.redis_restart_s); !st.ok())
        return failed(st.message());
    if (s3_down) {
      if (auto st = restart(s3.get(), false, &rep.s3_restart_s); !st.ok())
        return failed(st.message());
      rep.s3_partial_uploads_removed += partial_uploads_removed(s3->start_log());
    }

    // Restart, recover and verify in this process, against the journal.
    auto store = open_store(*cfg);
    if (!store.ok())
      return failed("round " + std::to_string(round) + ": reopen: " + store.error().message);
    // A server restarted a moment ago may still answer 5xx (S3Proxy warming up): retry
    // recovery for up to 10 s; what still fails then is reported.
    auto rec = (*store)->recover();
    for (int i = 0; i < 20 && !rec.ok(); ++i) {
      ++rep.recovery_retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      rec = (*store)->recover();
    }
    if (!rec.ok())
      return failed("round " + std::to_string(round) + ": recovery: " + rec.error().message);
    rep.recovered_intents += static_cast<std::uint64_t>(rec->intents);
    rep.recovered_orphans += static_cast<std::uint64_t>(rec->orphans);
    for (const auto& key : keys) {
      Expect& e = journal[key];
      auto g = (*store)->get(key);
      std::set<std::int64_t> ok = {e.committed};
      for (auto v : e.pending) ok.insert(v < 0 ? 0 : v);
      std::int64_t found = -2;
      if (!g.ok()) {
        ++rep.corrupted;
        if (rep.first_problem.empty()) rep.first_problem = key + ": " + g.error().message;
        continue;
      }
      if (!*g) {
        found = 0;
      } else {
        for (auto v : ok)
          if (v > 0 && **g == test_content(key, v)) found = v;
      }
      if (found == -2 || !ok.count(found)) {
        const bool absent = found == 0;
        (absent ? rep.lost : rep.corrupted)++;
        if (rep.first_problem.empty())
          rep.first_problem = "round " + std::to_string(round) + ": " + key +
                              (absent ? " lost" : " corrupted") + " (expected version " +
                              std::to_string(e.committed) + ")";
        found = e.committed;  // keep checking later rounds against the journal
      }
      e.committed = found;
      e.pending.clear();
    }
    auto orphans = (*store)->count_orphans();
    if (!orphans.ok()) return failed(orphans.error().message);
    rep.orphans += *orphans;
    auto left = (*store)->recover();
    if (left.ok()) rep.leftover_intents += left->intents;
    rep.migrations = (*store)->stats().migrations;
    rep.cache_fallbacks += (*store)->stats().cache_fallbacks;
    ++rep.rounds;
    if (o.verbose)
      std::cerr << "round " << round << ": " << (by_point ? wo.crash_at : "timer")
                << (kill_redis ? (wipe_redis ? " +redis(wiped)" : " +redis") : "")
                << (kill_s3 ? " +s3" : "") << " lost " << rep.lost << " corrupted " << rep.corrupted
                << " orphans " << rep.orphans << "\n";
  }
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  passed = rep.lost == 0 && rep.corrupted == 0 && rep.orphans == 0;
  if (!passed) rep.first_problem += " (work directory and server logs kept in " + dir + ")";
  for (auto* srv : {&redis, &s3}) {  // stopped through the PID files under dir: before it goes
    if (*srv && !passed) (*srv)->keep();
    srv->reset();
  }
  if (remove_dir && passed) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return rep;
}

}  // namespace prescale::tier
