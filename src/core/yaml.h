// Strict YAML input, shared by every configuration loader (scenarios, the controller, the
// tier server), so that each reports a bad file the same way:
//   file:line: field: got 'value', expected what
// and none lets a yaml-cpp exception escape (yaml-cpp throws on a sequence used as a key,
// on operator[] of a scalar, on a failed as<T>()).
//
// load_yaml_file() parses and checks the document's shape (plain keys, no duplicates);
// YamlMap then reads one mapping field by field, with types and ranges, and reports the
// first key nobody read. Neither throws.
//
// Include this header only from a module that links yaml-cpp itself (sim, control, tier):
// prescale_core compiles yaml.cpp against yaml-cpp privately.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace prescale::core {

// A configuration file larger than this is refused before it is parsed.
inline constexpr std::size_t kMaxYamlBytes = 16 << 20;

// Parses `text` (named `origin` in errors) into *root. Errors: malformed YAML (with the
// line), nesting too deep, a key that is not a plain scalar (a sequence or mapping used as
// a key, a null key), the same key twice in one mapping (naming both lines), more than
// kMaxYamlBytes. Anchors and aliases are allowed; a node reached twice is checked once.
Status parse_yaml(std::string_view text, const std::string& origin, YAML::Node* root);

// Reads `path` and parse_yaml()s it; an unreadable file is an error naming the path.
Status load_yaml_file(const std::string& path, YAML::Node* root);

// "file:line" of a node (1-based line).
std::string yaml_where(const std::string& file, const YAML::Node& node);

// Strict reader over one YAML mapping. Each read_* takes its key from the mapping (absent
// or null = the caller's default stays); finish() then reports the first key nobody asked
// for, listing the ones that were asked for. Numbers must be finite (`.nan`, `.inf` and
// overflowing literals are refused) and in range. All readers share one error string: the
// first failure wins and later reads do nothing. Values are echoed truncated (core::echo).
class YamlMap {
 public:
  // `path` is the dotted name of this mapping in messages ("" at the top level).
  // `where` locates the mapping in messages ("file:line" of its key); "" = its own line.
  YamlMap(const YAML::Node& node, std::string file, std::string path, std::string* error,
          std::string where = "");

  // The node is a mapping (an absent or null node reads as an empty one).
  bool valid() const;

  void number(const char* key, double* out, double min, double max);
  void integer(const char* key, int* out, int min, int max);
  void integer(const char* key, std::int64_t* out, std::int64_t min, std::int64_t max);
  void u64(const char* key, std::uint64_t* out);
  void text(const char* key, std::string* out);
  // One of a set of names, parsed by `parse`; `expected` lists them ("a|b|c").
  template <class T>
  void choice(const char* key, T* out, std::optional<T> (*parse)(std::string_view),
              const char* expected) {
    const auto v = take(key);
    if (!v) return;
    std::optional<T> parsed;
    if (v->IsScalar()) parsed = parse(v->Scalar());
    if (!parsed) return fail(*v, dotted(key), expected);
    *out = *parsed;
  }

  // Descends into a sub-mapping (absent = all defaults); finish()es it after `body`.
  void section(const char* key, const std::function<void(YamlMap&)>& body);
  // A mapping whose keys are free names (e.g. policies): `body` per entry, in file order.
  void each(const char* key, const std::function<void(const std::string&, YamlMap&)>& body);
  // Every entry of this mapping as text (each must be a scalar), with its "file:line";
  // marks them all read. For free-form tables (policy parameters, librdkafka properties).
  void scalars(const std::function<void(const std::string& key, const std::string& value,
                                        const std::string& where)>& body);

  // The first key nobody asked for is an error (unless one is already recorded).
  void finish();

  // Records an error about `key` (a cross-field check): "file:line: path.key: message",
  // with the key's line when it is present, else "file: path.key: message".
  void fail_at(const char* key, const std::string& message);

  bool ok() const { return error_->empty(); }
  // "file:line" of this mapping (of its key when read through each()).
  const std::string& where() const { return where_; }
  const std::string& file() const { return file_; }

 private:
  std::optional<YAML::Node> take(const char* key);
  std::string dotted(const std::string& key) const;
  void fail(const YAML::Node& n, const std::string& field, const std::string& expected);

  YAML::Node node_;
  std::string file_;
  std::string path_;
  std::string where_;
  std::string* error_;
  std::set<std::string> seen_;
  std::vector<std::string> asked_;
};

}  // namespace prescale::core
