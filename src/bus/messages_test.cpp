#include "bus/messages.h"

#include <gtest/gtest.h>

namespace prescale::bus {
namespace {

BurstSignal sample_signal() {
  BurstSignal m;
  m.device = "gw-17";
  m.seq = 42;
  m.ts_ms = 1'764'000'000'123;
  m.horizon_s = 60;
  m.forecast = 1'012'345.5;
  m.baseline = 250'000.25;
  m.burst = true;
  m.confidence = 0.87;
  m.sig = std::string(64, 'a');
  return m;
}

TEST(Messages, BurstSignalRoundTrip) {
  const BurstSignal m = sample_signal();
  auto back = decode_burst_signal(encode(m));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->device, m.device);
  EXPECT_EQ(back->seq, m.seq);
  EXPECT_EQ(back->ts_ms, m.ts_ms);
  EXPECT_EQ(back->horizon_s, m.horizon_s);
  EXPECT_EQ(back->forecast, m.forecast);  // exact: shortest round-trip encoding
  EXPECT_EQ(back->baseline, m.baseline);
  EXPECT_EQ(back->burst, m.burst);
  EXPECT_EQ(back->confidence, m.confidence);
  EXPECT_EQ(back->sig, m.sig);
  EXPECT_EQ(message_type(encode(m)).value(), "burst_signal");
}

TEST(Messages, TheJobsOwnFactsInProgressAreOptional) {
  Progress p;
  p.app = "iot";
  p.batch_id = 3;
  // Not published (an older listener, or a job without the plugin): not on the wire.
  const std::string bare = encode(p);
  EXPECT_EQ(bare.find("max_executors"), std::string::npos) << bare;
  EXPECT_EQ(bare.find("records_per_message"), std::string::npos) << bare;
  EXPECT_EQ(bare.find("lease_epoch"), std::string::npos) << bare;
  auto d = decode_progress(bare);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->max_executors, 0);
  EXPECT_EQ(d->records_per_message, 0);
  EXPECT_EQ(d->lease_epoch, 0);
  // Published: round trip.
  p.min_executors = 1;
  p.max_executors = 6;
  p.records_per_message = 487.5;
  p.lease_epoch = 9'007'199'254'740'993;  // 2^53 + 1: exact, not through a double
  d = decode_progress(encode(p));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->min_executors, 1);
  EXPECT_EQ(d->max_executors, 6);
  EXPECT_EQ(d->records_per_message, 487.5);
  EXPECT_EQ(d->lease_epoch, 9'007'199'254'740'993);
  // A newer listener's fields this decoder does not know are ignored.
  std::string newer = encode(p);
  newer.insert(1, "\"cores_max\":6,\"something_else\":{\"a\":1},");
  EXPECT_TRUE(decode_progress(newer).ok()) << newer;
  // Bad values are named.
  auto with = [&](const std::string& extra) {
    std::string s = bare;
    s.insert(1, extra + ",");
    return decode_progress(s);
  };
  auto bad = with("\"min_executors\":3,\"max_executors\":2");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'max_executors': expected an integer >= min_executors (3)"),
            std::string::npos)
      << bad.error().message;
  bad = with("\"max_executors\":6");  // the bounds come as a pair
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'min_executors': missing"), std::string::npos);
  bad = with("\"records_per_message\":-1");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'records_per_message'"), std::string::npos);
  bad = with("\"lease_epoch\":-2");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'lease_epoch'"), std::string::npos);
}

TEST(Messages, ProgressAndScaleToRoundTrip) {
  Progress p;
  p.app = "iot-agg";
  p.ts_ms = 5;
  p.batch_id = 7;
  p.input_rows_per_s = 1e6;
  p.processed_rows_per_s = 9.5e5;
  p.batch_duration_ms = 812.5;
  p.num_input_rows = 4'000'000;
  p.offsets_behind = 123;
  p.executors_active = 9;
  auto pb = decode_progress(encode(p));
  ASSERT_TRUE(pb.ok()) << pb.error().message;
  EXPECT_EQ(pb->app, "iot-agg");
  EXPECT_EQ(pb->offsets_behind, 123);
  EXPECT_EQ(pb->executors_active, 9);
  EXPECT_EQ(pb->batch_duration_ms, 812.5);
  EXPECT_EQ(pb->event_latency_ms, 0);  // unknown unless the job measured it
  p.event_latency_ms = 6'250.5;
  EXPECT_EQ(decode_progress(encode(p)).value().event_latency_ms, 6'250.5);
  // Optional: a progress without it (an older listener) still decodes; a bad one does not.
  std::string old = encode(p);
  old.erase(old.find(",\"event_latency_ms\""), std::string(",\"event_latency_ms\":6250.5").size());
  ASSERT_TRUE(decode_progress(old).ok()) << old;
  EXPECT_EQ(decode_progress(old)->event_latency_ms, 0);
  std::string neg = old.substr(0, old.size() - 1) + ",\"event_latency_ms\":-1}";
  EXPECT_FALSE(decode_progress(neg).ok());

  ScaleTo s;
  s.seq = 3;
  s.ts_ms = 9;
  s.target_executors = 14;
  s.shuffle_tier = core::Tier::kRedis;
  s.reason = "rl: scale up \"burst\"";
  auto sb = decode_scale_to(encode(s));
  ASSERT_TRUE(sb.ok()) << sb.error().message;
  EXPECT_EQ(sb->target_executors, 14);
  EXPECT_EQ(sb->shuffle_tier, core::Tier::kRedis);
  EXPECT_EQ(sb->reason, s.reason);
  EXPECT_EQ(sb->epoch, 0);
}

TEST(Messages, ScaleToCarriesTheLeaseEpochAndOlderCommandsStillDecode) {
  ScaleTo s;
  s.seq = 3;
  s.ts_ms = 9;
  s.target_executors = 4;
  s.reason = "hpa: cpu above target";
  s.epoch = 9'000'000'000'123;
  const std::string text = encode(s);
  EXPECT_NE(text.find("\"epoch\":9000000000123"), std::string::npos) << text;
  auto back = decode_scale_to(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->epoch, s.epoch);
  // A controller from before leases: no epoch field = epoch 0.
  const std::string old =
      "{\"v\":1,\"type\":\"scale_to\",\"seq\":1,\"ts_ms\":1,\"target_executors\":4,"
      "\"shuffle_tier\":\"nvme\",\"reason\":\"\"}";
  ASSERT_TRUE(decode_scale_to(old).ok()) << decode_scale_to(old).error().message;
  EXPECT_EQ(decode_scale_to(old)->epoch, 0);
  // Present but wrong: an error naming the field.
  for (const char* bad : {"-1", "1.5", "\"7\"", "null", "true", "1e30"}) {
    const std::string j = old.substr(0, old.size() - 1) + ",\"epoch\":" + bad + "}";
    auto r = decode_scale_to(j);
    ASSERT_FALSE(r.ok()) << j;
    EXPECT_NE(r.error().message.find("field 'epoch': expected an integer in [0, "),
              std::string::npos)
        << r.error().message;
  }
}

TEST(Messages, LeaseRecordRoundTripAndStrictDecoding) {
  LeaseRecord m;
  m.controller = "host-a:4242";
  m.group = "prescale-controller.iot-control";
  m.policy = "rl";
  m.ts_ms = 1'764'000'000'123;
  auto back = decode_lease_record(encode(m));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->controller, m.controller);
  EXPECT_EQ(back->group, m.group);
  EXPECT_EQ(back->policy, m.policy);
  EXPECT_EQ(back->ts_ms, m.ts_ms);
  EXPECT_EQ(back->base, 0);
  EXPECT_EQ(message_type(encode(m)).value(), "lease");
  m.base = kMaxLeaseBase;
  back = decode_lease_record(encode(m));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->base, kMaxLeaseBase);
  EXPECT_EQ(lease_epoch(*back, 6), kMaxLeaseBase + 7);
  // A record from before recreation-proof epochs has no base: 0, the epoch its offset + 1.
  back = decode_lease_record(
      "{\"v\":1,\"type\":\"lease\",\"controller\":\"a\",\"group\":\"g\",\"policy\":\"rl\","
      "\"ts_ms\":1}");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(lease_epoch(*back, 41), 42);
  const std::pair<std::string, std::string> bad[] = {
      {"{\"v\":1,\"type\":\"lease\",\"group\":\"g\",\"policy\":\"rl\",\"ts_ms\":1}",
       "'controller'"},
      {"{\"v\":1,\"type\":\"lease\",\"controller\":\"\",\"group\":\"g\",\"policy\":\"rl\","
       "\"ts_ms\":1}",
       "'controller'"},
      {"{\"v\":1,\"type\":\"lease\",\"controller\":\"a\",\"policy\":\"rl\",\"ts_ms\":1}",
       "'group'"},
      {"{\"v\":1,\"type\":\"lease\",\"controller\":\"a\",\"group\":\"g\",\"policy\":\"rl\","
       "\"ts_ms\":-5}",
       "'ts_ms'"},
      {"{\"v\":1,\"type\":\"lease\",\"controller\":\"a\",\"group\":\"g\",\"policy\":\"rl\","
       "\"ts_ms\":1,\"base\":9007199254740993}",
       "'base'"},
      {"{\"v\":1,\"type\":\"lease\",\"controller\":\"a\",\"group\":\"g\",\"policy\":\"rl\","
       "\"ts_ms\":1,\"base\":-1}",
       "'base'"},
      {"{\"v\":1,\"type\":\"scale_to\"}", "type is 'scale_to'"},
  };
  for (const auto& [text, fragment] : bad) {
    auto r = decode_lease_record(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().message.rfind("lease message: ", 0), 0u) << r.error().message;
    EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
  }
}

struct BadCase {
  const char* json;
  const char* fragment;  // the error must name this
};

class BadSignal : public testing::TestWithParam<BadCase> {};

TEST_P(BadSignal, RejectedWithAClearError) {
  auto r = decode_burst_signal(GetParam().json);
  ASSERT_FALSE(r.ok()) << GetParam().json;
  EXPECT_NE(r.error().message.find(GetParam().fragment), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.rfind("burst_signal message: ", 0), 0u) << r.error().message;
}

#define SIGNAL_FIELDS                                                                            \
  "\"device\":\"gw-1\",\"seq\":1,\"ts_ms\":1000,\"horizon_s\":60,\"forecast\":5,\"baseline\":1," \
  "\"burst\":1,"                                                                                 \
  "\"confidence\":0.5"

INSTANTIATE_TEST_SUITE_P(
    Table, BadSignal,
    testing::Values(
        BadCase{"{\"v\":1,\"type\":\"burst_signal\"", "not JSON"},
        BadCase{"[1,2]", "not a JSON object"},
        // nlohmann throws out_of_range (not parse_error) on a number it cannot hold.
        BadCase{"{\"v\":1,\"type\":\"burst_signal\"," SIGNAL_FIELDS ",\"forecast\":1e999}",
                "not JSON"},
        BadCase{"{\"v\":2,\"type\":\"burst_signal\"," SIGNAL_FIELDS "}", "version 2"},
        BadCase{"{\"type\":\"burst_signal\"," SIGNAL_FIELDS "}", "'v'"},
        BadCase{"{\"v\":1,\"type\":\"progress\"," SIGNAL_FIELDS "}", "type is 'progress'"},
        BadCase{"{\"v\":1,\"type\":\"burst_signal\",\"seq\":1}", "'device': missing"},
        BadCase{"{\"v\":1,\"type\":\"burst_signal\"," SIGNAL_FIELDS ",\"confidence\":1.5}",
                "'confidence'"},
        BadCase{"{\"v\":1,\"type\":\"burst_signal\",\"device\":\"gw 1\",\"seq\":1,\"ts_ms\":1,"
                "\"horizon_s\":60,\"forecast\":5,\"baseline\":1,\"burst\":1,\"confidence\":0.5}",
                "'device'"},
        BadCase{"{\"v\":1,\"type\":\"burst_signal\",\"device\":\"gw-1\",\"seq\":-3,\"ts_ms\":1,"
                "\"horizon_s\":60,\"forecast\":5,\"baseline\":1,\"burst\":1,\"confidence\":0.5}",
                "'seq'"},
        BadCase{"{\"v\":1,\"type\":\"burst_signal\",\"device\":\"gw-1\",\"seq\":1,\"ts_ms\":1,"
                "\"horizon_s\":60,\"forecast\":-5,\"baseline\":1,\"burst\":1,\"confidence\":0.5}",
                "'forecast'"},
        BadCase{"{\"v\":1,\"type\":\"burst_signal\",\"device\":\"gw-1\",\"seq\":1,\"ts_ms\":1,"
                "\"horizon_s\":60,\"forecast\":5,\"baseline\":1,\"burst\":2,\"confidence\":0.5}",
                "'burst'"},
        BadCase{"{\"v\":1,\"type\":\"burst_signal\"," SIGNAL_FIELDS ",\"sig\":\"xyz\"}", "'sig'"}));

TEST(Messages, AnOverflowingNumberIsAnErrorNotAnAbort) {
  EXPECT_FALSE(message_type("{\"v\":1,\"type\":\"x\",\"n\":1e999}").ok());
  EXPECT_FALSE(decode_progress("{\"v\":1,\"type\":\"progress\",\"ts_ms\":-1e999}").ok());
  EXPECT_FALSE(decode_scale_to("{\"v\":1e400}").ok());
}

// A message bomb: nesting far past any message's (the deepest, a reading batch, has 4 levels)
// is refused as the parser reaches level 17, by every decoder, with what was wrong.
TEST(Messages, NestingDeeperThanAnyMessageIsRefusedEarly) {
  const std::string bomb = "{\"v\":1,\"type\":\"progress\",\"x\":" + std::string(1'000'000, '[');
  for (const auto& r : {decode_progress(bomb).error(), decode_scale_to(bomb).error(),
                        decode_burst_signal(bomb).error(), decode_lease_record(bomb).error(),
                        decode_reading_batch(bomb).error(), message_type(bomb).error()})
    EXPECT_NE(r.message.find("nested deeper than 16 levels"), std::string::npos) << r.message;
  // An object holding arrays, `levels` levels in all: 16 parse (and are judged as the message
  // they are), 17 do not.
  const auto nested = [](int levels) {
    return "{\"v\":1,\"type\":\"x\",\"n\":" + std::string(levels - 1, '[') +
           std::string(levels - 1, ']') + "}";
  };
  EXPECT_EQ(message_type(nested(16)).value(), "x");
  EXPECT_NE(message_type(nested(17)).error().message.find("nested deeper"), std::string::npos);
}

TEST(Messages, ScaleToRejectsAnUnknownTier) {
  auto r = decode_scale_to(
      "{\"v\":1,\"type\":\"scale_to\",\"seq\":1,\"ts_ms\":1,\"target_executors\":4,\"shuffle_"
      "tier\":\"tape\","
      "\"reason\":\"\"}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'shuffle_tier': expected redis|nvme|s3"), std::string::npos)
      << r.error().message;
}

TEST(Messages, ReadingBatchRoundTripsExactly) {
  ReadingBatch b;
  b.device = "gw-3";
  b.seq = 12;
  b.readings.push_back({"temp/room-1", 1'764'000'000'001, {21.5, -0.1, 1e-300}});
  b.readings.push_back({"co2:7", 1'764'000'000'002, {412}});
  const std::string text = encode(b);
  EXPECT_EQ(message_type(text).value(), "readings");
  auto back = decode_reading_batch(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->device, "gw-3");
  EXPECT_EQ(back->seq, 12u);
  ASSERT_EQ(back->readings.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back->readings[i].sensor, b.readings[i].sensor);
    EXPECT_EQ(back->readings[i].ts_ms, b.readings[i].ts_ms);
    EXPECT_EQ(back->readings[i].values, b.readings[i].values);  // exact doubles
  }
  // A reading line decodes to the same values as the encoder wrote.
  auto one = decode_reading(encode(b.readings[0]), 0);
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one->values, b.readings[0].values);
}

TEST(Messages, ReadingWithoutTimestampGetsTheGatewayClock) {
  auto r = decode_reading(R"({"sensor":"s1","values":[1,2]})", 777);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ts_ms, 777);
  EXPECT_EQ(r->values.size(), 2u);
}

class BadReading : public testing::TestWithParam<BadCase> {};

TEST_P(BadReading, RejectedWithAClearError) {
  auto r = decode_reading(GetParam().json, 1);
  ASSERT_FALSE(r.ok()) << GetParam().json;
  EXPECT_NE(r.error().message.find(GetParam().fragment), std::string::npos) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadReading,
    testing::Values(BadCase{R"({"sensor":"s1","values":[1)", "not JSON"},
                    BadCase{R"("s1")", "not a JSON object"},
                    BadCase{R"({"values":[1]})", "'sensor'"},
                    BadCase{R"({"sensor":"a b","values":[1]})", "'sensor'"},
                    BadCase{R"({"sensor":"s","ts_ms":-1,"values":[1]})", "'ts_ms'"},
                    BadCase{R"({"sensor":"s","ts_ms":1.5,"values":[1]})", "'ts_ms'"},
                    BadCase{R"({"sensor":"s","values":[]})", "'values'"},
                    BadCase{R"({"sensor":"s","values":["x"]})", "finite numbers"},
                    BadCase{R"({"sensor":"s","values":3})", "'values'"},
                    BadCase{R"({"v":2,"sensor":"s","values":[1]})", "'v'"}));

TEST(Messages, ReadingBatchNamesTheBadReading) {
  auto r = decode_reading_batch(
      R"({"v":1,"type":"readings","device":"gw","seq":0,"readings":[)"
      R"({"sensor":"a","ts_ms":1,"values":[1]},{"sensor":"b","values":[1]}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("readings[1]: field 'ts_ms'"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace prescale::bus
