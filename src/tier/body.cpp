#include "tier/body.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tier/dir_store.h"

namespace prescale::tier {

namespace {

std::string why() { return std::strerror(errno); }

}  // namespace

Body::Body(std::string spool_path, std::uint64_t memory_limit)
    : spool_path_(std::move(spool_path)), memory_limit_(memory_limit) {}

Body::Body(const std::string& data)
    : memory_limit_(data.size()),
      view_(&data),
      finished_(true),
      size_(data.size()),
      sha256_(sha256_hex(data)) {}

Body::~Body() {
  if (fd_ >= 0) ::close(fd_);
  if (spooled_) ::unlink(spool_path_.c_str());
}

core::Status Body::write_spool(std::string_view piece) {
  return write_all(fd_, piece, spool_path_);
}

core::Status Body::spool() {
  fd_ = ::open(spool_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) return core::Error{spool_path_ + ": cannot create the body's spool file: " + why()};
  spooled_ = true;
  auto st = write_spool(memory_);
  std::string().swap(memory_);
  return st;
}

core::Status Body::append(std::string_view piece) {
  if (finished_) return core::Error{"the body is already finished"};
  if (!spooled_ && !spool_path_.empty() && memory_.size() + piece.size() > memory_limit_)
    if (auto st = spool(); !st.ok()) return st;
  if (spooled_) {
    if (auto st = write_spool(piece); !st.ok()) return st;
  } else {
    memory_.append(piece);
  }
  hash_.update(piece);
  size_ += piece.size();
  return core::Status::Ok();
}

core::Status Body::finish() {
  if (finished_) return core::Status::Ok();
  finished_ = true;
  sha256_ = hash_.hex();
  if (fd_ < 0) return core::Status::Ok();
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return core::Error{spool_path_ + ": cannot close the body's spool file: " + why()};
  return core::Status::Ok();
}

core::Status Body::read(const PieceSink& sink) const {
  if (!spooled_) return sink(memory());
  const int fd = ::open(spool_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core::Error{spool_path_ + ": cannot open the body's spool file: " + why()};
  std::uint64_t total = 0;
  auto st = read_pieces(
      fd,
      [&](std::string_view piece) {
        total += piece.size();
        return sink(piece);
      },
      spool_path_);
  ::close(fd);
  if (st.ok() && total != size_)
    st = core::Error{spool_path_ + ": the body's spool file changed size (" +
                     std::to_string(total) + " bytes, expected " + std::to_string(size_) + ")"};
  return st;
}

}  // namespace prescale::tier
