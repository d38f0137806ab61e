// Real servers for integration tests: started through the project's own scripts
// (scripts/stack/*.sh) on free loopback ports with a private run directory, and always
// stopped (the destructor stops whatever was started, also when a test fails). Plus a child
// process helper for running the `prescale` binary as users do.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bus/plane_bench.h"
#include "core/net.h"

extern char** environ;

namespace prescale::testing {

// A TCP port nothing listens on right now (the product's own helper).
inline int free_port() {
  auto p = core::free_loopback_port();
  if (!p.ok()) throw std::runtime_error(p.error().message);
  return *p;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Stack {
 public:
  explicit Stack(std::string source_dir)
      : source_dir_(std::move(source_dir)),
        run_dir_((std::filesystem::temp_directory_path() /
                  ("prescale-it-" + std::to_string(::getpid()) + "-" +
                   std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())))
                     .string()) {
    std::filesystem::create_directories(run_dir_);
  }
  ~Stack() {
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) script(*it, "stop");
    std::error_code ec;
    std::filesystem::remove_all(run_dir_, ec);
  }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Each returns an empty string on success, else the script's output.
  // extra_env: more NAME=VALUE for kafka.sh (its every verb), e.g. the variables of its
  // optional SASL_SSL listener.
  std::string start_kafka(const std::vector<std::string>& extra_env = {}) {
    kafka_env_ = extra_env;
    kafka_port_ = free_port();
    controller_port_ = free_port();
    return start("kafka");
  }
  std::string start_mosquitto() {
    mqtt_port_ = free_port();
    return start("mosquitto");
  }
  std::string start_redis() {
    redis_port_ = free_port();
    return start("redis");
  }
  std::string start_spark() {
    spark_port_ = free_port();
    spark_ui_ = free_port();
    worker_ui_ = free_port();
    return start("spark");
  }
  // S3Proxy (checks SigV4; credentials s3_access_key()/s3_secret_key()).
  std::string start_s3() {
    s3_port_ = free_port();
    return start("s3proxy");
  }
  // Stops (and forgets) one started service, e.g. Redis in the middle of a test; start_*
  // again restarts it on a new port.
  void stop_service(const std::string& svc) {
    script(svc, "stop");
    started_.erase(std::remove(started_.begin(), started_.end(), svc), started_.end());
  }
  // The IoT job (needs Kafka, Spark and Redis started first).
  std::string start_iot_job(const std::string& extra_env = "") {
    job_ui_ = free_port();
    job_env_ = extra_env;
    return start("iot-job");
  }
  std::string create_topics(const std::string& names) {
    const std::string out = run_dir_ + "/topics.out";
    if (script("kafka", "topics " + names, out) != 0) return read_text(out);
    return "";
  }
  int redis_port() const { return redis_port_; }
  int s3_port() const { return s3_port_; }
  std::string s3_endpoint() const { return "http://127.0.0.1:" + std::to_string(s3_port_); }
  static std::string s3_access_key() { return "prescale"; }
  static std::string s3_secret_key() { return "prescale-secret"; }
  int job_ui_port() const { return job_ui_; }

  std::string brokers() const { return "127.0.0.1:" + std::to_string(kafka_port_); }
  int mqtt_port() const { return mqtt_port_; }
  const std::string& run_dir() const { return run_dir_; }
  // This stack as the stack scripts know it, NAME=VALUE each: the run directory and the
  // services' ports (0 for a service not started). What a script that works on a running
  // stack needs, as after `make stack-up` (examples/quickstart/quickstart.sh).
  std::vector<std::string> script_env() const {
    return {"PRESCALE_RUN_DIR=" + run_dir_,
            "KAFKA_PORT=" + std::to_string(kafka_port_),
            "KAFKA_CONTROLLER_PORT=" + std::to_string(controller_port_),
            "MQTT_PORT=" + std::to_string(mqtt_port_),
            "REDIS_PORT=" + std::to_string(redis_port_),
            "S3_PORT=" + std::to_string(s3_port_),
            "SPARK_MASTER_PORT=" + std::to_string(spark_port_),
            "SPARK_MASTER_WEBUI_PORT=" + std::to_string(spark_ui_),
            "SPARK_WORKER_WEBUI_PORT=" + std::to_string(worker_ui_)};
  }

 private:
  std::string start(const std::string& svc) {
    started_.push_back(svc);  // stop even a half-started service
    const std::string out = run_dir_ + "/" + svc + "-start.out";
    if (script(svc, "start", out) != 0) return read_text(out);
    return "";
  }
  int script(const std::string& svc, const std::string& verb, const std::string& out = "") {
    std::string cmd;
    std::vector<std::string> env = script_env();
    if (svc == "kafka") env.insert(env.end(), kafka_env_.begin(), kafka_env_.end());
    for (const auto& kv : env) {
      const auto eq = kv.find('=');
      cmd += kv.substr(0, eq + 1) + "'" + kv.substr(eq + 1) + "' ";
    }
    cmd += "JOB_UI_PORT=" + std::to_string(job_ui_) + " " + job_env_ + " bash '" + source_dir_ +
           "/scripts/stack/" + svc + ".sh' " + verb +
           (out.empty() ? std::string(" >/dev/null 2>&1") : " >'" + out + "' 2>&1");
    return std::system(cmd.c_str());
  }

  std::string source_dir_, run_dir_;
  std::vector<std::string> started_;
  int kafka_port_ = 0, controller_port_ = 0, mqtt_port_ = 0, redis_port_ = 0;
  int spark_port_ = 0, spark_ui_ = 0, worker_ui_ = 0, job_ui_ = 0;
  int s3_port_ = 0;
  std::string job_env_;
  std::vector<std::string> kafka_env_;
};

// A child process with stdin/stdout/stderr redirected to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& stdin_path,
        const std::string& stdout_path, const std::string& stderr_path) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdin_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&fa, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // The exit code, or -1 when it did not exit within timeout_s (it is then killed).
  int wait(double timeout_s) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (pid_ > 0) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace prescale::testing
