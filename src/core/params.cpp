#include "core/params.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

namespace prescale::core {

void ParamTable::set(const std::string& key, std::string value, std::string where) {
  entries_[key] = Entry{std::move(value), std::move(where)};
}

std::string ParamTable::prefix(const std::string& key, const Entry& entry) const {
  std::string p = entry.where.empty() ? "" : entry.where + ": ";
  p += scope_.empty() ? key : scope_ + "." + key;
  return p;
}

void ParamTable::fail(const std::string& key, const Entry& entry, const std::string& expected) {
  if (!first_error_.empty()) return;
  first_error_ = prefix(key, entry) + ": got " + echo(entry.value) + ", expected " + expected;
}

double ParamTable::get_double(const std::string& key, double fallback, double min, double max) {
  known_.push_back(key);
  auto it = entries_.find(key);
  if (it == entries_.end()) return fallback;
  const std::string& s = it->second.value;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  std::ostringstream expected;
  expected << "a number in [" << min << ", " << max << "]";
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v) || v < min || v > max) {
    fail(key, it->second, expected.str());
    return fallback;
  }
  return v;
}

int ParamTable::get_int(const std::string& key, int fallback, int min, int max) {
  known_.push_back(key);
  auto it = entries_.find(key);
  if (it == entries_.end()) return fallback;
  const std::string& s = it->second.value;
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max) {
    fail(key, it->second,
         "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return fallback;
  }
  return v;
}

bool ParamTable::get_bool(const std::string& key, bool fallback) {
  known_.push_back(key);
  auto it = entries_.find(key);
  if (it == entries_.end()) return fallback;
  const std::string& s = it->second.value;
  if (s == "true") return true;
  if (s == "false") return false;
  fail(key, it->second, "true or false");
  return fallback;
}

std::string ParamTable::get_relative_path(const std::string& key, const std::string& fallback) {
  known_.push_back(key);
  auto it = entries_.find(key);
  if (it == entries_.end()) return fallback;
  const std::string& v = it->second.value;
  const bool plain = !v.empty() && v.front() != '/' && v.find("..") == std::string::npos &&
                     std::all_of(v.begin(), v.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                              c == '.' || c == '/';
                     });
  if (plain) return v;
  fail(key, it->second, "a relative path of plain names (no '..', not absolute)");
  return fallback;
}

std::string ParamTable::get_choice(const std::string& key, const std::string& fallback,
                                   const std::vector<std::string>& choices) {
  known_.push_back(key);
  auto it = entries_.find(key);
  if (it == entries_.end()) return fallback;
  if (std::find(choices.begin(), choices.end(), it->second.value) != choices.end()) {
    return it->second.value;
  }
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
  fail(key, it->second, "one of " + list);
  return fallback;
}

Status ParamTable::finish() const {
  if (!first_error_.empty()) return Error{first_error_};
  for (const auto& [key, entry] : entries_) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::vector<std::string> sorted = known_;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::string list;
    for (const auto& k : sorted) list += (list.empty() ? "" : ", ") + k;
    return Error{prefix(key, entry) +
                 ": unknown parameter; expected one of: " + (list.empty() ? "(none)" : list)};
  }
  return Status::Ok();
}

}  // namespace prescale::core
