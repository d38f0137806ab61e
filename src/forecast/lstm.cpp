#include "forecast/lstm.h"

#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/checksum.h"
#include "core/files.h"
#include "forecast/model_json.h"

namespace prescale::forecast {

using nlohmann::json;

namespace {

constexpr double kTwoPi = 6.283185307179586;

template <class M>
std::vector<float> row_major(const M& m) {
  std::vector<float> v;
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) v.push_back(m(r, c));
  return v;
}

core::Error bad(const std::string& origin, const std::string& what) {
  return core::Error{origin + ": invalid LSTM model: " + what};
}

}  // namespace

namespace {

// The numbers, in file order: what every format's checksum covers.
void add_numbers(core::Fnv1a64& f, const LstmModel& m) {
  f.add(m.mean);
  f.add(m.std);
  for (float x : row_major(m.w_ih)) f.add(x);
  for (float x : row_major(m.w_hh)) f.add(x);
  for (Eigen::Index i = 0; i < m.b.size(); ++i) f.add(m.b[i]);
  for (Eigen::Index i = 0; i < m.head_w.size(); ++i) f.add(m.head_w[i]);
  f.add(m.head_b);
}

// Version 1 and 2 files: the numbers, and a residual model's baseline (one number per
// character); window, period, horizon, hidden and trace were not covered.
std::string legacy_checksum(const LstmModel& m) {
  core::Fnv1a64 f;
  add_numbers(f, m);
  if (m.residual()) {
    for (char c : m.base) f.add(static_cast<float>(static_cast<unsigned char>(c)));
    f.add(-1.0f);
    for (char c : m.base_params) f.add(static_cast<float>(static_cast<unsigned char>(c)));
  }
  return f.hex();
}

core::Result<int> int_in(const json& j, const char* key, int min, int max,
                         const std::string& origin) {
  auto v = model_json::int_in(j, key, min, max);
  if (!v.ok()) return bad(origin, v.error().message);
  return *v;
}

core::Result<float> finite_float(const json& j, const char* key, const std::string& origin) {
  auto v = model_json::finite_float(j, key);
  if (!v.ok()) return bad(origin, v.error().message);
  return *v;
}

core::Result<LstmModel> parse_fields(const json& j, int version, const std::string& origin) {
  LstmModel m;
  m.trace = j.at("trace").get<std::string>();
  for (auto [key, out, lo, hi] : {std::tuple{"horizon", &m.horizon, 1, kMaxLstmHorizon},
                                  std::tuple{"window", &m.window, 1, kMaxLstmWindow},
                                  std::tuple{"period", &m.period, 2, kMaxLstmPeriod},
                                  std::tuple{"hidden", &m.hidden, 1, kMaxLstmHidden}}) {
    auto v = int_in(j, key, lo, hi, origin);
    if (!v.ok()) return v.error();
    *out = *v;
  }
  auto mean = finite_float(j, "mean", origin);
  if (!mean.ok()) return mean.error();
  auto stdv = finite_float(j, "std", origin);
  if (!stdv.ok()) return stdv.error();
  m.mean = *mean;
  m.std = *stdv;
  if (!(m.std > 0)) return bad(origin, "std: expected a number > 0");
  // Version 2 is always residual; version 3 is when it names a base.
  if (version == 2 || (version == kLstmVersion && j.contains("base"))) {
    m.base = j.at("base").get<std::string>();
    m.base_params = j.at("base_params").get<std::string>();
    if (m.base.empty()) return bad(origin, "a residual model needs a base forecaster");
    if (auto f = make_baseline(m.base, m.period, m.base_params); !f.ok())
      return bad(origin, f.error().message);
  }
  const int g = 4 * m.hidden;
  auto floats = [&](const char* key, size_t n) -> core::Result<std::vector<float>> {
    auto v = model_json::floats(j, key, n);
    if (!v.ok()) return bad(origin, v.error().message);
    return v;
  };
  auto ih = floats("w_ih", static_cast<size_t>(g) * static_cast<size_t>(m.inputs()));
  if (!ih.ok()) return ih.error();
  auto hh = floats("w_hh", static_cast<size_t>(g) * static_cast<size_t>(m.hidden));
  if (!hh.ok()) return hh.error();
  auto b = floats("b", static_cast<size_t>(g));
  if (!b.ok()) return b.error();
  auto hw = floats("head_w", static_cast<size_t>(m.hidden));
  if (!hw.ok()) return hw.error();
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  m.w_ih = Eigen::Map<RowMajor>(ih->data(), g, m.inputs());
  m.w_hh = Eigen::Map<RowMajor>(hh->data(), g, m.hidden);
  m.b = Eigen::Map<Eigen::VectorXf>(b->data(), g);
  m.head_w = Eigen::Map<Eigen::VectorXf>(hw->data(), m.hidden);
  auto head_b = finite_float(j, "head_b", origin);
  if (!head_b.ok()) return head_b.error();
  m.head_b = *head_b;
  if (auto t = j.find("training"); t != j.end()) {
    if (!t->is_object()) return bad(origin, "training: expected a JSON object");
    m.training_json = t->dump();
  }
  return m;
}

// Parses and checks the checksum by the rules of the file's version; versions 1 and 2
// only when `accept_legacy` (upgrade_lstm).
core::Result<LstmModel> parse_checked(const std::string& text, const std::string& origin,
                                      bool accept_legacy) {
  try {
    const json j = json::parse(text);
    if (!j.is_object()) return bad(origin, "top level is not an object");
    if (j.at("format").get<std::string>() != "prescale-lstm")
      return bad(origin, "format is not 'prescale-lstm'");
    auto version = int_in(j, "version", 1, kLstmVersion, origin);
    if (!version.ok()) return version.error();
    if (*version < kLstmVersion && !accept_legacy) {
      return bad(origin, "version " + std::to_string(*version) +
                             ", whose checksum leaves window, period, horizon and hidden "
                             "unprotected; expected version 3 (run `prescale models upgrade " +
                             origin + "` once: it checks the old checksum and rewrites the file)");
    }
    auto m = parse_fields(j, *version, origin);
    if (!m.ok()) return m.error();
    const std::string sum = j.at("checksum").get<std::string>();
    if (sum != (*version < kLstmVersion ? legacy_checksum(*m) : lstm_checksum(*m)))
      return bad(origin, "checksum mismatch: the file is corrupted or was edited");
    return m;
  } catch (const json::exception& e) {  // parse_error, out_of_range (1e999), type_error
    return bad(origin, std::string("missing, mistyped or unreadable field (") + e.what() + ")");
  }
}

}  // namespace

std::string lstm_checksum(const LstmModel& m) {
  core::Fnv1a64 f;
  f.add_int(kLstmVersion);
  f.add_text(m.trace);
  for (int v : {m.horizon, m.window, m.period, m.hidden}) f.add_int(v);
  add_numbers(f, m);
  f.add_text(m.base);
  f.add_text(m.base_params);
  return f.hex();
}

std::string serialize_lstm(const LstmModel& m) {
  auto arr = [](const std::vector<float>& v) {
    json a = json::array();
    for (float x : v) a.push_back(static_cast<double>(x));
    return a;
  };
  json j = {{"format", "prescale-lstm"},
            {"version", kLstmVersion},
            {"trace", m.trace},
            {"horizon", m.horizon},
            {"window", m.window},
            {"period", m.period},
            {"hidden", m.hidden},
            {"mean", static_cast<double>(m.mean)},
            {"std", static_cast<double>(m.std)},
            {"w_ih", arr(row_major(m.w_ih))},
            {"w_hh", arr(row_major(m.w_hh))},
            {"b", arr(std::vector<float>(m.b.data(), m.b.data() + m.b.size()))},
            {"head_w", arr(std::vector<float>(m.head_w.data(), m.head_w.data() + m.head_w.size()))},
            {"head_b", static_cast<double>(m.head_b)},
            {"checksum", lstm_checksum(m)},
            {"training", json::parse(m.training_json.empty() ? "{}" : m.training_json)}};
  if (m.residual()) {
    j["base"] = m.base;
    j["base_params"] = m.base_params;
  }
  return j.dump() + "\n";
}

core::Result<LstmModel> parse_lstm(const std::string& text, const std::string& origin) {
  return parse_checked(text, origin, /*accept_legacy=*/false);
}

core::Result<std::string> upgrade_lstm(const std::string& text, const std::string& origin) {
  auto m = parse_checked(text, origin, /*accept_legacy=*/true);
  if (!m.ok()) return m.error();
  return serialize_lstm(*m);
}

core::Result<LstmModel> load_lstm(const std::string& path) {
  auto text = core::read_file(path);
  if (!text.ok()) return text.error();
  return parse_lstm(*text, path);
}

core::Status save_lstm(const LstmModel& m, const std::string& path) {
  return core::write_file_atomic(path, serialize_lstm(m));
}

float lstm_normalise(const LstmModel& m, double x) {
  return static_cast<float>((std::log1p(std::max(0.0, x)) - static_cast<double>(m.mean)) /
                            static_cast<double>(m.std));
}

double lstm_denormalise(const LstmModel& m, double z) {
  return std::max(0.0, std::expm1(z * static_cast<double>(m.std) + static_cast<double>(m.mean)));
}

void lstm_input(const LstmModel& m, long long n, double x, float* out) {
  const double phase = kTwoPi * static_cast<double>(n % m.period) / m.period;
  out[0] = lstm_normalise(m, x);
  out[1] = static_cast<float>(std::sin(phase));
  out[2] = static_cast<float>(std::cos(phase));
}

LstmForecaster::LstmForecaster(LstmModel model)
    : m_(std::move(model)),
      history_(m_.window),
      base_history_(m_.window),
      h_(m_.hidden),
      c_(m_.hidden),
      gates_(4 * m_.hidden),
      x_(m_.inputs()) {
  if (m_.residual()) {
    auto f = make_baseline(m_.base, m_.period, m_.base_params);
    if (f.ok()) base_ = std::move(*f);  // parse_lstm has checked it; else no correction base
  }
}

void LstmForecaster::reset() {
  history_.clear();
  base_history_.clear();
  if (base_) base_->reset();
}

void LstmForecaster::observe(double x) {
  history_.push(x);
  if (base_) {
    base_->observe(x);
    base_history_.push(static_cast<double>(lstm_normalise(m_, base_->forecast(m_.horizon))));
  }
}

double LstmForecaster::forecast(int) const {
  const int w = history_.size();
  if (w == 0) return 0;
  const int H = m_.hidden;
  h_.setZero();
  c_.setZero();
  const long long first = history_.count() - w;  // sample number of the oldest held value
  for (int i = 0; i < w; ++i) {
    lstm_input(m_, first + i, history_.back(w - 1 - i), x_.data());
    if (m_.residual()) x_[3] = base_ ? static_cast<float>(base_history_.back(w - 1 - i)) : 0.0f;
    gates_.noalias() = m_.w_ih * x_;
    gates_.noalias() += m_.w_hh * h_;
    gates_ += m_.b;
    for (int k = 0; k < H; ++k) {
      const float ig = 1.0f / (1.0f + std::exp(-gates_[k]));
      const float fg = 1.0f / (1.0f + std::exp(-gates_[H + k]));
      const float gg = std::tanh(gates_[2 * H + k]);
      const float og = 1.0f / (1.0f + std::exp(-gates_[3 * H + k]));
      c_[k] = fg * c_[k] + ig * gg;
      h_[k] = og * std::tanh(c_[k]);
    }
  }
  double z = static_cast<double>(m_.head_w.dot(h_) + m_.head_b);
  if (m_.residual()) z += static_cast<double>(x_[3]);  // the newest sample's baseline forecast
  return lstm_denormalise(m_, z);
}

}  // namespace prescale::forecast
