#include "bus/signing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/files.h"

namespace prescale::bus {

using nlohmann::json;

std::string canonical(const BurstSignal& m) {
  std::string s;
  auto add = [&s](const json& v) {
    if (!s.empty()) s += '|';
    s += v.dump();
  };
  add(kVersion);
  add("burst_signal");
  add(m.device);
  add(m.seq);
  add(m.ts_ms);
  add(m.horizon_s);
  add(m.forecast);
  add(m.baseline);
  add(m.burst ? 1 : 0);
  add(m.confidence);
  return s;
}

std::string hmac_sha256_hex(const std::vector<unsigned char>& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

void sign(BurstSignal* m, const std::vector<unsigned char>& key) {
  m->sig = hmac_sha256_hex(key, canonical(*m));
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

core::Result<KeyRing> KeyRing::parse(const std::string& text, const std::string& origin) {
  KeyRing ring;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string where = origin + ":" + std::to_string(n) + ": ";
    std::istringstream fields(line);
    std::string device, hex, extra;
    if (!(fields >> device) || device[0] == '#') continue;
    if (!(fields >> hex))
      return core::Error{where + "expected `DEVICE HEXKEY`, found a device without a key"};
    if (fields >> extra) return core::Error{where + "expected `DEVICE HEXKEY`, found more fields"};
    if (hex.size() % 2 != 0 || hex.size() < 32) {
      return core::Error{where + "key of device '" + device +
                         "' must be at least 32 hex digits (16 bytes), even length"};
    }
    std::vector<unsigned char> key;
    for (size_t i = 0; i < hex.size(); i += 2) {
      const int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
      if (hi < 0 || lo < 0)
        return core::Error{where + "key of device '" + device + "' is not hexadecimal"};
      key.push_back(static_cast<unsigned char>(hi * 16 + lo));
    }
    if (ring.keys_.count(device))
      return core::Error{where + "device '" + device + "' has a key already"};
    ring.keys_[device] = std::move(key);
  }
  return ring;
}

core::Result<KeyRing> KeyRing::load(const std::string& path) {
  auto text = core::read_file(path);
  if (!text.ok()) return text.error();
  return parse(*text, path);
}

const std::vector<unsigned char>* KeyRing::find(const std::string& device) const {
  auto it = keys_.find(device);
  return it == keys_.end() ? nullptr : &it->second;
}

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::kAccepted:
      return "accepted";
    case Verdict::kUnsigned:
      return "unsigned";
    case Verdict::kUnknownDevice:
      return "unknown_device";
    case Verdict::kBadSignature:
      return "bad_signature";
    case Verdict::kReplayed:
      return "replayed";
    case Verdict::kStale:
      return "stale";
    case Verdict::kFuture:
      return "future";
  }
  return "unknown";
}

Verdict SignalVerifier::verify(const BurstSignal& m, std::int64_t now_ms) {
  auto judge = [&]() {
    if (m.sig.empty()) return Verdict::kUnsigned;
    const auto* key = keys_.find(m.device);
    if (!key) return Verdict::kUnknownDevice;
    const std::string expected = hmac_sha256_hex(*key, canonical(m));
    if (expected.size() != m.sig.size() ||
        CRYPTO_memcmp(expected.data(), m.sig.data(), expected.size()) != 0) {
      return Verdict::kBadSignature;
    }
    // Only authentic signals reach the replay checks, so a forger cannot advance a
    // device's sequence number.
    if (m.ts_ms < now_ms - window_ms_) return Verdict::kStale;
    if (m.ts_ms > now_ms + window_ms_) return Verdict::kFuture;
    if (auto it = last_seq_.find(m.device); it != last_seq_.end() && m.seq <= it->second)
      return Verdict::kReplayed;
    last_seq_[m.device] = m.seq;
    return Verdict::kAccepted;
  };
  const Verdict v = judge();
  ++counts_[static_cast<size_t>(v)];
  return v;
}

}  // namespace prescale::bus
