// Kafka with TLS and SASL (issue 15, item 7): a real broker (scripts/stack/kafka.sh) with its
// optional SASL_SSL listener beside the PLAINTEXT one, the certificates made by the test
// with the openssl CLI (a CA, a broker certificate for IP:127.0.0.1 and DNS:localhost, a
// PKCS12 keystore), every secret random per run and kept in mode-600 files (but one copy
// left readable on purpose: it must draw a warning). Then `prescale edge` and `prescale
// controller` connect through SASL_SSL with kafka.* properties only, their passwords from
// --kafka-file / kafka_file:; what they sent is read back through the PLAINTEXT listener. A
// wrong password, a CA that did not sign the broker's certificate and a client without TLS
// fail clearly and in time. After each case every log, stdout and stderr file the test
// produced (the agent's, the controller's, the broker's server.log and the scripts' output),
// the broker's command line and its environment are searched for every secret: none may
// appear.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "bus/kafka.h"
#include "bus/messages.h"
#include "bus/signing.h"
#include "stack_fixture.h"

namespace prescale {
namespace {

namespace fs = std::filesystem;
using testing::Child;
using testing::read_text;

// `prefix` and 32 random hex digits: a secret no file holds by chance.
std::string random_secret(const std::string& prefix) {
  std::random_device rd;
  std::string s = prefix;
  char hex[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(hex, sizeof hex, "%08x", rd());
    s += hex;
  }
  return s;
}

// Writes a file created with `mode` (the umask only removes bits).
void write_file(const std::string& path, const std::string& text, mode_t mode) {
  fs::remove(path);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size())) << path;
  ::close(fd);
  ::chmod(path.c_str(), mode);
}

// The openssl CLI, from PATH (Child runs a path, not a name).
std::string find_openssl() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    const std::string p = d + "/openssl";
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

class KafkaSecurityIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new testing::Stack(PRESCALE_SOURCE_DIR);
    tls_ = stack_->run_dir() + "/tls";
    fs::create_directories(tls_);
    fs::permissions(tls_, fs::perms::owner_all);
    edge_password_ = random_secret("edge-pw-");
    ctl_password_ = random_secret("ctl-pw-");
    keystore_password_ = random_secret("ks-pw-");
    wrong_password_ = random_secret("wrong-pw-");
    setup_error_ = make_certificates();
    if (!setup_error_.empty()) return;
    write_file(tls_ + "/users.txt",
               "# the SASL/PLAIN accounts of the broker's SASL_SSL listener\nedge " +
                   edge_password_ + "\nctl " + ctl_password_ + "\n",
               0600);
    write_file(tls_ + "/edge.properties",
               "# the agent's secret\nsasl.password=" + edge_password_ + "\n", 0600);
    write_file(tls_ + "/ctl.properties", "sasl.password = " + ctl_password_ + "\n", 0600);
    write_file(tls_ + "/wrong.properties", "sasl.password=" + wrong_password_ + "\n", 0600);
    sasl_port_ = testing::free_port();
    setup_error_ =
        stack_->start_kafka({"KAFKA_SASL_SSL_PORT=" + std::to_string(sasl_port_),
                             "KAFKA_SSL_KEYSTORE=" + tls_ + "/broker.p12",
                             "KAFKA_SSL_KEYSTORE_PASSWORD_FILE=" + tls_ + "/keystore.pass",
                             "KAFKA_SASL_PLAIN_USERS_FILE=" + tls_ + "/users.txt"});
    std::ofstream(path("keys.txt")) << "gw-sec " << std::string(64, 'e') << "\n";
  }
  static void TearDownTestSuite() {
    delete stack_;  // stops Kafka, removes the run directory (certificates and secrets too)
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, "") << "the SASL_SSL broker did not start"; }

  static std::string path(const std::string& name) { return stack_->run_dir() + "/" + name; }
  static std::string sasl_brokers() { return "127.0.0.1:" + std::to_string(sasl_port_); }

  // A CA, the broker's key and certificate signed by it (subjectAltName IP:127.0.0.1 and
  // DNS:localhost: librdkafka verifies the broker's name by default), and a PKCS12 keystore
  // whose password is read from a file (never on a command line). "" or what failed.
  static std::string make_certificates() {
    const std::string openssl = find_openssl();
    if (openssl.empty()) return "no openssl in PATH";
    write_file(tls_ + "/keystore.pass", keystore_password_ + "\n", 0600);
    write_file(tls_ + "/broker.ext",
               "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
               "basicConstraints=CA:FALSE\n",
               0644);
    const std::vector<std::vector<std::string>> steps = {
        {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tls_ + "/ca.key", "-out",
         tls_ + "/ca.pem", "-days", "2", "-subj", "/CN=prescale test CA", "-addext",
         "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
        {"req", "-newkey", "rsa:2048", "-nodes", "-keyout", tls_ + "/broker.key", "-out",
         tls_ + "/broker.csr", "-subj", "/CN=localhost"},
        {"x509", "-req", "-in", tls_ + "/broker.csr", "-CA", tls_ + "/ca.pem", "-CAkey",
         tls_ + "/ca.key", "-CAcreateserial", "-out", tls_ + "/broker.pem", "-days", "2",
         "-extfile", tls_ + "/broker.ext"},
        {"pkcs12", "-export", "-in", tls_ + "/broker.pem", "-inkey", tls_ + "/broker.key",
         "-certfile", tls_ + "/ca.pem", "-name", "broker", "-out", tls_ + "/broker.p12", "-passout",
         "file:" + tls_ + "/keystore.pass"},
        // Another CA, which did not sign the broker's certificate.
        {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tls_ + "/other-ca.key", "-out",
         tls_ + "/other-ca.pem", "-days", "2", "-subj", "/CN=some other CA"},
    };
    for (const auto& step : steps) {
      std::vector<std::string> argv{openssl};
      argv.insert(argv.end(), step.begin(), step.end());
      Child c(argv, "/dev/null", path("openssl.out"), path("openssl.err"));
      if (c.wait(60) != 0)
        return "openssl " + step[0] + " failed: " + read_text(path("openssl.err"));
    }
    return "";
  }

  // The agent through SASL_SSL: the non-secret properties as --kafka, the password from
  // `secret_file` (--kafka-file).
  static std::vector<std::string> agent_args(const std::string& tag, const std::string& protocol,
                                             const std::string& ca,
                                             const std::string& secret_file) {
    return {PRESCALE_BIN,      "edge",
            "--device",        "gw-sec",
            "--key-file",      path("keys.txt"),
            "--brokers",       sasl_brokers(),
            "--data-topic",    "sec-raw-" + tag,
            "--control-topic", "sec-meta-" + tag,
            "--kafka",         "security.protocol=" + protocol,
            "--kafka",         "sasl.mechanisms=PLAIN",
            "--kafka",         "sasl.username=edge",
            "--kafka",         "ssl.ca.location=" + ca,
            "--kafka-file",    secret_file};
  }

  // A controller's configuration beside the run directory's keys.txt: the non-secret
  // properties in it (the CA relative to it), the password in `secret_file` (kafka_file:,
  // also relative).
  static std::string write_controller_config(const std::string& name, int http_port,
                                             const std::string& secret_file) {
    write_file(path(name),
               "policy: hpa\nscenario: seed\ntick_ms: 200\nmin_executors: 1\nmax_executors: 12\n"
               "initial_executors: 2\nkeys_file: keys.txt\nhttp: {port: " +
                   std::to_string(http_port) +
                   "}\ntopics: {metadata: sec-meta-trace, metrics: sec-metrics, control: "
                   "sec-control}\nkafka:\n  bootstrap.servers: " +
                   sasl_brokers() +
                   "\n  security.protocol: SASL_SSL\n  sasl.mechanisms: PLAIN\n  sasl.username: "
                   "ctl\n  ssl.ca.location: tls/ca.pem\nkafka_file: " +
                   secret_file + "\n",
               0644);
    return path(name);
  }

  // Every secret of the run.
  static std::vector<std::string> secrets() {
    return {edge_password_, ctl_password_, keystore_password_, wrong_password_};
  }

  // Every file the test and the programs it ran wrote (logs, stdout, stderr, the scripts'
  // output, the broker's logs), but the secrets' own files: the tls/ directory (mode 700),
  // kraft.properties (checked to be mode 600) and the broker's data. None may contain a
  // secret; nor may the broker's command line or environment.
  static void expect_no_secrets_in_logs() {
    const std::string props = path("kafka/kraft.properties");
    struct stat st {};
    ASSERT_EQ(::stat(props.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << props << " holds the broker's secrets";
    // The search finds what is there: the broker's secrets are in that file.
    const std::string broker_secrets = read_text(props);
    EXPECT_NE(broker_secrets.find(keystore_password_), std::string::npos);
    EXPECT_NE(broker_secrets.find(edge_password_), std::string::npos);
    std::vector<std::string> searched;
    for (auto it = fs::recursive_directory_iterator(stack_->run_dir());
         it != fs::recursive_directory_iterator(); ++it) {
      const std::string p = it->path().string();
      if (p == tls_ || p == path("kafka/data")) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file() || p == props) continue;
      const std::string text = read_text(p);
      for (const auto& secret : secrets())
        EXPECT_EQ(text.find(secret), std::string::npos) << p << " contains a secret";
      searched.push_back(p.substr(stack_->run_dir().size() + 1));
    }
    const std::string list = ::testing::PrintToString(searched);
    EXPECT_NE(list.find("kafka/logs/server.log"), std::string::npos) << list;
    EXPECT_NE(list.find("kafka-start.out"), std::string::npos) << list;
    std::printf("searched %zu files for the secrets: %s\n", searched.size(), list.c_str());
    // The broker's own process: its command line and environment name files, not secrets.
    const std::string pid = read_text(path("kafka/kafka.pid"));
    ASSERT_FALSE(pid.empty());
    for (const char* what : {"cmdline", "environ"}) {
      const std::string text = read_text("/proc/" + std::to_string(std::stoi(pid)) + "/" + what);
      EXPECT_FALSE(text.empty()) << what;
      for (const auto& secret : secrets())
        EXPECT_EQ(text.find(secret), std::string::npos) << "the broker's " << what;
    }
  }

  static testing::Stack* stack_;
  static std::string setup_error_, tls_;
  static std::string edge_password_, ctl_password_, keystore_password_, wrong_password_;
  static int sasl_port_;
};

testing::Stack* KafkaSecurityIntegration::stack_ = nullptr;
std::string KafkaSecurityIntegration::setup_error_, KafkaSecurityIntegration::tls_;
std::string KafkaSecurityIntegration::edge_password_, KafkaSecurityIntegration::ctl_password_,
    KafkaSecurityIntegration::keystore_password_, KafkaSecurityIntegration::wrong_password_;
int KafkaSecurityIntegration::sasl_port_ = 0;

// Waits until `file` contains `what` (true), or timeout_ms passes (false).
bool wait_for(const std::string& file, const std::string& what, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    if (read_text(file).find(what) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string http_get(int port, const std::string& route, int* status) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(2, 0);
  auto res = cli.Get(route.c_str());
  *status = res ? res->status : -1;
  return res ? res->body : "";
}

// The value of a Prometheus sample line that starts with `name ` (-1 if absent).
double metric(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

// Reads `topic` from the beginning through the PLAINTEXT listener until `done` or timeout_s.
std::vector<std::string> consume(const std::string& brokers, const std::string& topic,
                                 const std::function<bool(const std::vector<std::string>&)>& done,
                                 double timeout_s) {
  std::vector<std::string> out;
  auto c = bus::Consumer::create({{"bootstrap.servers", brokers}}, bus::Plane::kControl, {topic},
                                 bus::StartAt::kEarliest);
  EXPECT_TRUE(c.ok()) << c.error().message;
  if (!c.ok()) return out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!done(out) && std::chrono::steady_clock::now() < deadline) {
    auto m = (*c)->poll(100);
    EXPECT_TRUE(m.ok()) << m.error().message;
    if (m.ok() && m->has_value()) out.push_back((*m)->payload);
  }
  return out;
}

size_t readings_in(const std::vector<std::string>& batches) {
  size_t n = 0;
  for (const auto& b : batches) {
    auto d = bus::decode_reading_batch(b);
    if (d.ok()) n += d->readings.size();
  }
  return n;
}

// The agent replays a trace through SASL_SSL; the controller, also through SASL_SSL,
// verifies its signals; every reading and signal is read back through PLAINTEXT.
TEST_F(KafkaSecurityIntegration, EdgeAndControllerThroughSaslSsl) {
  const auto t0 = std::chrono::steady_clock::now();
  // The controller: non-secret properties in its config (the CA relative to it), the
  // password in kafka_file: (mode 600).
  const int http_port = testing::free_port();
  Child ctl({PRESCALE_BIN, "controller", "--config",
             write_controller_config("ctl.yaml", http_port, "tls/ctl.properties")},
            "/dev/null", path("ctl.out"), path("ctl.err"));
  ASSERT_TRUE(ctl.started());
  ASSERT_TRUE(wait_for(path("ctl.err"), "commanding sec-control", 30'000))
      << read_text(path("ctl.err"));
  // Its lease's group member joins and gets the partition through SASL_SSL too.
  EXPECT_TRUE(wait_for(path("ctl.err"), "active: this controller", 20'000))
      << read_text(path("ctl.err"));

  // A 60-sample trace (5 min apart) of 10 readings with a burst of 50 for 10 samples.
  {
    std::ofstream out(path("trace.csv"));
    out << "timestamp,value\n";
    for (int t = 0; t < 60; ++t) {
      char ts[32];
      std::snprintf(ts, sizeof ts, "2024-01-01 %02d:%02d:00", (t * 5) / 60, (t * 5) % 60);
      out << ts << "," << ((t >= 30 && t < 40) ? 50 : 10) << "\n";
    }
  }
  const size_t expected = 50 * 10 + 10 * 50;
  auto args = agent_args("trace", "SASL_SSL", tls_ + "/ca.pem", tls_ + "/edge.properties");
  for (const char* a :
       {"--speedup", "0", "--scale", "1", "--forecaster", "last", "--connect-timeout-ms", "20000"})
    args.push_back(a);
  args.push_back("--trace");
  args.push_back(path("trace.csv"));
  Child agent(args, "/dev/null", path("edge.out"), path("edge.err"));
  ASSERT_EQ(agent.wait(60), 0) << read_text(path("edge.err"));
  EXPECT_EQ(read_text(path("edge.err")).find("readable by others"), std::string::npos);
  const auto report = nlohmann::json::parse(read_text(path("edge.out")));
  EXPECT_EQ(report["readings"], expected);
  EXPECT_EQ(report["signals"], 60);
  EXPECT_EQ(report["delivery_failed"], 0);

  // Everything arrived: read back through the PLAINTEXT listener.
  const auto batches = consume(
      stack_->brokers(), "sec-raw-trace", [&](const auto& b) { return readings_in(b) >= expected; },
      30);
  EXPECT_EQ(readings_in(batches), expected);
  const auto sigs = consume(
      stack_->brokers(), "sec-meta-trace", [](const auto& m) { return m.size() >= 60; }, 30);
  ASSERT_EQ(sigs.size(), 60u);
  auto ring = bus::KeyRing::load(path("keys.txt"));
  ASSERT_TRUE(ring.ok());
  bus::SignalVerifier verifier(*ring, 10 * 60 * 1000);
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (const auto& text : sigs) {
    auto s = bus::decode_burst_signal(text);
    ASSERT_TRUE(s.ok()) << text;
    EXPECT_EQ(verifier.verify(*s, now), bus::Verdict::kAccepted) << text;
  }

  // The controller received and verified them through SASL_SSL.
  double accepted = -1;
  std::string metrics;
  int status = 0;
  for (int i = 0; i < 100 && accepted <= 0; ++i) {
    metrics = http_get(http_port, "/metrics", &status);
    accepted = metric(metrics, "prescale_controller_signals_total{verdict=\"accepted\"}");
    if (accepted <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GT(accepted, 0) << metrics << read_text(path("ctl.err"));
  std::printf("the controller accepted %.0f of the agent's 60 signals\n", accepted);
  ctl.signal(SIGTERM);
  EXPECT_EQ(ctl.wait(20), 0) << read_text(path("ctl.err"));

  expect_no_secrets_in_logs();
  std::printf("took %.1f s (after the broker's start)\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// The failures say what failed, in time, and never the password.
TEST_F(KafkaSecurityIntegration, WrongPasswordWrongCaAndNoTlsFailClearly) {
  struct Case {
    std::string tag, protocol, ca, secret_file;
    int timeout_ms;
    std::string expected;  // in stderr
  };
  // A copy of the right password readable by everyone: used, with a warning.
  write_file(tls_ + "/open.properties", "sasl.password=" + edge_password_ + "\n", 0644);
  const std::vector<Case> cases = {
      // Rejected by the broker: ends as soon as the broker says so.
      {"wrong-pw", "SASL_SSL", tls_ + "/ca.pem", tls_ + "/wrong.properties", 10'000,
       "error: kafka: authentication failed at '" + sasl_brokers() + "': sasl_ssl://" +
           sasl_brokers() + "/bootstrap: SASL authentication error: Authentication failed"},
      // A CA that did not sign the broker's certificate: the broker is not trusted.
      {"wrong-ca", "SASL_SSL", tls_ + "/other-ca.pem", tls_ + "/edge.properties", 4'000,
       "certificate verify failed"},
      // No TLS against the TLS port: librdkafka's hint names security.protocol.
      {"no-tls", "SASL_PLAINTEXT", tls_ + "/ca.pem", tls_ + "/open.properties", 4'000,
       "error: kafka: no broker answered within 4000 ms at '" + sasl_brokers() +
           "': sasl_plaintext://" + sasl_brokers() +
           "/bootstrap: Disconnected while requesting "
           "ApiVersion: might be caused by incorrect "
           "security.protocol configuration"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.tag);
    auto args = agent_args(c.tag, c.protocol, c.ca, c.secret_file);
    args.push_back("--stdin");
    args.push_back("--connect-timeout-ms");
    args.push_back(std::to_string(c.timeout_ms));
    const auto t0 = std::chrono::steady_clock::now();
    Child agent(args, "/dev/null", path(c.tag + ".out"), path(c.tag + ".err"));
    const int rc = agent.wait(c.timeout_ms / 1000.0 + 10);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string err = read_text(path(c.tag + ".err"));
    EXPECT_EQ(rc, 1) << err;  // the environment failed (not a hang: -1)
    EXPECT_LT(took, c.timeout_ms / 1000.0 + 5) << err;
    if (c.tag == "wrong-pw") {  // at once, not at the timeout
      EXPECT_LT(took, c.timeout_ms / 1000.0) << err;
    }
    EXPECT_NE(err.find(c.expected), std::string::npos) << err;
    EXPECT_EQ(read_text(path(c.tag + ".out")), "");  // no report: it never ran
    std::printf("%s: exit %d after %.1f s: %s", c.tag.c_str(), rc, took,
                err.substr(std::min(err.size(), err.rfind("\nerror: ") + 1)).c_str());
  }
  EXPECT_NE(read_text(path("no-tls.err"))
                .find("prescale kafka: warning: " + tls_ +
                      "/open.properties: readable by others than its owner (mode 0644)"),
            std::string::npos)
      << read_text(path("no-tls.err"));

  // The controller with a wrong password: it keeps running and retrying (the broker may be
  // given the account later), says why in its log and on /healthz (503), and stops cleanly.
  const int http_port = testing::free_port();
  Child ctl({PRESCALE_BIN, "controller", "--config",
             write_controller_config("ctl-wrong.yaml", http_port, "tls/wrong.properties")},
            "/dev/null", path("ctl-wrong.out"), path("ctl-wrong.err"));
  const std::string said = "kafka: authentication failed at '" + sasl_brokers() + "'";
  EXPECT_TRUE(wait_for(path("ctl-wrong.err"), said, 15'000)) << read_text(path("ctl-wrong.err"));
  {
    const std::string log = read_text(path("ctl-wrong.err"));
    const auto at = log.rfind('\n', log.find(said));
    std::printf("controller: %s\n",
                log.substr(at + 1, log.find('\n', log.find(said)) - at - 1).c_str());
  }
  int status = 0;
  http_get(http_port, "/healthz", &status);
  EXPECT_EQ(status, 503);
  ctl.signal(SIGTERM);
  EXPECT_EQ(ctl.wait(20), 0) << read_text(path("ctl-wrong.err"));
  expect_no_secrets_in_logs();
}

}  // namespace
}  // namespace prescale
