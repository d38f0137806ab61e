// An object's bytes as a client sends them, for a put that must not hold a large body in
// memory (issue 15: one client's 1.5 GB body took the server to 1.74 GB resident).
//
// The first `memory_limit` bytes stay in memory; a body that grows past it moves to a spool
// file (TieredStore::new_body puts it in the directory tier's file system, so that tier can
// link it into place without a copy) and every later piece goes there. The size and the
// SHA-256 are computed as the bytes arrive. The spool file is deleted with the Body; one left
// by a crash is a temp file of the directory tier, which recovery deletes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "tier/codec.h"

namespace prescale::tier {

class Body {
 public:
  // `spool_path` "" = never spool (everything in memory, as for a store with no file system).
  Body(std::string spool_path, std::uint64_t memory_limit);
  // A finished body that reads `data` in place (no copy): `data` must outlive it.
  explicit Body(const std::string& data);
  ~Body();
  Body(const Body&) = delete;
  Body& operator=(const Body&) = delete;

  core::Status append(std::string_view piece);
  // After the last append(): closes the spool and fixes the digest.
  core::Status finish();

  std::uint64_t size() const { return size_; }
  const std::string& sha256() const { return sha256_; }  // after finish()
  bool spooled() const { return spooled_; }
  bool finished() const { return finished_; }
  const std::string& memory() const {
    return view_ ? *view_ : memory_;
  }                                                              // the bytes, unless spooled()
  const std::string& spool_path() const { return spool_path_; }  // the file, when spooled()

  // Hands the bytes to `sink` in order (from memory, or read from the spool in pieces of
  // kPiece bytes). After finish().
  core::Status read(const PieceSink& sink) const;

  static constexpr size_t kPiece = 1 << 20;

 private:
  core::Status spool();
  core::Status write_spool(std::string_view piece);
  std::string spool_path_;
  std::uint64_t memory_limit_;
  std::string memory_;
  const std::string* view_ = nullptr;
  int fd_ = -1;
  bool spooled_ = false;
  bool finished_ = false;
  std::uint64_t size_ = 0;
  Sha256 hash_;
  std::string sha256_;
};

}  // namespace prescale::tier
