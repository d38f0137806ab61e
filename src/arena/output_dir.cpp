#include "arena/output_dir.h"

#include <fstream>
#include <system_error>

namespace prescale::arena {
namespace fs = std::filesystem;
namespace {

fs::path temp_of(const fs::path& target) {
  fs::path tmp = target;
  tmp += ".tmp";
  return tmp;
}

}  // namespace

StagedFiles::StagedFiles(std::string dir) : dir_(std::move(dir)) {}

StagedFiles::~StagedFiles() { abandon(); }

core::Status StagedFiles::stage(const std::string& name, std::string_view content) {
  const fs::path target = dir_ / name;
  // Create missing directories one by one, so abandon() can remove exactly those.
  std::vector<fs::path> missing;
  std::error_code ec;
  for (fs::path p = target.parent_path(); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (!fs::create_directory(*it, ec) && ec) {
      return core::Error{it->string() + ": cannot create output directory: " + ec.message()};
    }
    created_.push_back(*it);
  }
  const fs::path tmp = temp_of(target);
  targets_.push_back(target);
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return core::Error{tmp.string() + ": cannot create file"};
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return core::Error{tmp.string() + ": write failed (disk full?)"};
  return core::Status::Ok();
}

core::Status StagedFiles::commit() {
  std::error_code ec;
  for (size_t i = 0; i < targets_.size(); ++i) {
    fs::rename(temp_of(targets_[i]), targets_[i], ec);
    if (ec) {
      const std::string message =
          targets_[i].string() + ": cannot move into place: " + ec.message();
      targets_.erase(targets_.begin(), targets_.begin() + static_cast<std::ptrdiff_t>(i));
      abandon();
      return core::Error{message};
    }
  }
  targets_.clear();
  created_.clear();
  return core::Status::Ok();
}

void StagedFiles::abandon() {
  std::error_code ec;
  for (const auto& t : targets_) fs::remove(temp_of(t), ec);
  targets_.clear();
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    if (fs::is_empty(*it, ec)) fs::remove(*it, ec);
  }
  created_.clear();
}

}  // namespace prescale::arena
