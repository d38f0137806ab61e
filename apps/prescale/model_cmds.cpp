#include "model_cmds.h"

#include <iostream>

#include "core/files.h"
#include "forecast/global.h"
#include "forecast/lstm.h"
#include "policy/rl_model.h"

namespace prescale::cli {

CLI::App* add_models_command(CLI::App& app, ModelsArgs* a) {
  auto* c = app.add_subcommand("models", "shipped model files");
  c->require_subcommand(1);
  a->upgrade = c->add_subcommand(
      "upgrade",
      "rewrite model files in the current format (checksum over every field), after checking "
      "their old checksum; no number changes");
  a->upgrade->add_option("files", a->files, "model files (models/*.json, models/forecast/*.json)")
      ->required();
  return c;
}

int run_models_cmd(const ModelsArgs& a) {
  for (const auto& path : a.files) {
    auto text = core::read_file(path);
    if (!text.ok()) {
      std::cerr << "prescale: error: " << text.error().message << "\n";
      return 2;
    }
    if (text->find("\"prescale-global-forecaster\"") != std::string::npos) {
      // Version 1 is the only version: checked, never rewritten.
      if (auto g = forecast::parse_global(*text, path); !g.ok()) {
        std::cerr << "prescale: error: " << g.error().message << "\n";
        return 2;
      }
      std::cerr << path << ": already current\n";
      continue;
    }
    const bool lstm = text->find("\"prescale-lstm\"") != std::string::npos;
    auto upgraded = lstm ? forecast::upgrade_lstm(*text, path) : policy::upgrade_model(*text, path);
    if (!upgraded.ok()) {
      std::cerr << "prescale: error: " << upgraded.error().message << "\n";
      return 2;
    }
    if (*upgraded == *text) {
      std::cerr << path << ": already current\n";
      continue;
    }
    if (core::Status st = core::write_file_atomic(path, *upgraded); !st.ok()) {
      std::cerr << "prescale: error: " << st.message() << "\n";
      return 2;
    }
    std::cerr << path << ": upgraded\n";
  }
  return 0;
}

}  // namespace prescale::cli
