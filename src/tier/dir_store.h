// The warm tier: one flat local directory (an NVMe mount in production).
//
// put() writes a temp file (".tmp-..."), fsyncs it, renames it over the final name and
// fsyncs the directory, so after a crash at any point the key holds the old value or the
// new one; a crash can leave a temp file behind, which remove_temp_files() (called by
// recovery) deletes. Keys map to file names by escaping every byte outside [A-Za-z0-9_.-]
// (and a leading '.') as %XX, so listing decodes names back to keys; a key whose escaped
// name exceeds 240 bytes is rejected.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "tier/object_store.h"

namespace prescale::tier {

// How put/del make their changes durable:
//   kFull - fdatasync the file and fsync the directory (POSIX: survives power loss on any
//           file system; the default)
//   kFile - fdatasync the file only; the rename reaches the disk with the next journal
//           commit. On ext4 (data=ordered) and XFS any later fsync — e.g. the catalog's
//           commit that follows every put — commits it, so the TieredStore stays durable
//           there; not on btrfs or without a journal. Half the syncs for small objects.
//   kNone - no syncs (tests and benchmarks of the non-durable path)
enum class DirSync { kFull, kFile, kNone };

// Writes all of `data` to `fd`, retrying short writes and EINTR; an error names `path`.
core::Status write_all(int fd, std::string_view data, const std::string& path);
// Reads `fd` to its end in pieces of 1 MB, handing each to `sink`; an error names
// `path`.
core::Status read_pieces(int fd, const PieceSink& sink, const std::string& path);

class DirStore : public ObjectStore {
 public:
  // Creates `dir` if needed.
  static core::Result<std::unique_ptr<DirStore>> open(const std::string& dir,
                                                      DirSync sync = DirSync::kFull);

  core::Status put(const std::string& key, const std::string& data) override;
  // Writes the final name directly (no temp file, no rename): one fdatasync (+ the
  // directory fsync in kFull mode).
  core::Status put_fresh(const std::string& key, const std::string& data) override;
  // Writes the pieces to the final name as they come (memory: one piece).
  core::Status put_fresh_pieces(
      const std::string& key, const std::function<core::Status(const PieceSink&)>& pieces) override;
  // A hard link to `file` (fsync'd first), when it is on this directory's file system.
  core::Result<bool> put_fresh_link(const std::string& key, const std::string& file) override;
  // dir/.tmp-PID-SEQ: list() skips it, remove_temp_files() deletes it.
  std::string temp_path() override;
  core::Result<std::optional<std::string>> get(const std::string& key) override;
  // Reads the file in pieces of 1 MB (an open file reads on if a migration deletes it).
  core::Result<bool> get_pieces(const std::string& key, const PieceSink& sink) override;
  core::Status del(const std::string& key) override;
  core::Result<std::optional<ObjectInfo>> stat(const std::string& key) override;
  core::Result<std::vector<std::string>> list(const std::string& prefix) override;
  std::string describe() const override { return "dir:" + dir_; }

  // Deletes temp files a crashed writer left behind; returns how many.
  core::Result<int> remove_temp_files() override;

  static std::string encode_name(const std::string& key);
  static std::optional<std::string> decode_name(const std::string& name);

 private:
  DirStore(std::string dir, DirSync sync) : dir_(std::move(dir)), sync_(sync) {}
  core::Result<std::string> path_of(const std::string& key) const;

  std::string dir_;
  DirSync sync_;
  std::atomic<std::uint64_t> seq_{0};
};

}  // namespace prescale::tier
