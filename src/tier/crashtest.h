// `prescale tier crashtest`: kill -9 a migrating, writing store process at random points,
// restart, recover, and verify every object byte for byte against a journal the parent
// keeps outside the store; and `prescale tier worker`, that child process.
//
// The worker reads one command per line on stdin and answers one line on stdout after the
// store returned:  "p KEY N" (put test_content(KEY, N)), "d KEY" (delete), "g KEY" (read,
// which heats the key), "b 1" / "b 0" (burst mode on/off: writes land in Redis). Its migrator
// thread ticks every tick_ms with small budgets and a short half-life, so objects move between
// tiers all the time. The parent journals a put or delete only once acknowledged; an unacknowledged
// one may or may not have happened, so after a crash each key must hold its last acknowledged
// content or one of its pending ones — anything else is corrupted, a missing acknowledged object is
// lost.
//
// Half the rounds kill the worker from the parent after a random delay; the other half ask
// the worker to SIGKILL itself at the Nth pass through a named protocol point
// (TieredStore's crash hook), so every point of the protocol is hit many times.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/result.h"
#include "tier/config.h"

namespace prescale::tier {

// The deterministic content of version N of a key (size 64 B .. ~256 KB).
std::string test_content(const std::string& key, std::int64_t n);

struct WorkerOptions {
  std::string crash_at;  // a protocol point ("" = none)
  int crash_after = 1;   // SIGKILL at this pass through it
};

// Runs the worker on stdin/stdout until EOF. Returns the exit code.
int run_worker(const TierConfig& config, const WorkerOptions& options);

struct CrashTestOptions {
  int rounds = 20;
  int keys = 24;
  std::uint64_t seed = 1;
  std::string self_exe;     // the prescale binary (for `tier worker`; "/proc/self/exe" is best)
  std::string source_dir;   // scripts/stack, to start Redis and S3Proxy
  std::string redis_url;    // "" = start one
  std::string s3_endpoint;  // "" = start one (credentials from the environment otherwise)
  std::string work_dir;     // "" = a temporary directory, removed afterwards
  // kill -9 the Redis and S3 servers too (only servers this run started): in about a
  // quarter of the rounds each, at a random moment of the round; Redis is restarted at once
  // in half of its rounds (the worker sees it come back) and restarted without its data in
  // half (a Redis without persistence, or one that lost its disk).
  bool kill_servers = true;
  bool verbose = false;
};

struct CrashTestReport {
  int rounds = 0;
  int lost = 0, corrupted = 0, orphans = 0, leftover_intents = 0;
  int timer_kills = 0, point_kills = 0;
  std::map<std::string, int> points;  // named point -> kills there
  std::uint64_t acked_puts = 0, acked_deletes = 0, gets = 0, migrations = 0, burst_switches = 0;
  std::uint64_t recovered_intents = 0, recovered_orphans = 0;
  int redis_kills = 0, redis_wipes = 0, redis_mid_round_restarts = 0, s3_kills = 0;
  double redis_restart_s = 0, s3_restart_s = 0;  // total time spent restarting them
  // Partial uploads a killed S3Proxy left (temp files without their MD5 attribute, never
  // acknowledged) that scripts/stack/s3proxy.sh removed before restarting it.
  int s3_partial_uploads_removed = 0;
  int recovery_retries = 0;           // recoveries retried because a restarted server still failed
  std::uint64_t cache_fallbacks = 0;  // verification reads served by the backing copy
  double seconds = 0;
  std::string first_problem;
  std::string to_json() const;
};

core::Result<CrashTestReport> run_crashtest(const CrashTestOptions& options);

}  // namespace prescale::tier
