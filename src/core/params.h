// A flat, typed parameter table for one component (a policy, say), read from a scenario
// file. Each entry remembers where it came from ("scenarios/seed.yaml:61") so that every
// error names the file, the line, the field and what was expected.
//
// Usage: the component reads what it knows with get_*(key, default, min, max); afterwards
// the caller asks finish() which reports the first bad value or unknown key. Getters never
// throw; on a bad value they return the default and remember the error.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/result.h"

namespace prescale::core {

class ParamTable {
 public:
  // `scope` names the table in messages, e.g. "policies.hpa"; `origin` is where the table
  // itself was written ("scenarios/seed.yaml:86"), for errors about the whole table.
  explicit ParamTable(std::string scope = "", std::string origin = "")
      : scope_(std::move(scope)), origin_(std::move(origin)) {}

  void set(const std::string& key, std::string value, std::string where = "");
  bool has(const std::string& key) const { return entries_.count(key) != 0; }
  const std::string& scope() const { return scope_; }
  const std::string& origin() const { return origin_; }

  double get_double(const std::string& key, double fallback, double min, double max);
  int get_int(const std::string& key, int fallback, int min, int max);
  bool get_bool(const std::string& key, bool fallback);
  // A relative path of plain names (letters, digits, '-', '_', '.', '/'; no "..", not
  // absolute), e.g. a subdirectory of the models directory.
  std::string get_relative_path(const std::string& key, const std::string& fallback);
  // One of `choices`; returns the chosen string.
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& choices);

  // Reports the first bad value, else the first key nobody asked for (listing the
  // keys that were asked for, so the user sees what is accepted).
  Status finish() const;

 private:
  struct Entry {
    std::string value;
    std::string where;
  };
  void fail(const std::string& key, const Entry& entry, const std::string& expected);
  std::string prefix(const std::string& key, const Entry& entry) const;

  std::string scope_;
  std::string origin_;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> known_;
  std::string first_error_;
};

}  // namespace prescale::core
