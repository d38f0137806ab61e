#include "policy/rl_model.h"

#include <cfloat>
#include <cinttypes>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/checksum.h"
#include "core/files.h"
#include "core/result.h"

namespace prescale::policy {

using nlohmann::json;

Mlp::Mlp(std::vector<DenseLayer> layers, Eigen::VectorXf mean, Eigen::VectorXf std)
    : layers_(std::move(layers)), mean_(std::move(mean)), std_(std::move(std)) {
  act_.emplace_back(Eigen::VectorXf::Zero(mean_.size()));
  for (const auto& l : layers_) act_.emplace_back(Eigen::VectorXf::Zero(l.b.size()));
}

const Eigen::VectorXf& Mlp::forward(const float* x) const {
  Eigen::VectorXf& in = act_[0];
  for (Eigen::Index i = 0; i < in.size(); ++i) in[i] = (x[i] - mean_[i]) / std_[i];
  for (size_t k = 0; k < layers_.size(); ++k) {
    const DenseLayer& l = layers_[k];
    Eigen::VectorXf& out = act_[k + 1];
    out.noalias() = l.w * act_[k];
    out += l.b;
    if (l.tanh) out = out.array().tanh();
  }
  return act_.back();
}

namespace {

core::Error bad(const std::string& origin, const std::string& what) {
  return core::Error{origin + ": invalid model file: " + what};
}

// Reads a numeric array field of exactly `n` finite floats.
core::Result<std::vector<float>> floats(const json& obj, const char* key, size_t n,
                                        const std::string& where, const std::string& origin) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return bad(origin, where + key + ": missing array");
  if (it->size() != n) {
    return bad(origin, where + key + ": has " + std::to_string(it->size()) + " numbers, expected " +
                           std::to_string(n));
  }
  std::vector<float> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const json& v = (*it)[i];
    if (!v.is_number())
      return bad(origin, where + key + "[" + std::to_string(i) + "]: not a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > FLT_MAX) {  // a cast of 1e300 is undefined
      return bad(origin, where + key + "[" + std::to_string(i) + "]: not finite");
    }
    out.push_back(static_cast<float>(d));
  }
  return out;
}

template <class T>
core::Result<T> field(const json& obj, const char* key, const std::string& origin) {
  auto it = obj.find(key);
  if (it == obj.end()) return bad(origin, std::string("missing field '") + key + "'");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return bad(origin, std::string("field '") + key + "' has the wrong type");
  }
}

// An integer field in [min, max] (a float such as 1e300 is refused, not cast).
core::Result<int> int_field(const json& obj, const char* key, int min, int max,
                            const std::string& where, const std::string& origin) {
  auto it = obj.find(key);
  if (it == obj.end()) return bad(origin, where + "missing field '" + key + "'");
  if (!it->is_number_integer() || it->get<std::int64_t>() < min || it->get<std::int64_t>() > max ||
      (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max))) {
    return bad(origin, where + key + ": expected an integer in [" + std::to_string(min) + ", " +
                           std::to_string(max) + "]");
  }
  return static_cast<int>(it->get<std::int64_t>());
}

void add_floats(core::Fnv1a64& f, const auto& v) {
  for (Eigen::Index i = 0; i < v.size(); ++i) f.add(v.data()[i]);
}

// How the numbers are stored: w row-major, as in the file.
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Everything the file says, parsed and validated; the checksum is checked by the caller
// (by the rules of the file's version).
core::Result<Model> parse_fields(const json& j, const std::string& origin) {
  Model m;
  auto kind = field<std::string>(j, "kind", origin);
  if (!kind.ok()) return kind.error();
  if (*kind != "worker" && *kind != "manager")
    return bad(origin, "kind " + core::echo(*kind) + ", expected worker|manager");
  m.kind = *kind;
  auto variant = field<std::string>(j, "variant", origin);
  if (!variant.ok()) return variant.error();
  m.variant = *variant;
  auto features = field<std::vector<std::string>>(j, "features", origin);
  if (!features.ok()) return features.error();
  m.features = *features;
  // Every head size an integer that fits an int (a float such as 2e117 is refused, not cast:
  // that conversion is undefined behaviour; found by the rl_model fuzzer).
  if (auto h = j.find("heads"); h != j.end() && h->is_array()) {
    for (const auto& e : *h) {
      if (!e.is_number_integer() || (e.is_number_unsigned() && e.get<std::uint64_t>() > INT_MAX) ||
          e.get<std::int64_t>() < INT_MIN || e.get<std::int64_t>() > INT_MAX)
        return bad(origin, "heads: expected a list of integers");
    }
  }
  auto heads = field<std::vector<int>>(j, "heads", origin);
  if (!heads.ok()) return heads.error();
  m.heads = *heads;
  const size_t n = m.features.size();
  if (n == 0 || n > static_cast<size_t>(kMaxModelWidth)) {
    return bad(origin, "features: " + std::to_string(n) + ", expected 1 to " +
                           std::to_string(kMaxModelWidth));
  }

  auto mean = floats(j, "obs_mean", n, "", origin);
  if (!mean.ok()) return mean.error();
  auto stdv = floats(j, "obs_std", n, "", origin);
  if (!stdv.ok()) return stdv.error();
  for (size_t i = 0; i < n; ++i) {
    if ((*stdv)[i] <= 0) return bad(origin, "obs_std[" + std::to_string(i) + "] must be > 0");
  }

  auto lit = j.find("layers");
  if (lit == j.end() || !lit->is_array() || lit->empty() || lit->size() > kMaxModelLayers)
    return bad(origin, "layers: expected 1 to " + std::to_string(kMaxModelLayers) + " layers");
  std::vector<DenseLayer> layers;
  size_t prev = n;
  for (size_t k = 0; k < lit->size(); ++k) {
    const json& L = (*lit)[k];
    const std::string where = "layers[" + std::to_string(k) + "].";
    if (!L.is_object()) return bad(origin, where + ": not an object");
    auto in = int_field(L, "in", 1, kMaxModelWidth, where, origin);
    if (!in.ok()) return in.error();
    auto out = int_field(L, "out", 1, kMaxModelWidth, where, origin);
    if (!out.ok()) return out.error();
    auto act = field<std::string>(L, "activation", origin);
    if (!act.ok()) return act.error();
    if (static_cast<size_t>(*in) != prev) {
      return bad(origin, where + "in = " + std::to_string(*in) +
                             " does not match the previous width " + std::to_string(prev));
    }
    if (*act != "tanh" && *act != "linear")
      return bad(origin, where + "activation " + core::echo(*act) + ", expected tanh|linear");
    auto w = floats(L, "w", static_cast<size_t>(*in) * static_cast<size_t>(*out), where, origin);
    if (!w.ok()) return w.error();
    auto b = floats(L, "b", static_cast<size_t>(*out), where, origin);
    if (!b.ok()) return b.error();
    DenseLayer d;
    d.w = Eigen::Map<RowMajor>(w->data(), *out, *in);
    d.b = Eigen::Map<Eigen::VectorXf>(b->data(), *out);
    d.tanh = *act == "tanh";
    layers.push_back(std::move(d));
    prev = static_cast<size_t>(*out);
  }
  std::int64_t head_sum = 0;
  for (int h : m.heads) {
    if (h <= 0) return bad(origin, "heads: sizes must be positive");
    head_sum += h;
  }
  if (static_cast<size_t>(head_sum) != prev) {
    return bad(origin, "heads sum to " + std::to_string(head_sum) + " but the last layer has " +
                           std::to_string(prev) + " outputs");
  }
  m.net = Mlp(std::move(layers),
              Eigen::Map<Eigen::VectorXf>(mean->data(), static_cast<Eigen::Index>(n)),
              Eigen::Map<Eigen::VectorXf>(stdv->data(), static_cast<Eigen::Index>(n)));
  if (auto t = j.find("training"); t != j.end()) {
    if (!t->is_object()) return bad(origin, "training: expected a JSON object");
    m.training_json = t->dump();
  }
  return m;
}

// Parses and checks the checksum: version 2 by model_checksum(Model); version 1 (numbers
// only) only when `accept_v1` (upgrade_model).
core::Result<Model> parse_checked(const std::string& text, const std::string& origin,
                                  bool accept_v1) {
  try {
    const json j = json::parse(text);
    if (!j.is_object()) return bad(origin, "top level is not an object");
    auto format = field<std::string>(j, "format", origin);
    if (!format.ok()) return format.error();
    if (*format != "prescale-model")
      return bad(origin, "format is " + core::echo(*format) + ", expected 'prescale-model'");
    auto version = int_field(j, "version", 1, kModelVersion, "", origin);
    if (!version.ok()) return version.error();
    auto m = parse_fields(j, origin);
    if (!m.ok()) return m.error();
    auto checksum = field<std::string>(j, "checksum", origin);
    if (!checksum.ok()) return checksum.error();
    if (*version == 1 && !accept_v1) {
      return bad(origin,
                 "version 1, whose checksum covers only the numbers; expected version 2 (run "
                 "`prescale models upgrade " +
                     origin + "` once: it checks the old checksum and rewrites the file)");
    }
    const std::string actual = *version == 1 ? model_checksum(m->net) : model_checksum(*m);
    if (*checksum != actual) {
      return bad(origin, "checksum mismatch (file says " + core::echo(*checksum) +
                             ", the fields give " + actual +
                             "): the file is corrupted or was edited");
    }
    return m;
  } catch (const json::exception& e) {  // parse_error, out_of_range (1e999), type_error
    return bad(origin, std::string("not JSON (") + e.what() + ")");
  }
}

}  // namespace

std::string model_checksum(const Mlp& net) {
  core::Fnv1a64 f;
  add_floats(f, net.mean());
  add_floats(f, net.stddev());
  for (const auto& l : net.layers()) {
    RowMajor w = l.w;
    add_floats(f, w);
    add_floats(f, l.b);
  }
  return f.hex();
}

std::string model_checksum(const Model& m) {
  core::Fnv1a64 f;
  f.add_int(kModelVersion);
  f.add_text(m.kind);
  f.add_text(m.variant);
  f.add_int(static_cast<std::int64_t>(m.features.size()));
  for (const auto& name : m.features) f.add_text(name);
  f.add_int(static_cast<std::int64_t>(m.heads.size()));
  for (int h : m.heads) f.add_int(h);
  add_floats(f, m.net.mean());
  add_floats(f, m.net.stddev());
  f.add_int(static_cast<std::int64_t>(m.net.layers().size()));
  for (const auto& l : m.net.layers()) {
    f.add_int(l.w.cols());
    f.add_int(l.w.rows());
    f.add_text(l.tanh ? "tanh" : "linear");
    RowMajor w = l.w;
    add_floats(f, w);
    add_floats(f, l.b);
  }
  return f.hex();
}

core::Result<Model> parse_model(const std::string& text, const std::string& origin) {
  return parse_checked(text, origin, /*accept_v1=*/false);
}

core::Result<std::string> upgrade_model(const std::string& text, const std::string& origin) {
  auto m = parse_checked(text, origin, /*accept_v1=*/true);
  if (!m.ok()) return m.error();
  return serialize_model(*m);
}

core::Result<Model> load_model(const std::string& path) {
  auto text = core::read_file(path);
  if (!text.ok()) return text.error();
  return parse_model(*text, path);
}

std::string serialize_model(const Model& m) {
  auto vec = [](const auto& v) {
    json a = json::array();
    for (Eigen::Index i = 0; i < v.size(); ++i) a.push_back(static_cast<double>(v.data()[i]));
    return a;
  };
  json j;
  j["format"] = "prescale-model";
  j["version"] = kModelVersion;
  j["kind"] = m.kind;
  j["variant"] = m.variant;
  j["features"] = m.features;
  j["heads"] = m.heads;
  j["obs_mean"] = vec(m.net.mean());
  j["obs_std"] = vec(m.net.stddev());
  json layers = json::array();
  for (const auto& l : m.net.layers()) {
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w = l.w;
    layers.push_back({{"in", l.w.cols()},
                      {"out", l.w.rows()},
                      {"activation", l.tanh ? "tanh" : "linear"},
                      {"w", vec(w)},
                      {"b", vec(l.b)}});
  }
  j["layers"] = std::move(layers);
  j["checksum"] = model_checksum(m);
  j["training"] = json::parse(m.training_json.empty() ? "{}" : m.training_json);
  return j.dump(1) + "\n";
}

core::Status save_model(const Model& m, const std::string& path) {
  return core::write_file_atomic(path, serialize_model(m));
}

}  // namespace prescale::policy
