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
  CLI::App *eval_cmd = nullptr, *train_cmd = nullptr, *train_global_cmd = nullptr;
  // eval
  std::vector<std::string> traces;
  int horizon = 12;
  std::string format = "table";
  std::string models;  // LSTM directory
  std::string split = "test";
  std::vector<std::string> model_kinds;  // "global": add the global forecaster's rows
  std::string global_file;
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
};

// The default global model file: models/forecast/global.json.
std::string default_global_model();

CLI::App* add_forecast_command(CLI::App& app, ForecastArgs* a);
int run_forecast_cmd(const ForecastArgs& a);

}  // namespace prescale::cli
