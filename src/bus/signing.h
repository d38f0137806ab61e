// Authenticated edge signals. A forged Burst_Signal could make the cloud scale to its
// maximum, so every signal carries an HMAC-SHA256 over its canonical fields with the
// sending device's key, and the receiver rejects unknown devices, bad signatures and
// replays (sequence not increasing, timestamp outside a window). Keys come from a file and
// never appear in messages, errors or logs.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bus/messages.h"
#include "core/result.h"

namespace prescale::bus {

// The bytes the signature covers: every field but `sig`, in a fixed order, each encoded as
// JSON (strings quoted and escaped, numbers in their shortest round-trip form), joined by
// '|': v|type|device|seq|ts_ms|horizon_s|forecast|baseline|burst|confidence.
std::string canonical(const BurstSignal& m);

// Lowercase hex HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256_hex(const std::vector<unsigned char>& key, const std::string& data);

// Signs in place with the device's key.
void sign(BurstSignal* m, const std::vector<unsigned char>& key);

// Per-device keys. File format, one device per line: `DEVICE HEXKEY` (key >= 16 bytes = 32
// hex digits); blank lines and lines starting with '#' are ignored. Errors name file:line
// and never quote a key.
class KeyRing {
 public:
  static core::Result<KeyRing> load(const std::string& path);
  static core::Result<KeyRing> parse(const std::string& text, const std::string& origin);
  void add(const std::string& device, std::vector<unsigned char> key) {
    keys_[device] = std::move(key);
  }
  const std::vector<unsigned char>* find(const std::string& device) const;
  size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, std::vector<unsigned char>> keys_;
};

enum class Verdict : int {
  kAccepted = 0,
  kUnsigned,       // no sig field
  kUnknownDevice,  // no key for the device
  kBadSignature,   // signature does not match (tampered, or the wrong key)
  kReplayed,       // seq not greater than the last accepted one from this device
  kStale,          // ts_ms older than the window
  kFuture,         // ts_ms further ahead than the window (clock skew or forgery)
};
inline constexpr int kNumVerdicts = 7;
const char* to_string(Verdict v);

// Verifies signals and remembers the last accepted sequence number per device. Counts every
// verdict (for /metrics).
class SignalVerifier {
 public:
  SignalVerifier(KeyRing keys, std::int64_t window_ms)
      : keys_(std::move(keys)), window_ms_(window_ms) {}

  Verdict verify(const BurstSignal& m, std::int64_t now_ms);
  std::uint64_t count(Verdict v) const { return counts_[static_cast<size_t>(v)]; }

 private:
  KeyRing keys_;
  std::int64_t window_ms_;
  std::map<std::string, std::uint64_t> last_seq_;
  std::array<std::uint64_t, kNumVerdicts> counts_{};
};

}  // namespace prescale::bus
