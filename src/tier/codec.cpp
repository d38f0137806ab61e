#include "tier/codec.h"

#include <lz4.h>
#include <openssl/evp.h>
#include <zstd.h>

namespace prescale::tier {

std::string_view to_string(Codec c) {
  switch (c) {
    case Codec::kZstd:
      return "zstd";
    case Codec::kLz4:
      return "lz4";
    case Codec::kNone:
      break;
  }
  return "none";
}

std::optional<Codec> parse_codec(std::string_view text) {
  if (text == "none") return Codec::kNone;
  if (text == "zstd") return Codec::kZstd;
  if (text == "lz4") return Codec::kLz4;
  return std::nullopt;
}

std::string compress(Codec c, std::string_view raw) {
  if (c == Codec::kZstd) {
    std::string out(ZSTD_compressBound(raw.size()), '\0');
    const size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 1);
    out.resize(ZSTD_isError(n) ? 0 : n);
    return out;
  }
  if (c == Codec::kLz4) {
    std::string out(static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))), '\0');
    const int n = LZ4_compress_default(raw.data(), out.data(), static_cast<int>(raw.size()),
                                       static_cast<int>(out.size()));
    out.resize(static_cast<size_t>(n > 0 ? n : 0));
    return out;
  }
  return std::string(raw);
}

core::Result<std::string> decompress(Codec c, std::string_view stored, std::uint64_t raw_size) {
  if (c == Codec::kNone) return std::string(stored);
  std::string out(raw_size, '\0');
  if (c == Codec::kZstd) {
    const size_t n = ZSTD_decompress(out.data(), out.size(), stored.data(), stored.size());
    if (ZSTD_isError(n) || n != raw_size)
      return core::Error{std::string("zstd: cannot decompress: ") +
                         (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch")};
    return out;
  }
  const int n = LZ4_decompress_safe(stored.data(), out.data(), static_cast<int>(stored.size()),
                                    static_cast<int>(out.size()));
  if (n < 0 || static_cast<std::uint64_t>(n) != raw_size)
    return core::Error{"lz4: cannot decompress (corrupt data or size mismatch)"};
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

}  // namespace prescale::tier
