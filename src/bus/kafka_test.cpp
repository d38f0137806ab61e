// The dual-plane client against librdkafka's built-in mock cluster (hermetic: no broker
// process, no network beyond loopback sockets librdkafka opens itself). The real broker is
// exercised by the integration tests.
#include "bus/kafka.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/log.h"

namespace prescale::bus {
namespace {

// One mock cluster per producer handle would be separate clusters: the consumer must reach
// the producer's cluster, so the test reads its bootstrap address from the first handle.
KafkaProps mock_props() { return {{"test.mock.num.brokers", "1"}, {"fetch.wait.max.ms", "5"}}; }

TEST(Kafka, PropsParseAndPlaneDefaults) {
  auto p = parse_props({"bootstrap.servers=127.0.0.1:9092", "acks=all", "sasl.password=a=b"});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->at("sasl.password"), "a=b");  // only the first '=' splits
  auto bad = parse_props({"linger.ms"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'linger.ms': expected KEY=VALUE"), std::string::npos);

  auto ctl = with_plane_defaults({{"linger.ms", "2"}}, Plane::kControl, false);
  EXPECT_EQ(ctl.at("linger.ms"), "2");  // the user's value wins
  EXPECT_EQ(ctl.at("socket.nagle.disable"), "true");
  auto data = with_plane_defaults({}, Plane::kData, false);
  EXPECT_EQ(data.at("linger.ms"), "5");
  EXPECT_EQ(with_plane_defaults({}, Plane::kControl, true).at("fetch.wait.max.ms"), "10");
  // Control-plane clients meet a returning broker within a second (make chaos), producers and
  // consumers alike; the user's value wins; the data plane keeps librdkafka's default.
  EXPECT_EQ(ctl.at("reconnect.backoff.max.ms"), "1000");
  EXPECT_EQ(with_plane_defaults({}, Plane::kControl, true).at("reconnect.backoff.max.ms"), "1000");
  EXPECT_EQ(with_plane_defaults({{"reconnect.backoff.max.ms", "5000"}}, Plane::kControl, true)
                .at("reconnect.backoff.max.ms"),
            "5000");
  EXPECT_EQ(data.count("reconnect.backoff.max.ms"), 0u);
}

TEST(Kafka, PlaneScopedPropertiesApplyToTheirPlaneOnly) {
  const KafkaProps props = {{"bootstrap.servers", "127.0.0.1:9092"},
                            {"control.bootstrap.servers", "127.0.0.1:9094"},
                            {"data.linger.ms", "20"},
                            {"data.client.id", "gateway-7"}};
  auto ctl = with_plane_defaults(props, Plane::kControl, false);
  EXPECT_EQ(ctl.at("bootstrap.servers"), "127.0.0.1:9094");
  EXPECT_EQ(ctl.at("linger.ms"), "0");
  EXPECT_EQ(ctl.at("client.id"), "prescale-control");
  auto data = with_plane_defaults(props, Plane::kData, true);
  EXPECT_EQ(data.at("bootstrap.servers"), "127.0.0.1:9092");
  EXPECT_EQ(data.at("linger.ms"), "20");
  EXPECT_EQ(data.at("client.id"), "gateway-7");
  for (const auto& m : {ctl, data})
    for (const auto& [k, v] : m) {
      EXPECT_NE(k.rfind("control.", 0), 0u) << k;
      EXPECT_NE(k.rfind("data.", 0), 0u) << k;
    }
  EXPECT_TRUE(check_props(props).ok()) << check_props(props).message();
  // A scoped key is checked as the bare key would be, and names its plane.
  EXPECT_TRUE(check_property("control.fetch.wait.max.ms", "5").ok());
  auto bad = check_property("data.linger.ms", "soon");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message().find("soon"), std::string::npos) << bad.message();
  EXPECT_FALSE(check_property("data.nonsense.key", "1").ok());
  EXPECT_FALSE(check_property("control.", "1").ok());
  EXPECT_FALSE(check_property("control.data.linger.ms", "1").ok());
  auto whole = check_props({{"data.linger.ms", "-4"}});
  ASSERT_FALSE(whole.ok());
  EXPECT_NE(whole.message().find("data plane"), std::string::npos) << whole.message();
}

TEST(Kafka, LibrdkafkaLogsGoThroughOurLoggerRateLimited) {
  // A dead broker: librdkafka retries the connection every 100 ms and, left alone, writes a
  // raw "%3|...|FAIL|..." line to stderr for each attempt.
  std::vector<std::string> lines;
  core::ScopedLogSink sink([&](core::LogLevel l, std::string_view who, std::string_view m) {
    lines.push_back(core::format_log_line(l, who, m));
  });
  testing::internal::CaptureStderr();
  auto r = probe({{"bootstrap.servers", "127.0.0.1:9"},
                  {"reconnect.backoff.ms", "50"},
                  {"reconnect.backoff.max.ms", "50"}},
                 1500);
  const std::string raw = testing::internal::GetCapturedStderr();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(raw.find("Connection refused"), std::string::npos) << raw;  // nothing raw
  int refused = 0;
  for (const auto& line : lines) {
    EXPECT_EQ(line.rfind("prescale kafka: ", 0), 0u) << line;
    if (line.find("Connection refused") != std::string::npos) ++refused;
  }
  // Many attempts, one line (its kind may already have been written by an earlier test in
  // this process, within the window: then none).
  EXPECT_LE(refused, 1) << testing::PrintToString(lines);
  EXPECT_LE(lines.size(), 4u) << testing::PrintToString(lines);
}

TEST(Kafka, UnknownPropertyIsNamedButItsValueIsNot) {
  auto p = Producer::create({{"no.such.property", "s3cr3t"}}, Plane::kData);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("'no.such.property'"), std::string::npos);
  EXPECT_EQ(p.error().message.find("s3cr3t"), std::string::npos);
}

TEST(Kafka, CheckPropertyRefusesAnInvalidValueWithoutEchoingIt) {
  EXPECT_TRUE(check_property("acks", "all").ok());
  const core::Status st = check_property("security.protocol", "s3cr3t");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'security.protocol'"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("s3cr3t"), std::string::npos) << st.message();
  // A value that occurs in the redaction itself still terminates.
  EXPECT_FALSE(check_property("security.protocol", "value").ok());
}

TEST(Kafka, CheckPropsFindsWhatOnlyClientCreationRejects) {
  EXPECT_TRUE(check_props({{"bootstrap.servers", "127.0.0.1:9"}}).ok());
  EXPECT_FALSE(
      check_props({{"security.protocol", "ssl"}, {"ssl.ca.location", "/nonexistent"}}).ok());
}

TEST(Kafka, ProbeFailsClearlyWhenNoBrokerAnswers) {
  // Port 9 (discard) on loopback: nothing listens there in the test environment.
  auto r = probe({{"bootstrap.servers", "127.0.0.1:9"}}, 600);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no broker answered within 600 ms at '127.0.0.1:9'"),
            std::string::npos)
      << r.error().message;
  // Why: the client's last error, not only "timed out".
  EXPECT_NE(r.error().message.find("Connection refused"), std::string::npos) << r.error().message;
}

TEST(Kafka, PropsFileReadsKeyValueLinesAndNeverEchoesAValue) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("prescale-props-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& text,
                         std::filesystem::perms mode) {
    const std::string path = (dir / name).string();
    std::ofstream(path) << text;
    std::filesystem::permissions(path, mode);
    return path;
  };
  const auto owner = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
  std::vector<std::string> lines;
  core::ScopedLogSink sink([&](core::LogLevel l, std::string_view who, std::string_view m) {
    lines.push_back(core::format_log_line(l, who, m));
  });

  const std::string good =
      write("good.properties",
            "# the agent's secrets\n\n  sasl.username = edge \nsasl.password=hunter2=x\r\n"
            "  # indented comment\n\tacks=all",
            owner);
  auto f = read_props_file(good);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->props, (KafkaProps{{"sasl.username", "edge"},
                                  {"sasl.password", "hunter2=x"},  // the first '=' splits
                                  {"acks", "all"}}));
  EXPECT_EQ(f->line.at("sasl.username"), 3);
  EXPECT_EQ(f->line.at("acks"), 6);
  EXPECT_TRUE(lines.empty()) << testing::PrintToString(lines);  // mode 600: no warning

  struct Bad {
    std::string text, expected;
  };
  for (const auto& b : std::vector<Bad>{
           {"hunter2\n", ":1: expected key=value (the line is not shown"},
           {"# c\nsasl.pasword=hunter2\n", ":2: kafka: property 'sasl.pasword'"},
           {"security.protocol=hunter2\n", ":1: kafka: property 'security.protocol'"},
           {"acks=1\n\nacks=hunter2\n", ":3: acks: given again (first at line 1)"},
           {"=hunter2\n", ":1: expected key=value"},
       }) {
    const std::string path = write("bad.properties", b.text, owner);
    auto r = read_props_file(path);
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_EQ(r.error().message.rfind(path + b.expected, 0), 0u) << r.error().message;
    EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
  }
  auto missing = read_props_file((dir / "none").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("none: cannot open"), std::string::npos);

  // Readable by the group or everyone: read, with one warning naming the file and its mode.
  const std::string open =
      write("open.properties", "sasl.password=hunter2\n",
            owner | std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  ASSERT_TRUE(read_props_file(open).ok());
  ASSERT_EQ(lines.size(), 1u) << testing::PrintToString(lines);
  EXPECT_EQ(lines[0], "prescale kafka: warning: " + open +
                          ": readable by others than its owner (mode 0644), and it may hold "
                          "secrets: chmod 600 " +
                          open);
  std::filesystem::remove_all(dir);
}

TEST(Kafka, BothPlanesDeliverOnTheMockCluster) {
  auto data = Producer::create(mock_props(), Plane::kData);
  ASSERT_TRUE(data.ok()) << data.error().message;
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(
        (*data)->send("raw", "k" + std::to_string(i % 3), "data-" + std::to_string(i)).ok());
  ASSERT_TRUE((*data)->flush(5000).ok());
  EXPECT_EQ((*data)->enqueued(), 50u);
  EXPECT_EQ((*data)->delivered(), 50u);
  EXPECT_EQ((*data)->failed(), 0u);
  EXPECT_GT((*data)->bytes_delivered(), 50u * 6);
}

}  // namespace
}  // namespace prescale::bus
