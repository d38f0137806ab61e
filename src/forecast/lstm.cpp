#include "forecast/lstm.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/checksum.h"
#include "core/files.h"

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

std::string lstm_checksum(const LstmModel& m) {
  core::Fnv1a64 f;
  f.add(m.mean);
  f.add(m.std);
  for (float x : row_major(m.w_ih)) f.add(x);
  for (float x : row_major(m.w_hh)) f.add(x);
  for (Eigen::Index i = 0; i < m.b.size(); ++i) f.add(m.b[i]);
  for (Eigen::Index i = 0; i < m.head_w.size(); ++i) f.add(m.head_w[i]);
  f.add(m.head_b);
  if (m.residual()) {
    // Version 2: the baseline's name and parameters too (one number per character).
    for (char c : m.base) f.add(static_cast<float>(static_cast<unsigned char>(c)));
    f.add(-1.0f);
    for (char c : m.base_params) f.add(static_cast<float>(static_cast<unsigned char>(c)));
  }
  return f.hex();
}

std::string serialize_lstm(const LstmModel& m) {
  auto arr = [](const std::vector<float>& v) {
    json a = json::array();
    for (float x : v) a.push_back(static_cast<double>(x));
    return a;
  };
  json j = {{"format", "prescale-lstm"},
            {"version", m.residual() ? 2 : 1},
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
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return bad(origin, std::string("not JSON (") + e.what() + ")");
  }
  try {
    if (j.at("format").get<std::string>() != "prescale-lstm")
      return bad(origin, "format is not 'prescale-lstm'");
    const int version = j.at("version").get<int>();
    if (version != 1 && version != 2) return bad(origin, "version is not 1 or 2");
    LstmModel m;
    m.trace = j.at("trace").get<std::string>();
    m.horizon = j.at("horizon").get<int>();
    m.window = j.at("window").get<int>();
    m.period = j.at("period").get<int>();
    m.hidden = j.at("hidden").get<int>();
    m.mean = j.at("mean").get<float>();
    m.std = j.at("std").get<float>();
    if (m.horizon < 1 || m.window < 1 || m.period < 2 || m.hidden < 1 || m.hidden > 1024 ||
        !(m.std > 0)) {
      return bad(origin, "horizon, window, hidden must be positive, period >= 2, std > 0");
    }
    if (version == 2) {
      m.base = j.at("base").get<std::string>();
      m.base_params = j.at("base_params").get<std::string>();
      if (m.base.empty()) return bad(origin, "version 2 needs a base forecaster");
      if (auto f = make_baseline(m.base, m.period, m.base_params); !f.ok())
        return bad(origin, f.error().message);
    }
    const int g = 4 * m.hidden;
    auto floats = [&](const char* key, size_t n) -> core::Result<std::vector<float>> {
      const json& a = j.at(key);
      if (!a.is_array() || a.size() != n) {
        return bad(origin, std::string(key) + ": expected " + std::to_string(n) + " numbers");
      }
      std::vector<float> v;
      for (const auto& x : a) {
        if (!x.is_number() || !std::isfinite(x.get<double>()))
          return bad(origin, std::string(key) + ": not finite");
        v.push_back(x.get<float>());
      }
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
    m.head_b = j.at("head_b").get<float>();
    const std::string sum = j.at("checksum").get<std::string>();
    if (sum != lstm_checksum(m))
      return bad(origin, "checksum mismatch: the file is corrupted or was edited");
    if (auto t = j.find("training"); t != j.end()) m.training_json = t->dump();
    return m;
  } catch (const json::exception& e) {
    return bad(origin, std::string("missing or mistyped field (") + e.what() + ")");
  }
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
