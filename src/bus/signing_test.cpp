#include "bus/signing.h"

#include <gtest/gtest.h>

namespace prescale::bus {
namespace {

const std::string kHexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

std::vector<unsigned char> key_bytes() {
  std::vector<unsigned char> k;
  for (int i = 0; i < 32; ++i) k.push_back(static_cast<unsigned char>(i));
  return k;
}

BurstSignal signal(std::uint64_t seq, std::int64_t ts_ms) {
  BurstSignal m;
  m.device = "gw-17";
  m.seq = seq;
  m.ts_ms = ts_ms;
  m.horizon_s = 60;
  m.forecast = 1e6;
  m.baseline = 2.5e5;
  m.burst = true;
  m.confidence = 0.87;
  sign(&m, key_bytes());
  return m;
}

SignalVerifier verifier() {
  auto ring = KeyRing::parse("# test keys\n\ngw-17 " + kHexKey + "\n", "keys.txt");
  EXPECT_TRUE(ring.ok());
  return SignalVerifier(std::move(*ring), 30'000);
}

TEST(Hmac, Rfc4231TestCase2) {
  // RFC 4231 4.3: key "Jefe", data "what do ya want for nothing?".
  const std::vector<unsigned char> key = {'J', 'e', 'f', 'e'};
  EXPECT_EQ(hmac_sha256_hex(key, "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Signing, CanonicalFormIsFixed) {
  BurstSignal m;
  m.device = "gw-1";
  m.seq = 2;
  m.ts_ms = 3;
  m.horizon_s = 60;
  m.forecast = 0.5;
  m.baseline = 1;
  m.burst = false;
  m.confidence = 0.25;
  EXPECT_EQ(canonical(m), "1|\"burst_signal\"|\"gw-1\"|2|3|60.0|0.5|1.0|0|0.25");
}

TEST(Signing, AcceptsTheRightKeyAfterAJsonRoundTrip) {
  SignalVerifier v = verifier();
  auto wire = decode_burst_signal(encode(signal(1, 100'000)));
  ASSERT_TRUE(wire.ok()) << wire.error().message;
  EXPECT_EQ(v.verify(*wire, 100'500), Verdict::kAccepted);
  EXPECT_EQ(v.count(Verdict::kAccepted), 1u);
}

TEST(Signing, RejectsEveryTamperedField) {
  const BurstSignal good = signal(1, 100'000);
  std::vector<BurstSignal> forged(8, good);
  forged[0].device = "gw-18";
  forged[1].seq = 2;
  forged[2].ts_ms += 1;
  forged[3].horizon_s = 30;
  forged[4].forecast = 5e6;  // the dangerous one: make the cloud scale to its maximum
  forged[5].baseline = 1;
  forged[6].burst = false;
  forged[7].confidence = 1.0;
  for (size_t i = 0; i < forged.size(); ++i) {
    SignalVerifier v = verifier();
    const Verdict verdict = v.verify(forged[i], 100'000);
    EXPECT_TRUE(verdict == Verdict::kBadSignature || verdict == Verdict::kUnknownDevice)
        << "field " << i << ": " << to_string(verdict);
  }
}

TEST(Signing, RejectsWrongKeyUnsignedAndUnknownDevice) {
  SignalVerifier v = verifier();
  BurstSignal m = signal(1, 100'000);
  std::vector<unsigned char> other = key_bytes();
  other[0] ^= 1;
  sign(&m, other);
  EXPECT_EQ(v.verify(m, 100'000), Verdict::kBadSignature);
  m.sig.clear();
  EXPECT_EQ(v.verify(m, 100'000), Verdict::kUnsigned);
  BurstSignal stranger = signal(1, 100'000);
  stranger.device = "gw-99";
  sign(&stranger, key_bytes());
  EXPECT_EQ(v.verify(stranger, 100'000), Verdict::kUnknownDevice);
  EXPECT_EQ(v.count(Verdict::kBadSignature), 1u);
  EXPECT_EQ(v.count(Verdict::kUnsigned), 1u);
  EXPECT_EQ(v.count(Verdict::kUnknownDevice), 1u);
}

TEST(Signing, RejectsReplaysAndOldOrFutureSignals) {
  SignalVerifier v = verifier();
  EXPECT_EQ(v.verify(signal(5, 100'000), 100'000), Verdict::kAccepted);
  EXPECT_EQ(v.verify(signal(5, 100'000), 100'000), Verdict::kReplayed);  // the same message again
  EXPECT_EQ(v.verify(signal(4, 100'100), 100'100), Verdict::kReplayed);  // an older sequence
  EXPECT_EQ(v.verify(signal(6, 60'000), 100'000), Verdict::kStale);      // 40 s old, window 30 s
  EXPECT_EQ(v.verify(signal(7, 140'000), 100'000), Verdict::kFuture);
  EXPECT_EQ(v.verify(signal(8, 101'000), 101'000), Verdict::kAccepted);
  EXPECT_EQ(v.count(Verdict::kReplayed), 2u);
}

TEST(Signing, AForgedSignalDoesNotAdvanceTheSequence) {
  SignalVerifier v = verifier();
  BurstSignal forged = signal(1'000'000, 100'000);
  forged.forecast = 9e9;  // signature no longer matches
  EXPECT_EQ(v.verify(forged, 100'000), Verdict::kBadSignature);
  EXPECT_EQ(v.verify(signal(1, 100'000), 100'000), Verdict::kAccepted);
}

TEST(KeyRing, FileErrorsNameTheLineAndNeverTheKey) {
  const std::string secret = "deadbeefdeadbeefdeadbeefdeadbeefZZ";
  struct {
    std::string text;
    const char* fragment;
  } cases[] = {
      {"gw-1\n", "keys.txt:1: expected `DEVICE HEXKEY`"},
      {"gw-1 abcd\n", "keys.txt:1: key of device 'gw-1' must be at least 32 hex digits"},
      {"# c\ngw-1 " + secret + "\n", "keys.txt:2: key of device 'gw-1' is not hexadecimal"},
      {"gw-1 " + kHexKey + " extra\n", "more fields"},
      {"gw-1 " + kHexKey + "\ngw-1 " + kHexKey + "\n",
       "keys.txt:2: device 'gw-1' has a key already"},
  };
  for (const auto& c : cases) {
    auto r = KeyRing::parse(c.text, "keys.txt");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.fragment), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("deadbeef"), std::string::npos)
        << "a key leaked into an error";
    EXPECT_EQ(r.error().message.find(kHexKey), std::string::npos) << "a key leaked into an error";
  }
  EXPECT_FALSE(KeyRing::load("/nonexistent/keys.txt").ok());
}

}  // namespace
}  // namespace prescale::bus
