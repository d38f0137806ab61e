// `prescale models upgrade FILE...`: rewrites shipped model files (models/*.json, the RL
// format of policy/rl_model.h, and models/forecast/*.json, the LSTM format of
// forecast/lstm.h) in the current version, whose checksum covers every field. Each file's
// old checksum must hold first, so only an intact file is upgraded; nothing is retrained
// and no number changes. Files already current are left as they are.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace prescale::cli {

struct ModelsArgs {
  CLI::App* upgrade = nullptr;
  std::vector<std::string> files;
};

CLI::App* add_models_command(CLI::App& app, ModelsArgs* a);
// Exit 0 when every file is current (rewritten or already so), 2 on the first bad file
// (which is left untouched, as are the ones after it).
int run_models_cmd(const ModelsArgs& a);

}  // namespace prescale::cli
