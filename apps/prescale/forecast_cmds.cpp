#include "forecast_cmds.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "arena/traces.h"
#include "fail.h"
#include "forecast/evaluate.h"
#include "forecast/global_train.h"
#include "policy/registry.h"
#include "policy/rl_policy.h"
#include "rl/trainer.h"

namespace prescale::cli {

namespace {

std::string default_lstm_dir() { return policy::default_models_dir() + "/forecast"; }

int run_forecast_eval(const ForecastArgs& a) {
  const bool global =
      std::find(a.model_kinds.begin(), a.model_kinds.end(), "global") != a.model_kinds.end();
  auto rows = forecast::evaluate_baselines(
      a.traces, a.horizon, a.models.empty() ? default_lstm_dir() : a.models,
      a.split == "validation",
      global ? (a.global_file.empty() ? default_global_model() : a.global_file) : "",
      global && a.finetune, a.finetune_seed);
  if (!rows.ok()) return fail(rows.error().message);
  std::cout << (a.format == "json"
                    ? forecast::format_forecast_json(*rows)
                    : forecast::format_forecast_table(*rows, a.horizon, a.split == "validation"));
  return 0;
}

int run_forecast_train(const std::vector<std::string>& traces, const forecast::LstmTrainOptions& o,
                       const forecast::LstmGrid& grid, const std::vector<std::string>& family_files,
                       const std::string& out) {
  const std::string dir = out.empty() ? default_lstm_dir() : out;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(dir + ": cannot create directory: " + ec.message());
  std::vector<forecast::PreparedTrace> family;
  for (const auto& path : family_files) {
    auto t = forecast::prepare_trace(path);
    if (!t.ok()) return fail(t.error().message);
    family.push_back(std::move(*t));
  }
  for (const auto& path : traces) {
    auto t = forecast::prepare_trace(path);
    if (!t.ok()) return fail(t.error().message);
    auto m = forecast::train_lstm_selected(*t, o, grid, family);
    if (!m.ok()) return fail(m.error().message);
    const std::string file = dir + "/" + std::filesystem::path(path).stem().string() + ".json";
    if (auto st = forecast::save_lstm(*m, file); !st.ok()) return fail(st.message());
    std::fprintf(stderr, "%s: %s -> %s\n", t->file.c_str(), m->training_json.c_str(), file.c_str());
  }
  return 0;
}

int run_forecast_train_global(const ForecastArgs& a) {
  if (auto st = forecast::check_global_shape(a.global.shape); !st.ok())
    return fail("--blocks/--block/season: " + st.message());
  const std::string dir =
      a.global_traces_dir.empty() ? arena::default_traces_dir() + "/nab" : a.global_traces_dir;
  // rl::training_traces leaves out the development traces: never trained on.
  const std::vector<std::string> traces = rl::training_traces(dir);
  if (traces.empty()) return fail(dir + ": no training traces (timestamp,value CSV files) found");
  std::fprintf(stderr,
               "global forecaster: %zu training traces from %s (the development traces "
               "left out)\n",
               traces.size(), dir.c_str());
  auto corpus = forecast::build_corpus(traces, a.global);
  if (!corpus.ok()) return fail(corpus.error().message);
  auto m = forecast::train_global(*corpus, a.global);
  if (!m.ok()) return fail(m.error().message);
  const std::string out = a.global_out.empty() ? default_global_model() : a.global_out;
  std::error_code ec;
  if (auto parent = std::filesystem::path(out).parent_path(); !parent.empty())
    std::filesystem::create_directories(parent, ec);
  if (auto st = forecast::save_global(*m, out); !st.ok()) return fail(st.message());
  std::fprintf(stderr, "global forecaster -> %s (raise %.2f, release %.2f)\n", out.c_str(),
               static_cast<double>(m->raise), static_cast<double>(m->release));
  return 0;
}

// A gateway's own model: the global forecaster fine-tuned on its history (the last
// validation_share of it for early stopping), in the same file format.
int run_forecast_finetune(const ForecastArgs& a) {
  const std::string base_file = a.global_file.empty() ? default_global_model() : a.global_file;
  auto base = forecast::load_global(base_file);
  if (!base.ok()) return fail(base.error().message);
  auto t = forecast::prepare_trace(a.history);
  if (!t.ok()) return fail(t.error().message);
  const size_t n = t->series.size();
  const auto validation_end = n;
  const auto train_end = static_cast<size_t>(static_cast<double>(n) * (1 - a.validation_share));
  forecast::FinetuneOptions o;
  o.source = t->file;
  o.seed = a.finetune_seed;
  auto m = forecast::finetune_global(*base, t->series, train_end, validation_end, o);
  if (!m.ok()) return fail(a.history + ": " + m.error().message);
  std::error_code ec;
  if (auto parent = std::filesystem::path(a.finetune_out).parent_path(); !parent.empty())
    std::filesystem::create_directories(parent, ec);
  if (auto st = forecast::save_global(*m, a.finetune_out); !st.ok()) return fail(st.message());
  std::fprintf(stderr,
               "fine-tuned %s on %zu samples of %s -> %s (use: prescale edge --forecaster "
               "global:%s)\n",
               base_file.c_str(), n, a.history.c_str(), a.finetune_out.c_str(),
               a.finetune_out.c_str());
  return 0;
}

}  // namespace

std::string default_global_model() { return default_lstm_dir() + "/global.json"; }

CLI::App* add_forecast_command(CLI::App& app, ForecastArgs* a) {
  auto* c = app.add_subcommand("forecast", "edge load forecasting");
  c->require_subcommand(1);
  a->eval_cmd = c->add_subcommand(
      "eval",
      "MAE, RMSE, sMAPE at the horizon on each trace's chronological test split (baselines)");
  a->eval_cmd->add_option("--trace", a->traces, "timestamp,value CSV files")
      ->required()
      ->check(CLI::ExistingFile);
  a->eval_cmd
      ->add_option("--horizon", a->horizon,
                   "samples ahead (default 12 = the 60 s cold start at one sample per 5 s step)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  a->eval_cmd->add_option("--format", a->format, "table|json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  a->eval_cmd
      ->add_option("--split", a->split,
                   "test (the last 20%) or validation (the 20% before it: for choosing how to "
                   "train; never choose on test)")
      ->check(CLI::IsMember({"test", "validation"}))
      ->capture_default_str();
  a->eval_cmd->add_option("--models", a->models, "LSTM models directory (default models/forecast)");
  a->train_cmd = c->add_subcommand(
      "train", "train an LSTM per trace on its first 60%, early-stopped on the next 20%");
  a->train_cmd->add_option("--trace", a->train_traces, "timestamp,value CSV files")
      ->required()
      ->check(CLI::ExistingFile);
  // Lists (comma-separated or repeated): every combination is trained and the one with the
  // best validation MAE kept.
  a->train_cmd
      ->add_option("--window", a->grid.windows, "input samples (a list: chosen on validation)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  a->train_cmd->add_option("--hidden", a->grid.hiddens, "LSTM units (a list: chosen on validation)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  a->train_cmd->add_option("--lr", a->grid.lrs, "Adam learning rate (a list: chosen on validation)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  a->train_cmd->add_option("--loss", a->grid.losses, "log|l1|raw (a list: chosen on validation)")
      ->delimiter(',')
      ->check(CLI::IsMember({"log", "l1", "raw"}));
  a->train_cmd
      ->add_option("--base", a->grid.bases,
                   "none|auto|<baseline>: the LSTM corrects this baseline's forecast (auto: the "
                   "best on validation); a list: chosen on validation")
      ->delimiter(',')
      ->check(
          CLI::IsMember({"none", "auto", "last", "seasonal", "ewma", "holt-winters", "linreg"}));
  a->train_cmd->add_option("--epochs", a->train.max_epochs, "at most this many epochs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  a->train_cmd
      ->add_option("--burst-weight", a->train.burst_weight,
                   "extra loss weight of windows whose target is in a burst")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  a->train_cmd
      ->add_option("--family", a->family,
                   "traces of the same family whose first 60% is added to the training data")
      ->delimiter(',')
      ->check(CLI::ExistingFile);
  a->train_cmd->add_option("--horizon", a->train.horizon, "samples ahead")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  a->train_cmd->add_option("--out", a->out, "output directory (default models/forecast)");
  a->train_cmd->add_option("--seed", a->train.seed, "training seed")->capture_default_str();

  a->eval_cmd
      ->add_option("--model", a->model_kinds,
                   "global: also the global forecaster, zero-shot (its burst head drives the "
                   "signal), and the online blend of it with untuned forecasters (row "
                   "global-blend); the baselines and per-trace LSTMs are always scored")
      ->delimiter(',')
      ->check(CLI::IsMember({"global"}));
  a->eval_cmd->add_option("--global-file", a->global_file,
                          "global forecaster model (default models/forecast/global.json)");
  a->eval_cmd->add_flag("--finetune", a->finetune,
                        "with --model global: also the global forecaster fine-tuned on each "
                        "trace's training split, early-stopped on its validation split "
                        "(row global-ft)");
  a->eval_cmd->add_option("--finetune-seed", a->finetune_seed, "fine-tuning seed")
      ->capture_default_str();

  a->train_global_cmd = c->add_subcommand(
      "train-global",
      "train the global forecaster (one model for every stream) on the non-development traces "
      "at six time scales and the synthetic load families");
  auto& g = a->global;
  a->train_global_cmd->add_option("--traces", a->global_traces_dir,
                                  "directory of training traces (default data/traces/nab; the "
                                  "development traces in it are left out)");
  a->train_global_cmd->add_option("--out", a->global_out,
                                  "model file (default models/forecast/global.json)");
  a->train_global_cmd->add_option("--seed", g.seed, "training seed")->capture_default_str();
  a->train_global_cmd->add_option("--epochs", g.max_epochs, "at most this many epochs")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  a->train_global_cmd->add_option("--hidden", g.shape.hidden, "units per hidden layer")
      ->check(CLI::Range(1, forecast::kMaxGlobalHidden))
      ->capture_default_str();
  a->train_global_cmd->add_option("--recent", g.shape.recent, "newest samples fed one by one")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  a->train_global_cmd->add_option("--blocks", g.shape.blocks, "block means of the longer context")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  a->train_global_cmd->add_option("--block", g.shape.block, "samples per block")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  a->train_global_cmd->add_option("--horizon", g.shape.horizon, "samples ahead")
      ->check(CLI::Range(1, forecast::kMaxGlobalHorizon))
      ->capture_default_str();
  a->train_global_cmd->add_option("--lr", g.lr, "Adam learning rate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  a->train_global_cmd
      ->add_option("--burst-weight", g.burst_weight,
                   "weight of the burst head's loss against the quantile losses")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  a->train_global_cmd->add_option("--episodes", g.episodes, "synthetic training series per family")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  a->train_global_cmd
      ->add_option("--episode-steps", g.episode_steps, "5 s steps per synthetic series")
      ->check(CLI::Range(100, 1000000))
      ->capture_default_str();
  a->train_global_cmd
      ->add_option("--max-windows", g.max_windows, "training windows per series and time scale")
      ->check(CLI::Range(10, 10000000))
      ->capture_default_str();
  a->train_global_cmd
      ->add_option("--aggregate", g.aggregate,
                   "time scales: each training trace also aggregated by these factors")
      ->delimiter(',')
      ->check(CLI::Range(2, 1000));
  a->train_global_cmd
      ->add_option("--interpolate", g.interpolate,
                   "time scales: each training trace also interpolated by these factors")
      ->delimiter(',')
      ->check(CLI::Range(2, 1000));

  a->finetune_cmd = c->add_subcommand(
      "finetune",
      "fine-tune the global forecaster on one gateway's own history (an option beside "
      "zero-shot; docs/forecast.md); writes a model file for prescale edge --forecaster "
      "global:FILE");
  a->finetune_cmd->add_option("--history", a->history, "the gateway's history: timestamp,value CSV")
      ->required()
      ->check(CLI::ExistingFile);
  a->finetune_cmd->add_option("--out", a->finetune_out, "model file to write")->required();
  a->finetune_cmd->add_option("--global-file", a->global_file,
                              "the model to start from (default models/forecast/global.json)");
  a->finetune_cmd
      ->add_option("--validation", a->validation_share,
                   "the newest share of the history held out for early stopping")
      ->check(CLI::Range(0.05, 0.5))
      ->capture_default_str();
  a->finetune_cmd->add_option("--seed", a->finetune_seed, "fine-tuning seed")
      ->capture_default_str();
  return c;
}

int run_forecast_cmd(const ForecastArgs& a) {
  if (*a.eval_cmd) return run_forecast_eval(a);
  if (*a.finetune_cmd) return run_forecast_finetune(a);
  if (*a.train_cmd) return run_forecast_train(a.train_traces, a.train, a.grid, a.family, a.out);
  return run_forecast_train_global(a);
}

}  // namespace prescale::cli
