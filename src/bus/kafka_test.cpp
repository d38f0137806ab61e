// The dual-plane client against librdkafka's built-in mock cluster (hermetic: no broker
// process, no network beyond loopback sockets librdkafka opens itself). The real broker is
// exercised by the integration tests.
#include "bus/kafka.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

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
