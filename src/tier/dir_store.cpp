#include "tier/dir_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace prescale::tier {

namespace {

constexpr const char* kTempPrefix = ".tmp-";
constexpr size_t kMaxName = 240;

std::string why() { return std::strerror(errno); }

bool plain(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

core::Status fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return core::Error{dir + ": cannot open the directory: " + why()};
  const int rc = ::fsync(fd);
  const std::string err = rc != 0 ? why() : "";
  ::close(fd);
  if (rc != 0) return core::Error{dir + ": cannot fsync the directory: " + err};
  return core::Status::Ok();
}

}  // namespace

core::Status write_all(int fd, std::string_view data, const std::string& path) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return core::Error{path + ": write failed: " + why()};
    p += n;
    left -= static_cast<size_t>(n);
  }
  return core::Status::Ok();
}

core::Status read_pieces(int fd, const PieceSink& sink, const std::string& path) {
  std::string buf(1 << 20, '\0');
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core::Error{path + ": read failed: " + why()};
    if (n == 0) return core::Status::Ok();
    if (auto st = sink(std::string_view(buf.data(), static_cast<size_t>(n))); !st.ok()) return st;
  }
}

core::Status check_key(const std::string& key) {
  if (key.empty()) return core::Error{"key: expected a non-empty key"};
  if (key.size() > 1024) return core::Error{"key: expected at most 1024 bytes"};
  if (key.find('\0') != std::string::npos) return core::Error{"key: expected no NUL byte"};
  return core::Status::Ok();
}

core::Result<bool> ObjectStore::get_pieces(const std::string& key, const PieceSink& sink) {
  auto data = get(key);
  if (!data.ok()) return data.error();
  if (!*data) return false;
  if (auto st = sink(**data); !st.ok()) return st.error();
  return true;
}

core::Status ObjectStore::put_fresh_pieces(
    const std::string& key, const std::function<core::Status(const PieceSink&)>& pieces) {
  std::string data;
  auto st = pieces([&data](std::string_view piece) {
    data.append(piece);
    return core::Status::Ok();
  });
  if (!st.ok()) return st;
  return put_fresh(key, data);
}

std::string DirStore::encode_name(const std::string& key) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (size_t i = 0; i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (plain(c) && !(i == 0 && c == '.')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> DirStore::decode_name(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '%') {
      out += name[i];
      continue;
    }
    if (i + 2 >= name.size()) return std::nullopt;
    auto hex = [](char h) -> int {
      if (h >= '0' && h <= '9') return h - '0';
      if (h >= 'A' && h <= 'F') return h - 'A' + 10;
      return -1;
    };
    const int hi = hex(name[i + 1]), lo = hex(name[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

core::Result<std::unique_ptr<DirStore>> DirStore::open(const std::string& dir, DirSync sync) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return core::Error{dir + ": cannot create the directory: " + ec.message()};
  return std::unique_ptr<DirStore>(new DirStore(dir, sync));
}

core::Result<std::string> DirStore::path_of(const std::string& key) const {
  if (auto st = check_key(key); !st.ok()) return st.error();
  std::string name = encode_name(key);
  if (name.size() > kMaxName)
    return core::Error{"key: too long for a file name (" + std::to_string(name.size()) +
                       " bytes escaped; expected at most " + std::to_string(kMaxName) + ")"};
  return dir_ + "/" + name;
}

core::Status DirStore::put(const std::string& key, const std::string& data) {
  auto path = path_of(key);
  if (!path.ok()) return path.error();
  const std::string tmp = temp_path();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return core::Error{tmp + ": cannot create: " + why()};
  auto st = write_all(fd, data, tmp);
  if (st.ok() && sync_ != DirSync::kNone && ::fdatasync(fd) != 0)
    st = core::Error{tmp + ": fsync failed: " + why()};
  if (::close(fd) != 0 && st.ok()) st = core::Error{tmp + ": close failed: " + why()};
  if (st.ok() && ::rename(tmp.c_str(), path->c_str()) != 0)
    st = core::Error{*path + ": cannot rename into place: " + why()};
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return sync_ == DirSync::kFull ? fsync_dir(dir_) : core::Status::Ok();
}

core::Status DirStore::put_fresh(const std::string& key, const std::string& data) {
  return put_fresh_pieces(key, [&data](const PieceSink& sink) { return sink(data); });
}

core::Status DirStore::put_fresh_pieces(
    const std::string& key, const std::function<core::Status(const PieceSink&)>& pieces) {
  auto path = path_of(key);
  if (!path.ok()) return path.error();
  const int fd = ::open(path->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return core::Error{*path + ": cannot create: " + why()};
  auto st = pieces([&](std::string_view piece) { return write_all(fd, piece, *path); });
  if (st.ok() && sync_ != DirSync::kNone && ::fdatasync(fd) != 0)
    st = core::Error{*path + ": fsync failed: " + why()};
  if (::close(fd) != 0 && st.ok()) st = core::Error{*path + ": close failed: " + why()};
  if (!st.ok()) {
    ::unlink(path->c_str());
    return st;
  }
  return sync_ == DirSync::kFull ? fsync_dir(dir_) : core::Status::Ok();
}

core::Result<bool> DirStore::put_fresh_link(const std::string& key, const std::string& file) {
  auto path = path_of(key);
  if (!path.ok()) return path.error();
  if (sync_ != DirSync::kNone) {  // the file's bytes are durable before a name points at them
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return core::Error{file + ": cannot open: " + why()};
    const int rc = ::fdatasync(fd);
    const std::string err = rc != 0 ? why() : "";
    ::close(fd);
    if (rc != 0) return core::Error{file + ": fsync failed: " + err};
  }
  if (::link(file.c_str(), path->c_str()) != 0) {
    // Another file system, or one without hard links: the caller copies instead.
    if (errno == EXDEV || errno == EPERM || errno == EMLINK) return false;
    return core::Error{*path + ": cannot link " + file + ": " + why()};
  }
  if (sync_ == DirSync::kFull) {
    if (auto st = fsync_dir(dir_); !st.ok()) {
      ::unlink(path->c_str());
      return st.error();
    }
  }
  return true;
}

std::string DirStore::temp_path() {
  return dir_ + "/" + kTempPrefix + std::to_string(::getpid()) + "-" +
         std::to_string(seq_.fetch_add(1));
}

core::Result<std::optional<std::string>> DirStore::get(const std::string& key) {
  auto path = path_of(key);
  if (!path.ok()) return path.error();
  const int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return core::Error{*path + ": cannot open: " + why()};
  }
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) {
    ::close(fd);
    return core::Error{*path + ": cannot stat: " + why()};
  }
  std::string out(static_cast<size_t>(sb.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string err = why();
      ::close(fd);
      return core::Error{*path + ": read failed: " + err};
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return std::optional<std::string>(std::move(out));
}

core::Result<bool> DirStore::get_pieces(const std::string& key, const PieceSink& sink) {
  auto path = path_of(key);
  if (!path.ok()) return path.error();
  const int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    return core::Error{*path + ": cannot open: " + why()};
  }
  const auto st = read_pieces(fd, sink, *path);
  ::close(fd);
  if (!st.ok()) return st.error();
  return true;
}

core::Status DirStore::del(const std::string& key) {
  auto path = path_of(key);
  if (!path.ok()) return path.error();
  if (::unlink(path->c_str()) != 0) {
    if (errno == ENOENT) return core::Status::Ok();
    return core::Error{*path + ": cannot delete: " + why()};
  }
  return sync_ == DirSync::kFull ? fsync_dir(dir_) : core::Status::Ok();
}

core::Result<std::optional<ObjectInfo>> DirStore::stat(const std::string& key) {
  auto path = path_of(key);
  if (!path.ok()) return path.error();
  struct stat sb {};
  if (::stat(path->c_str(), &sb) != 0) {
    if (errno == ENOENT) return std::optional<ObjectInfo>();
    return core::Error{*path + ": cannot stat: " + why()};
  }
  return std::optional<ObjectInfo>(ObjectInfo{key, static_cast<std::uint64_t>(sb.st_size)});
}

core::Result<std::vector<std::string>> DirStore::list(const std::string& prefix) {
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return core::Error{dir_ + ": cannot list: " + why()};
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || name.rfind(kTempPrefix, 0) == 0) continue;
    auto key = decode_name(name);
    if (key && key->compare(0, prefix.size(), prefix) == 0) out.push_back(std::move(*key));
  }
  ::closedir(d);
  return out;
}

core::Result<int> DirStore::remove_temp_files() {
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return core::Error{dir_ + ": cannot list: " + why()};
  std::vector<std::string> temps;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(kTempPrefix, 0) == 0) temps.push_back(dir_ + "/" + name);
  }
  ::closedir(d);
  for (const auto& t : temps) ::unlink(t.c_str());
  return static_cast<int>(temps.size());
}

}  // namespace prescale::tier
