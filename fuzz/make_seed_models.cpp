// Writes the model seeds of fuzz/corpus/{rl_model,lstm,global_model}/: each shipped model shrunk to
// a tiny one of the same kind (same features, heads, trace, baseline; hidden width 2, a short
// window), serialised by the real writers so the checksum holds and the fuzzer starts from
// files that load. The shipped files are ~100-200 KB each; these are ~1-3 KB.
//
//   make_seed_models OUT_DIR MODEL.json...   (a "prescale-lstm", "prescale-model" or
//                                            "prescale-global-forecaster" file)
//
// Run by hand when a format changes (fuzz/README.md); not part of `make fuzz`.
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/files.h"
#include "forecast/global.h"
#include "forecast/lstm.h"
#include "policy/rl_model.h"

namespace {

using prescale::core::Status;

constexpr int kHidden = 2;

// The same model with every hidden layer kHidden wide; the input and output sizes stay.
Status shrink_rl(const std::string& text, const std::string& origin, const std::string& out) {
  using namespace prescale::policy;
  auto m = parse_model(text, origin);
  if (!m.ok()) return m.error();
  const int in = m->net.inputs(), outputs = m->net.outputs();
  std::vector<DenseLayer> layers(2);
  layers[0].w = Eigen::MatrixXf::Constant(kHidden, in, 0.25f);
  layers[0].b = Eigen::VectorXf::Constant(kHidden, 0.125f);
  layers[1].w = Eigen::MatrixXf::Constant(outputs, kHidden, -0.5f);
  layers[1].b = Eigen::VectorXf::Zero(outputs);
  layers[1].tanh = m->net.layers().back().tanh;
  m->net = Mlp(std::move(layers), m->net.mean(), m->net.stddev());
  m->training_json = R"({"seed":"fuzz/make_seed_models.cpp"})";
  return save_model(*m, out);
}

Status shrink_lstm(const std::string& text, const std::string& origin, const std::string& out) {
  using namespace prescale::forecast;
  auto m = parse_lstm(text, origin);
  if (!m.ok()) return m.error();
  m->hidden = kHidden;
  m->window = 4;
  m->w_ih = Eigen::MatrixXf::Constant(4 * kHidden, m->inputs(), 0.1f);
  m->w_hh = Eigen::MatrixXf::Constant(4 * kHidden, kHidden, -0.1f);
  m->b = Eigen::VectorXf::Constant(4 * kHidden, 0.05f);
  m->head_w = Eigen::VectorXf::Constant(kHidden, 0.5f);
  m->training_json = R"({"seed":"fuzz/make_seed_models.cpp"})";
  return save_lstm(*m, out);
}

// The global forecaster with every dimension small: 8 recent samples, 2 blocks of 4, periods
// up to 4 over a window of 4, hidden width kHidden; its thresholds stay.
Status shrink_global(const std::string& text, const std::string& origin, const std::string& out) {
  using namespace prescale::forecast;
  auto m = parse_global(text, origin);
  if (!m.ok()) return m.error();
  m->recent = 8, m->blocks = 2, m->block = 4, m->season_max = 4, m->season_window = 4;
  m->hidden = kHidden;
  m->w1 = Eigen::MatrixXf::Constant(kHidden, m->inputs(), 0.1f);
  m->b1 = Eigen::VectorXf::Constant(kHidden, 0.05f);
  m->w2 = Eigen::MatrixXf::Constant(kHidden, kHidden, -0.1f);
  m->b2 = Eigen::VectorXf::Constant(kHidden, 0.05f);
  m->w3 = Eigen::MatrixXf::Constant(3, kHidden, 0.5f);
  m->b3 = Eigen::VectorXf::Zero(3);
  m->training_json = R"({"seed":"fuzz/make_seed_models.cpp"})";
  return save_global(*m, out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_seed_models OUT_DIR MODEL.json...\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string in = argv[i];
    auto text = prescale::core::read_file(in);
    if (!text.ok()) {
      std::fprintf(stderr, "%s\n", text.error().message.c_str());
      return 1;
    }
    const bool lstm = text->find("\"prescale-lstm\"") != std::string::npos;
    const bool global = text->find("\"prescale-global-forecaster\"") != std::string::npos;
    const std::string out = (dir /
                             (global ? "global_model"
                              : lstm ? "lstm"
                                     : "rl_model") /
                             std::filesystem::path(in).filename())
                                .string();
    std::filesystem::create_directories(std::filesystem::path(out).parent_path());
    const Status st = global ? shrink_global(*text, in, out)
                      : lstm ? shrink_lstm(*text, in, out)
                             : shrink_rl(*text, in, out);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return 1;
    }
    std::printf("%s\n", out.c_str());
  }
  return 0;
}
