// Per-tier compression (none, zstd, lz4) and the content checksum (SHA-256).
//
// Why SHA-256 and not xxhash: OpenSSL is already linked (src/bus), its SHA-256 runs at
// ~1-2 GB/s with the CPU's SHA extensions, and S3 needs exactly this digest of an
// uncompressed body for x-amz-content-sha256, so one digest serves both.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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

// SHA-256 of a value that arrives in pieces; hex() equals sha256_hex() of their
// concatenation.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view piece);
  // The lower-case hex digest; call once, after the last update().
  std::string hex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Where pieces of a value go (a file, a buffer); an error stops the stream.
using PieceSink = std::function<core::Status(std::string_view)>;

// compress() for a value that arrives in pieces: the output, handed to `sink` as it is made,
// is what decompress() reads (zstd: one frame at compress()'s level with the size in its
// header; none: the bytes themselves). LZ4's block format needs the whole input at once, so
// for lz4 the pieces are gathered and compressed in finish(): memory up to the raw size.
class StreamCompressor {
 public:
  // `raw_size` is the total that update() will be given (zstd writes it into the frame).
  StreamCompressor(Codec codec, std::uint64_t raw_size, PieceSink sink);
  ~StreamCompressor();
  StreamCompressor(const StreamCompressor&) = delete;
  StreamCompressor& operator=(const StreamCompressor&) = delete;
  core::Status update(std::string_view raw);
  core::Status finish();
  std::uint64_t stored_bytes() const { return stored_; }

 private:
  core::Status emit(std::string_view out);
  Codec codec_;
  PieceSink sink_;
  std::uint64_t stored_ = 0;
  struct Zstd;
  std::unique_ptr<Zstd> zstd_;
  std::string gathered_;  // lz4
};

// decompress() for a stored value that arrives in pieces: the raw bytes go to `sink` as they
// are made (zstd: streamed, memory a window; none: the pieces themselves; lz4: gathered and
// decompressed in finish(), memory up to the raw size). finish() fails unless exactly
// `raw_size` bytes came out of one whole frame.
class StreamDecompressor {
 public:
  StreamDecompressor(Codec codec, std::uint64_t raw_size, PieceSink sink);
  ~StreamDecompressor();
  StreamDecompressor(const StreamDecompressor&) = delete;
  StreamDecompressor& operator=(const StreamDecompressor&) = delete;
  core::Status update(std::string_view stored);
  core::Status finish();

 private:
  core::Status emit(std::string_view out);
  Codec codec_;
  std::uint64_t raw_size_;
  PieceSink sink_;
  std::uint64_t raw_ = 0;
  bool frame_done_ = false;
  struct Zstd;
  std::unique_ptr<Zstd> zstd_;
  std::string gathered_;  // lz4
};

}  // namespace prescale::tier
