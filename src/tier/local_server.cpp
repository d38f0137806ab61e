#include "tier/local_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/files.h"
#include "core/net.h"

namespace prescale::tier {

core::Result<std::unique_ptr<LocalServer>> LocalServer::start(const std::string& source_dir,
                                                              const std::string& service,
                                                              const std::string& run_dir) {
  std::unique_ptr<LocalServer> s(new LocalServer());
  s->service_ = service;
  s->script_ = source_dir + "/scripts/stack/" + service + ".sh";
  if (!std::filesystem::exists(s->script_))
    return core::Error{s->script_ + ": missing (run from a prescale checkout, or configure the " +
                       service + " server)"};
  auto p = core::free_loopback_port();
  if (!p.ok()) return p.error();
  s->port_ = *p;
  if (run_dir.empty()) {
    char tmpl[] = "/tmp/prescale-tier-srv.XXXXXX";
    if (!::mkdtemp(tmpl)) return core::Error{"cannot create a temporary run directory"};
    s->run_dir_ = tmpl;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(run_dir, ec);
    if (ec) return core::Error{run_dir + ": cannot create: " + ec.message()};
    s->run_dir_ = run_dir;
  }
  const std::string log = s->run_dir_ + "/start.log";
  s->running_ = true;  // stop even a half-started server
  const int rc = s->run("start", log);
  auto text = core::read_file(log);
  s->start_log_ = text.ok() ? *text : text.error().message;
  if (rc != 0) return core::Error{"could not start a local " + service + ":\n" + s->start_log_};
  return s;
}

int LocalServer::run(const std::string& verb, const std::string& log) const {
  const std::string port = std::to_string(port_);
  const std::string cmd = "PRESCALE_RUN_DIR='" + run_dir_ + "' REDIS_PORT=" + port +
                          " S3_PORT=" + port + " bash '" + script_ + "' " + verb + " >'" + log +
                          "' 2>&1";
  return std::system(cmd.c_str());
}

void LocalServer::stop() {
  if (!running_) return;
  running_ = false;
  run("stop", "/dev/null");
}

bool LocalServer::kill9() {
  auto pid = core::read_file(run_dir_ + "/" + service_ + "/" + service_ + ".pid");
  if (!pid.ok()) return false;
  const int p = std::atoi(pid->c_str());
  if (p <= 0) return false;
  // Its children too (Redis forks for AOF rewrites; the child holds the listening socket):
  // a crash of the machine takes them all.
  std::vector<int> children;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto st = core::read_file(e.path().string() + "/status");
    if (st.ok() && st->find("\nPPid:\t" + std::to_string(p) + "\n") != std::string::npos)
      children.push_back(std::atoi(name.c_str()));
  }
  if (::kill(p, SIGKILL) != 0) return false;
  for (int c : children) ::kill(c, SIGKILL);
  // Reap-free wait: the server is the script's orphan, not our child.
  auto gone = [p] {
    if (::kill(p, 0) != 0) return true;
    auto st = core::read_file("/proc/" + std::to_string(p) + "/status");
    return !st.ok() || st->find("State:\tZ") != std::string::npos;  // a zombie is dead
  };
  for (int i = 0; i < 500 && !gone(); ++i) ::usleep(2000);
  return true;
}

core::Status LocalServer::restart(bool wipe) {
  // A killed multi-threaded server (the JVM) may hold its port a moment after its main thread
  // is gone: wait up to 10 s for the port to close.
  for (int i = 0; i < 1000; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (!open) break;
    ::usleep(10'000);
  }
  if (wipe && service_ == "redis") {
    std::error_code ec;
    std::filesystem::remove_all(run_dir_ + "/redis/appendonlydir", ec);
    std::filesystem::remove(run_dir_ + "/redis/dump.rdb", ec);
  }
  const std::string log = run_dir_ + "/restart.log";
  running_ = true;
  const int rc = run("start", log);
  auto text = core::read_file(log);
  start_log_ = text.ok() ? *text : text.error().message;
  if (rc != 0) return core::Error{"could not restart the local " + service_ + ":\n" + start_log_};
  return core::Status::Ok();
}

LocalServer::~LocalServer() {
  stop();
  if (run_dir_.empty() || keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(run_dir_, ec);
}

}  // namespace prescale::tier
