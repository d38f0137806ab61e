// `prescale forecast eval|train|train-global`: the edge forecasters' evaluation and training
// (docs/forecast.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "forecast/global_train.h"
#include "forecast/lstm_train.h"

namespace prescale::cli {

struct ForecastArgs {
  CLI::App *eval_cmd = nullptr, *train_cmd = nullptr, *train_global_cmd = nullptr,
           *finetune_cmd = nullptr;
  // eval
  std::vector<std::string> traces;
  int horizon = 12;
  std::string format = "table";
  std::string models;  // LSTM directory
  std::string split = "test";
  std::vector<std::string> model_kinds;  // "global": add the global forecaster's rows
  std::string global_file;
  bool finetune = false;  // eval --finetune: a global-ft row per trace
  std::uint64_t finetune_seed = 1;
  // train
  std::vector<std::string> train_traces;
  forecast::LstmTrainOptions train;
  forecast::LstmGrid grid;
  std::vector<std::string> family;
  std::string out;
  // train-global
  forecast::GlobalTrainOptions global;
  std::string global_traces_dir;
  std::string global_out;
  // finetune
  std::string history;       // the gateway's own history (timestamp,value CSV)
  std::string finetune_out;  // the model file written
  double validation_share = 0.25;
};

// The default global model file: models/forecast/global.json.
std::string default_global_model();

CLI::App* add_forecast_command(CLI::App& app, ForecastArgs* a);
int run_forecast_cmd(const ForecastArgs& a);

}  // namespace prescale::cli
