// Per-tier compression (none, zstd, lz4) and the content checksum (SHA-256).
//
// Why SHA-256 and not xxhash: OpenSSL is already linked (src/bus), its SHA-256 runs at
// ~1-2 GB/s with the CPU's SHA extensions, and S3 needs exactly this digest of an
// uncompressed body for x-amz-content-sha256, so one digest serves both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace prescale::tier {

enum class Codec : std::uint8_t { kNone = 0, kZstd = 1, kLz4 = 2 };

std::string_view to_string(Codec c);
std::optional<Codec> parse_codec(std::string_view text);  // "none" | "zstd" | "lz4"

std::string compress(Codec c, std::string_view raw);
// `raw_size` is the size before compression (kept in the catalog).
core::Result<std::string> decompress(Codec c, std::string_view stored, std::uint64_t raw_size);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace prescale::tier
