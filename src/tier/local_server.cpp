#include "tier/local_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/files.h"

namespace prescale::tier {

core::Result<int> free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return core::Error{"cannot open a socket"};
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  if (!ok) return core::Error{"cannot bind 127.0.0.1:0"};
  return static_cast<int>(ntohs(a.sin_port));
}

core::Result<std::unique_ptr<LocalServer>> LocalServer::start(const std::string& source_dir,
                                                              const std::string& service) {
  std::unique_ptr<LocalServer> s(new LocalServer());
  s->service_ = service;
  s->script_ = source_dir + "/scripts/stack/" + service + ".sh";
  if (!std::filesystem::exists(s->script_))
    return core::Error{s->script_ + ": missing (run from a prescale checkout, or configure the " +
                       service + " server)"};
  auto p = free_loopback_port();
  if (!p.ok()) return p.error();
  s->port_ = *p;
  char tmpl[] = "/tmp/prescale-tier-srv.XXXXXX";
  if (!::mkdtemp(tmpl)) return core::Error{"cannot create a temporary run directory"};
  s->run_dir_ = tmpl;
  const std::string log = s->run_dir_ + "/start.log";
  s->running_ = true;  // stop even a half-started server
  if (s->run("start", log) != 0) {
    auto text = core::read_file(log);
    return core::Error{"could not start a local " + service + ":\n" +
                       (text.ok() ? *text : text.error().message)};
  }
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

LocalServer::~LocalServer() {
  stop();
  if (run_dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(run_dir_, ec);
}

}  // namespace prescale::tier
