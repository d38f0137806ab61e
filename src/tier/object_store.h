// The one object-store contract every tier implements (Redis, a local directory, S3), and
// that the TieredStore itself offers on top of them.
//
// Keys are arbitrary non-empty byte strings of at most 1024 bytes; values are opaque bytes.
// Every call is synchronous and returns an error value (never throws). A missing object is
// not an error: get/stat return an empty optional and del succeeds. Implementations are
// safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "tier/codec.h"

namespace prescale::tier {

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;  // stored bytes
};

// What adopting keys that other programs wrote needs beyond an ObjectStore (the Spark job's
// Redis hashes, TieredStore::adopt): a key's value as fields, and an atomic rename to claim it.
class ForeignKeys {
 public:
  virtual ~ForeignKeys() = default;
  // The value of `key` as a field map when it is a hash, as {"": value} when a string; empty
  // when absent; an error for other types.
  virtual core::Result<std::optional<std::map<std::string, std::string>>> read_fields(
      const std::string& key) = 0;
  // Renames `from` to `to` atomically; false when `from` does not exist.
  virtual core::Result<bool> rename(const std::string& from, const std::string& to) = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // A store that other programs write into too (Redis) offers their keys for adoption; the
  // others have none (nullptr, the default).
  virtual ForeignKeys* foreign_keys() { return nullptr; }

  // Stores `data` under `key`, replacing any previous value atomically: a reader sees the
  // old value or the new one, never a mix. Durable when it returns, as far as the backend
  // is (a directory: fsync'd; S3: acknowledged; Redis: as its persistence is configured).
  virtual core::Status put(const std::string& key, const std::string& data) = 0;
  // Like put() for a name no reader uses yet (the TieredStore's versioned copies, which the
  // catalog names only after this returns): no atomic replace is needed, so a backend may
  // write in place (a crash can leave a partial copy, which recovery deletes). Equally
  // durable when it returns.
  virtual core::Status put_fresh(const std::string& key, const std::string& data) {
    return put(key, data);
  }
  // put_fresh() for a value produced in pieces (a streamed body, compressed as it goes):
  // `pieces` is called once with a sink for them, in order. The default gathers them in
  // memory and calls put_fresh(); a directory writes them as they come.
  virtual core::Status put_fresh_pieces(
      const std::string& key, const std::function<core::Status(const PieceSink&)>& pieces);
  // put_fresh() for a value that is already a file in this store's file system (a spooled
  // body, made at a temp_path()): a directory links it under the key's name, no copy. The
  // file itself stays. False when this store cannot (the default): use put_fresh_pieces().
  virtual core::Result<bool> put_fresh_link(const std::string& key, const std::string& file) {
    (void)key;
    (void)file;
    return false;
  }
  // A new path for a temporary file that put_fresh_link() can take, or "" (the default)
  // when this store has no file system. remove_temp_files() deletes what a crash left there.
  virtual std::string temp_path() { return ""; }
  virtual core::Result<std::optional<std::string>> get(const std::string& key) = 0;
  // get() in pieces, handed to `sink` in order; false when there is no such object (nothing
  // was handed on). The default reads the value whole and hands it on at once; a directory
  // reads its file in pieces of 1 MB.
  virtual core::Result<bool> get_pieces(const std::string& key, const PieceSink& sink);
  virtual core::Status del(const std::string& key) = 0;
  virtual core::Result<std::optional<ObjectInfo>> stat(const std::string& key) = 0;
  // Every key starting with `prefix`, in no particular order.
  virtual core::Result<std::vector<std::string>> list(const std::string& prefix) = 0;
  // Deletes leftovers of interrupted writes (a directory's temp files); returns how many.
  virtual core::Result<int> remove_temp_files() { return 0; }
  // "redis://127.0.0.1:6379/0", "dir:/var/lib/x", "s3://bucket" (no secrets).
  virtual std::string describe() const = 0;
};

// The common key check: non-empty, at most 1024 bytes, no NUL.
core::Status check_key(const std::string& key);

// The TieredStore's stricter limit (TieredStore::check_object_key): a key takes at most
// kMaxKeyEscaped bytes once escaped for a file name (DirStore::encode_name: each byte
// outside [A-Za-z0-9_.-] takes 3), and key_prefix at most kMaxPrefixEscaped, so a physical
// name  prefix + key + "@" + version  (escaped: + 3 + up to 19 digits) always fits the
// directory tier's 240-byte names (file systems allow 255).
inline constexpr size_t kMaxKeyEscaped = 200;
inline constexpr size_t kMaxPrefixEscaped = 16;

}  // namespace prescale::tier
