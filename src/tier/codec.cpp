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
  Sha256 h;
  h.update(data);
  return h.hex();
}

struct Sha256::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr);
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view piece) {
  EVP_DigestUpdate(ctx_->md, piece.data(), piece.size());
}

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, md, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

struct StreamCompressor::Zstd {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string out = std::string(ZSTD_CStreamOutSize(), '\0');
  ~Zstd() { ZSTD_freeCCtx(cctx); }
};

StreamCompressor::StreamCompressor(Codec codec, std::uint64_t raw_size, PieceSink sink)
    : codec_(codec), sink_(std::move(sink)) {
  if (codec_ == Codec::kZstd) {
    zstd_ = std::make_unique<Zstd>();
    ZSTD_CCtx_setParameter(zstd_->cctx, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setPledgedSrcSize(zstd_->cctx, raw_size);
  }
}

StreamCompressor::~StreamCompressor() = default;

core::Status StreamCompressor::emit(std::string_view out) {
  if (out.empty()) return core::Status::Ok();
  stored_ += out.size();
  return sink_(out);
}

core::Status StreamCompressor::update(std::string_view raw) {
  if (codec_ == Codec::kNone) return emit(raw);
  if (codec_ == Codec::kLz4) {
    gathered_.append(raw);
    return core::Status::Ok();
  }
  ZSTD_inBuffer in{raw.data(), raw.size(), 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer out{zstd_->out.data(), zstd_->out.size(), 0};
    const size_t rc = ZSTD_compressStream2(zstd_->cctx, &out, &in, ZSTD_e_continue);
    if (ZSTD_isError(rc))
      return core::Error{std::string("zstd: cannot compress: ") + ZSTD_getErrorName(rc)};
    if (auto st = emit(std::string_view(zstd_->out.data(), out.pos)); !st.ok()) return st;
  }
  return core::Status::Ok();
}

core::Status StreamCompressor::finish() {
  if (codec_ == Codec::kNone) return core::Status::Ok();
  if (codec_ == Codec::kLz4) {
    const std::string stored = compress(Codec::kLz4, gathered_);
    std::string().swap(gathered_);
    return emit(stored);
  }
  ZSTD_inBuffer in{nullptr, 0, 0};
  for (;;) {
    ZSTD_outBuffer out{zstd_->out.data(), zstd_->out.size(), 0};
    const size_t left = ZSTD_compressStream2(zstd_->cctx, &out, &in, ZSTD_e_end);
    if (ZSTD_isError(left))
      return core::Error{std::string("zstd: cannot compress: ") + ZSTD_getErrorName(left)};
    if (auto st = emit(std::string_view(zstd_->out.data(), out.pos)); !st.ok()) return st;
    if (left == 0) return core::Status::Ok();
  }
}

struct StreamDecompressor::Zstd {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::string out = std::string(ZSTD_DStreamOutSize(), '\0');
  ~Zstd() { ZSTD_freeDCtx(dctx); }
};

StreamDecompressor::StreamDecompressor(Codec codec, std::uint64_t raw_size, PieceSink sink)
    : codec_(codec), raw_size_(raw_size), sink_(std::move(sink)) {
  if (codec_ == Codec::kZstd) zstd_ = std::make_unique<Zstd>();
}

StreamDecompressor::~StreamDecompressor() = default;

core::Status StreamDecompressor::emit(std::string_view out) {
  if (out.empty()) return core::Status::Ok();
  raw_ += out.size();
  if (raw_ > raw_size_)
    return core::Error{std::string(to_string(codec_)) + ": more bytes than the object's size (" +
                       std::to_string(raw_size_) + ")"};
  return sink_(out);
}

core::Status StreamDecompressor::update(std::string_view stored) {
  if (codec_ == Codec::kNone) return emit(stored);
  if (codec_ == Codec::kLz4) {
    if (gathered_.size() + stored.size() > LZ4_compressBound(static_cast<int>(raw_size_)) + 64ull)
      return core::Error{"lz4: more stored bytes than the object's size allows"};
    gathered_.append(stored);
    return core::Status::Ok();
  }
  ZSTD_inBuffer in{stored.data(), stored.size(), 0};
  while (in.pos < in.size) {
    if (frame_done_) return core::Error{"zstd: bytes after the end of the frame"};
    ZSTD_outBuffer out{zstd_->out.data(), zstd_->out.size(), 0};
    const size_t rc = ZSTD_decompressStream(zstd_->dctx, &out, &in);
    if (ZSTD_isError(rc))
      return core::Error{std::string("zstd: cannot decompress: ") + ZSTD_getErrorName(rc)};
    if (rc == 0) frame_done_ = true;
    if (auto st = emit(std::string_view(zstd_->out.data(), out.pos)); !st.ok()) return st;
  }
  return core::Status::Ok();
}

core::Status StreamDecompressor::finish() {
  if (codec_ == Codec::kLz4) {
    auto raw = decompress(Codec::kLz4, gathered_, raw_size_);
    std::string().swap(gathered_);
    if (!raw.ok()) return raw.error();
    if (auto st = emit(*raw); !st.ok()) return st;
  }
  if (codec_ == Codec::kZstd && !frame_done_)
    return core::Error{"zstd: cannot decompress: the frame is cut short"};
  if (raw_ != raw_size_)
    return core::Error{std::string(to_string(codec_)) + ": size mismatch (" + std::to_string(raw_) +
                       " bytes, expected " + std::to_string(raw_size_) + ")"};
  return core::Status::Ok();
}

}  // namespace prescale::tier
