#include "core/yaml.h"

#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <sstream>

#include "core/files.h"

namespace prescale::core {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

int line_of(const YAML::Node& n) { return n.Mark().line + 1; }

const char* kind_of(const YAML::Node& n) {
  if (n.IsSequence()) return "a sequence";
  if (n.IsMap()) return "a mapping";
  if (n.IsNull()) return "an empty (null) key";
  return "a non-scalar";
}

// Walks the document once: every mapping key is a plain scalar and appears once. Nodes
// reached again through an alias (same start position) are not walked twice, so a
// "billion laughs" document costs its size, not its expansion.
class KeyChecker {
 public:
  explicit KeyChecker(const std::string& origin) : origin_(origin) {}

  Status check(const YAML::Node& n) {
    if (!n.IsMap() && !n.IsSequence()) return Status::Ok();
    const int pos = n.Mark().pos;
    if (pos >= 0 && !visited_.insert(pos).second) return Status::Ok();
    if (n.IsSequence()) {
      for (const auto& item : n) {
        if (Status st = check(item); !st.ok()) return st;
      }
      return Status::Ok();
    }
    std::map<std::string, int> lines;  // key -> line of its first occurrence
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) {
        return Error{yaml_where(origin_, kv.first) + ": expected a plain name as the key, got " +
                     kind_of(kv.first)};
      }
      const std::string& key = kv.first.Scalar();
      const auto [it, fresh] = lines.emplace(key, line_of(kv.first));
      if (!fresh) {
        return Error{yaml_where(origin_, kv.first) + ": " + echo(key) +
                     ": duplicate key (first at line " + std::to_string(it->second) +
                     "); expected each key once"};
      }
      if (Status st = check(kv.second); !st.ok()) return st;
    }
    return Status::Ok();
  }

 private:
  const std::string& origin_;
  std::set<int> visited_;
};

std::string range_text(double min, double max) {
  std::ostringstream s;
  s << "a number";
  if (min > -kInf && max < kInf) {
    s << " in [" << min << ", " << max << "]";
  } else if (min > -kInf) {
    s << " >= " << min;
  } else if (max < kInf) {
    s << " <= " << max;
  }
  return s.str();
}

}  // namespace

std::string yaml_where(const std::string& file, const YAML::Node& node) {
  return file + ":" + std::to_string(line_of(node));
}

Status parse_yaml(std::string_view text, const std::string& origin, YAML::Node* root) {
  if (text.size() > kMaxYamlBytes) {
    return Error{origin + ": " + std::to_string(text.size()) + " bytes; expected at most " +
                 std::to_string(kMaxYamlBytes) + " bytes of YAML"};
  }
  try {
    *root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {  // includes YAML::DeepRecursion
    return Error{origin + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML: " + e.msg};
  } catch (const YAML::Exception& e) {
    return Error{origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg};
  } catch (const std::exception& e) {  // std::bad_alloc and the like
    return Error{origin + ": cannot parse the YAML: " + e.what()};
  }
  try {
    return KeyChecker(origin).check(*root);
  } catch (const std::exception& e) {
    return Error{origin + ": cannot read the YAML: " + e.what()};
  }
}

Status load_yaml_file(const std::string& path, YAML::Node* root) {
  auto text = read_file(path);
  if (!text.ok()) return text.error();
  return parse_yaml(*text, path, root);
}

// ---------------------------------------------------------------------------------------
// YamlMap

YamlMap::YamlMap(const YAML::Node& node, std::string file, std::string path, std::string* error,
                 std::string where)
    : node_(node),
      file_(std::move(file)),
      path_(std::move(path)),
      where_(std::move(where)),
      error_(error) {
  if (where_.empty()) where_ = node_.IsDefined() ? yaml_where(file_, node_) : file_;
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    fail(node_, path_.empty() ? "document" : path_, "a mapping of key: value");
  }
}

bool YamlMap::valid() const { return node_ && node_.IsMap(); }

std::optional<YAML::Node> YamlMap::take(const char* key) {
  asked_.push_back(key);
  if (!valid() || !error_->empty()) return std::nullopt;
  seen_.insert(key);
  const YAML::Node& map = node_;  // const access: operator[] must not insert the key
  YAML::Node v = map[key];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  return v;
}

std::string YamlMap::dotted(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void YamlMap::fail(const YAML::Node& n, const std::string& field, const std::string& expected) {
  if (!error_->empty()) return;
  const std::string got = n.IsScalar() ? echo(n.Scalar()) : std::string(kind_of(n));
  *error_ = yaml_where(file_, n) + ": " + field + ": got " + got + ", expected " + expected;
}

void YamlMap::fail_at(const char* key, const std::string& message) {
  if (!error_->empty()) return;
  if (valid()) {
    for (const auto& kv : node_) {
      if (kv.first.Scalar() == key) {
        *error_ = yaml_where(file_, kv.first) + ": " + dotted(key) + ": " + message;
        return;
      }
    }
  }
  *error_ = file_ + ": " + dotted(key) + ": " + message;
}

void YamlMap::number(const char* key, double* out, double min, double max) {
  const auto v = take(key);
  if (!v) return;
  double d = 0;
  if (!v->IsScalar() || !YAML::convert<double>::decode(*v, d) || !std::isfinite(d) || d < min ||
      d > max) {
    return fail(*v, dotted(key), range_text(min, max));
  }
  *out = d;
}

void YamlMap::integer(const char* key, std::int64_t* out, std::int64_t min, std::int64_t max) {
  const auto v = take(key);
  if (!v) return;
  long long i = 0;
  if (!v->IsScalar() || !YAML::convert<long long>::decode(*v, i) || i < min || i > max) {
    return fail(*v, dotted(key),
                "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  *out = i;
}

void YamlMap::integer(const char* key, int* out, int min, int max) {
  std::int64_t wide = *out;
  integer(key, &wide, min, max);
  *out = static_cast<int>(wide);  // in [min, max] whenever it changed
}

void YamlMap::u64(const char* key, std::uint64_t* out) {
  const auto v = take(key);
  if (!v) return;
  unsigned long long i = 0;
  // yaml-cpp's unsigned conversion accepts "-1" (wrapping); a sign is never a valid u64.
  if (!v->IsScalar() || v->Scalar().find('-') != std::string::npos ||
      !YAML::convert<unsigned long long>::decode(*v, i)) {
    return fail(*v, dotted(key), "a non-negative integer");
  }
  *out = i;
}

void YamlMap::text(const char* key, std::string* out) {
  const auto v = take(key);
  if (!v) return;
  if (!v->IsScalar()) return fail(*v, dotted(key), "a string");
  *out = v->Scalar();
}

void YamlMap::section(const char* key, const std::function<void(YamlMap&)>& body) {
  const auto v = take(key);
  if (!v) return;
  YamlMap sub(*v, file_, dotted(key), error_);
  if (!error_->empty()) return;
  body(sub);
  sub.finish();
}

void YamlMap::each(const char* key, const std::function<void(const std::string&, YamlMap&)>& body) {
  const auto v = take(key);
  if (!v) return;
  if (!v->IsMap()) return fail(*v, dotted(key), "a mapping");
  for (const auto& kv : *v) {
    YamlMap sub(kv.second, file_, dotted(key) + "." + kv.first.Scalar(), error_,
                yaml_where(file_, kv.first));
    if (!error_->empty()) return;
    body(kv.first.Scalar(), sub);
  }
}

void YamlMap::scalars(
    const std::function<void(const std::string&, const std::string&, const std::string&)>& body) {
  if (!valid()) return;
  for (const auto& kv : node_) {
    if (!error_->empty()) return;
    const std::string key = kv.first.Scalar();
    seen_.insert(key);
    if (!kv.second.IsScalar()) return fail(kv.second, dotted(key), "a scalar value");
    body(key, kv.second.Scalar(), yaml_where(file_, kv.second));
  }
}

void YamlMap::finish() {
  if (!valid() || !error_->empty()) return;
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (seen_.count(key) != 0) continue;
    std::string list;
    for (const auto& k : asked_) list += (list.empty() ? "" : ", ") + k;
    const std::string shown = key.size() <= 80 ? key : echo(key);
    *error_ = yaml_where(file_, kv.first) + ": " + dotted(shown) +
              ": unknown field; expected one of: " + list;
    return;
  }
}

}  // namespace prescale::core
