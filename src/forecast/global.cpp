#include "forecast/global.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/checksum.h"
#include "core/files.h"
#include "forecast/model_json.h"

namespace prescale::forecast {

using nlohmann::json;

namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

core::Error bad(const std::string& origin, const std::string& what) {
  return core::Error{origin + ": invalid global forecaster model: " + what};
}

// log1p(x[t+H]/s) beyond this would overflow expm1's use downstream: e^20 ~ 5e8 x the mean.
constexpr double kMaxZ = 20;

double softplus(double x) { return x > 20 ? x : std::log1p(std::exp(x)); }

// The matrices, in file order, each row-major: what the checksum and the file hold.
template <class F>
void each_array(const GlobalModel& m, F&& f) {
  const RowMajor w1 = m.w1, w2 = m.w2, w3 = m.w3;
  f("w1", std::vector<float>(w1.data(), w1.data() + w1.size()));
  f("b1", std::vector<float>(m.b1.data(), m.b1.data() + m.b1.size()));
  f("w2", std::vector<float>(w2.data(), w2.data() + w2.size()));
  f("b2", std::vector<float>(m.b2.data(), m.b2.data() + m.b2.size()));
  f("w3", std::vector<float>(w3.data(), w3.data() + w3.size()));
  f("b3", std::vector<float>(m.b3.data(), m.b3.data() + m.b3.size()));
}

core::Result<GlobalModel> parse_fields(const json& j, const std::string& origin) {
  GlobalModel m;
  for (auto [key, out, lo, hi] :
       {std::tuple{"horizon", &m.horizon, 1, kMaxGlobalHorizon},
        std::tuple{"recent", &m.recent, 1, kMaxGlobalContext},
        std::tuple{"blocks", &m.blocks, 0, kMaxGlobalContext},
        std::tuple{"block", &m.block, 1, kMaxGlobalContext},
        std::tuple{"hidden", &m.hidden, 1, kMaxGlobalHidden},
        std::tuple{"season_max", &m.season_max, 0, kMaxGlobalSeason},
        std::tuple{"season_window", &m.season_window, 1, kMaxGlobalSeason}}) {
    auto v = model_json::int_in(j, key, lo, hi);
    if (!v.ok()) return bad(origin, v.error().message);
    *out = *v;
  }
  if (auto st = check_global_shape(m); !st.ok()) return bad(origin, st.message());
  const auto H = static_cast<size_t>(m.hidden), I = static_cast<size_t>(m.inputs());
  std::vector<float> v[6];
  const std::tuple<const char*, size_t> shapes[] = {{"w1", H * I}, {"b1", H},     {"w2", H * H},
                                                    {"b2", H},     {"w3", 3 * H}, {"b3", 3}};
  for (int k = 0; k < 6; ++k) {
    auto a = model_json::floats(j, std::get<0>(shapes[k]), std::get<1>(shapes[k]));
    if (!a.ok()) return bad(origin, a.error().message);
    v[k] = std::move(*a);
  }
  const auto h = static_cast<Eigen::Index>(H), in = static_cast<Eigen::Index>(I);
  m.w1 = Eigen::Map<RowMajor>(v[0].data(), h, in);
  m.b1 = Eigen::Map<Eigen::VectorXf>(v[1].data(), h);
  m.w2 = Eigen::Map<RowMajor>(v[2].data(), h, h);
  m.b2 = Eigen::Map<Eigen::VectorXf>(v[3].data(), h);
  m.w3 = Eigen::Map<RowMajor>(v[4].data(), 3, h);
  m.b3 = Eigen::Map<Eigen::VectorXf>(v[5].data(), 3);
  for (auto [key, out] : {std::tuple{"raise", &m.raise}, std::tuple{"release", &m.release}}) {
    auto f = model_json::finite_float(j, key);
    if (!f.ok()) return bad(origin, f.error().message);
    *out = *f;
  }
  if (!(m.release >= 0 && m.release <= m.raise && m.raise <= 1))
    return bad(origin, "raise, release: expected 0 <= release <= raise <= 1");
  if (auto t = j.find("training"); t != j.end()) {
    if (!t->is_object()) return bad(origin, "training: expected a JSON object");
    m.training_json = t->dump();
  }
  return m;
}

}  // namespace

core::Status check_global_shape(const GlobalModel& m) {
  if (static_cast<long long>(m.blocks) * m.block > kMaxGlobalContext)
    return core::Error{"blocks x block: expected at most " + std::to_string(kMaxGlobalContext)};
  if (m.season_max > 0 &&
      static_cast<long long>(m.season_max) * m.season_window > kMaxGlobalContext)
    return core::Error{"season_max x season_window: expected at most " +
                       std::to_string(kMaxGlobalContext) +
                       " (the seasonal match's work per forecast)"};
  return core::Status::Ok();
}

std::string global_checksum(const GlobalModel& m) {
  core::Fnv1a64 f;
  f.add_int(kGlobalVersion);
  for (int v : {m.horizon, m.recent, m.blocks, m.block, m.hidden, m.season_max, m.season_window})
    f.add_int(v);
  each_array(m, [&](const char*, const std::vector<float>& a) {
    f.add_int(static_cast<std::int64_t>(a.size()));
    for (float x : a) f.add(x);
  });
  f.add(m.raise);
  f.add(m.release);
  return f.hex();
}

std::string serialize_global(const GlobalModel& m) {
  json j = {{"format", "prescale-global-forecaster"},
            {"version", kGlobalVersion},
            {"horizon", m.horizon},
            {"recent", m.recent},
            {"blocks", m.blocks},
            {"block", m.block},
            {"hidden", m.hidden},
            {"season_max", m.season_max},
            {"season_window", m.season_window}};
  each_array(m, [&](const char* key, const std::vector<float>& a) {
    j[key] = model_json::float_array(a.data(), a.size());
  });
  j["raise"] = model_json::short_float(m.raise);
  j["release"] = model_json::short_float(m.release);
  j["checksum"] = global_checksum(m);
  j["training"] = json::parse(m.training_json.empty() ? "{}" : m.training_json);
  return j.dump() + "\n";
}

core::Result<GlobalModel> parse_global(const std::string& text, const std::string& origin) {
  try {
    const json j = json::parse(text);
    if (!j.is_object()) return bad(origin, "top level is not an object");
    if (j.at("format").get<std::string>() != "prescale-global-forecaster")
      return bad(origin, "format is not 'prescale-global-forecaster'");
    auto version = model_json::int_in(j, "version", kGlobalVersion, kGlobalVersion);
    if (!version.ok()) return bad(origin, version.error().message);
    auto m = parse_fields(j, origin);
    if (!m.ok()) return m.error();
    if (j.at("checksum").get<std::string>() != global_checksum(*m))
      return bad(origin, "checksum mismatch: the file is corrupted or was edited");
    return m;
  } catch (const json::exception& e) {  // parse_error, out_of_range (1e999), type_error
    return bad(origin, std::string("missing, mistyped or unreadable field (") + e.what() + ")");
  }
}

core::Result<GlobalModel> load_global(const std::string& path) {
  auto text = core::read_file(path);
  if (!text.ok()) return text.error();
  return parse_global(*text, path);
}

core::Status save_global(const GlobalModel& m, const std::string& path) {
  return core::write_file_atomic(path, serialize_global(m));
}

double global_features(const GlobalModel& m, const History& h, float* out,
                       std::vector<double>* scratch) {
  const int held = h.size();
  const int n = m.inputs();
  if (held == 0) {
    std::fill(out, out + n, 0.0f);
    return 0;
  }
  // The context by age (v[0] = newest), the oldest held value standing in for what was never
  // seen; a plain array, so the seasonal match below is a tight loop.
  const int C = m.context();
  scratch->resize(static_cast<size_t>(C));  // no allocation after the first call
  double* v = scratch->data();
  for (int a = 0; a < C; ++a) v[a] = std::max(0.0, h.back(a < held ? a : held - 1));
  const int L = m.span();
  double sum = 0;
  for (int a = 0; a < L; ++a) sum += v[a];
  const double s = sum / L;
  if (!(s > 0) || !std::isfinite(s)) {
    std::fill(out, out + n, 0.0f);
    return 0;
  }
  for (int a = 0; a < m.recent; ++a) out[a] = static_cast<float>(std::log1p(v[a] / s));
  for (int b = 0; b < m.blocks; ++b) {
    double bs = 0;
    for (int a = b * m.block; a < (b + 1) * m.block; ++a) bs += v[a];
    out[m.recent + b] = static_cast<float>(std::log1p(bs / m.block / s));
  }
  if (m.season_max > 0) {
    float* f = out + m.recent + m.blocks;
    const int W = m.season_window;
    // Only periods whose whole match lies in what was seen (no filled-in history).
    const int top = std::min(m.season_max, held - W);
    auto mismatch = [&](int lag) {
      double d = 0;
      for (int k = 0; k < W; ++k) d += std::fabs(v[k] - v[k + lag]);
      return d / W / s;
    };
    if (top < 2) {
      f[0] = out[0], f[1] = 1, f[2] = 1, f[3] = 0;
    } else {
      int best = 2;
      double best_d = mismatch(2);
      for (int P = 3; P <= top; ++P) {
        const double d = mismatch(P);
        if (d < best_d) best = P, best_d = d;
      }
      const int cycles = (m.horizon + best - 1) / best;  // m: the smallest with mP* >= H
      f[0] = static_cast<float>(std::log1p(v[cycles * best - m.horizon] / s));
      f[1] = static_cast<float>(std::min(best_d, 10.0));
      f[2] = static_cast<float>(std::min(m.horizon <= held - W ? mismatch(m.horizon) : 1.0, 10.0));
      f[3] = static_cast<float>(best) / static_cast<float>(m.season_max);
    }
  }
  return s;
}

GlobalForecaster::GlobalForecaster(GlobalModel model)
    : m_(std::move(model)),
      history_(m_.context()),
      scratch_(static_cast<size_t>(m_.context())),
      in_(m_.inputs()),
      h1_(m_.hidden),
      h2_(m_.hidden),
      out_(3) {}

void GlobalForecaster::reset() { history_.clear(); }

void GlobalForecaster::observe(double x) { history_.push(x); }

double GlobalForecaster::forecast(int) const { return output().median; }

GlobalOutput GlobalForecaster::output() const {
  const double s = global_features(m_, history_, in_.data(), &scratch_);
  h1_.noalias() = m_.w1 * in_;
  h1_ = (h1_ + m_.b1).cwiseMax(0.0f);
  h2_.noalias() = m_.w2 * h1_;
  h2_ = (h2_ + m_.b2).cwiseMax(0.0f);
  out_.noalias() = m_.w3 * h2_;
  out_ += m_.b3;
  GlobalOutput o;
  o.burst_p = 1.0 / (1.0 + std::exp(-static_cast<double>(out_[2])));
  if (s > 0) {
    const double z50 = std::clamp(static_cast<double>(in_[0] + out_[0]), 0.0, kMaxZ);
    const double z90 = std::min(kMaxZ, z50 + softplus(static_cast<double>(out_[1])));
    o.median = s * std::expm1(z50);
    o.p90 = s * std::expm1(z90);
  }
  return o;
}

bool BurstHeadDetector::update(double burst_p) {
  if (up_) {
    ++held_;
    if (held_ >= min_on_ && burst_p < release_) up_ = false, held_ = 0;
  } else if (burst_p >= raise_) {
    up_ = true, held_ = 0;
  }
  return up_;
}

std::vector<std::uint8_t> global_signal(const GlobalModel& m, const std::vector<double>& series,
                                        std::vector<double>* median, std::vector<double>* p90,
                                        std::vector<double>* burst_p) {
  GlobalForecaster f(m);
  BurstHeadDetector d(m.raise, m.release);
  std::vector<std::uint8_t> sig(series.size(), 0);
  for (auto* v : {median, p90, burst_p})
    if (v) v->assign(series.size(), 0.0);
  for (size_t t = 0; t < series.size(); ++t) {
    f.observe(series[t]);
    const GlobalOutput o = f.output();
    sig[t] = d.update(o.burst_p) ? 1 : 0;
    if (median) (*median)[t] = o.median;
    if (p90) (*p90)[t] = o.p90;
    if (burst_p) (*burst_p)[t] = o.burst_p;
  }
  return sig;
}

}  // namespace prescale::forecast
