// A Redis or S3Proxy server of our own on a free loopback port, started and stopped
// through the project's stack scripts (scripts/stack/redis.sh, s3proxy.sh) with a private
// run directory: what `prescale tier crashtest` and `tier bench` use when no server is
// configured. The destructor stops the server and removes its directory unless keep() was
// called (a failed run leaves the server's data and log to read).
#pragma once

#include <memory>
#include <string>

#include "core/result.h"

namespace prescale::tier {

class LocalServer {
 public:
  // `service`: "redis" or "s3proxy"; `source_dir`: the checkout holding scripts/stack;
  // `run_dir`: where its data and log go ("" = a new temporary directory).
  static core::Result<std::unique_ptr<LocalServer>> start(const std::string& source_dir,
                                                          const std::string& service,
                                                          const std::string& run_dir = "");
  ~LocalServer();
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  int port() const { return port_; }
  // The run directory: data, log and PID file under <run_dir>/<service>/.
  const std::string& run_dir() const { return run_dir_; }
  // Leave the run directory in place when destroyed (the server is still stopped).
  void keep() { keep_ = true; }
  // Stops it now (the destructor then does nothing more than clean up).
  void stop();
  // SIGKILLs the server (no shutdown: what a crash or the OOM killer does); false when it
  // was not running.
  bool kill9();
  // Starts it again on the same port and data directory after kill9(). With `wipe` the
  // data is deleted first (Redis: its AOF and RDB files; a server that lost its disk).
  core::Status restart(bool wipe = false);
  // What the stack script printed during the last start or restart (its "stack: ..." lines,
  // e.g. the partial uploads s3proxy.sh removed before starting).
  const std::string& start_log() const { return start_log_; }
  // The local S3Proxy's credentials (a test identity, not a secret worth hiding).
  static const char* s3_access_key() { return "prescale"; }
  static const char* s3_secret_key() { return "prescale-secret"; }

 private:
  LocalServer() = default;
  int run(const std::string& verb, const std::string& log) const;

  std::string script_, service_, run_dir_, start_log_;
  int port_ = 0;
  bool running_ = false;
  bool keep_ = false;
};

}  // namespace prescale::tier
