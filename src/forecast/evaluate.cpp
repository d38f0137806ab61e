#include "forecast/evaluate.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "forecast/blend.h"
#include "forecast/global.h"
#include "forecast/global_train.h"
#include "forecast/lstm.h"
#include "sim/trace.h"

namespace prescale::forecast {

Split chronological_split(size_t n) { return {n * 6 / 10, n * 8 / 10, n}; }

PointMetrics evaluate(Forecaster& f, const std::vector<double>& series, int h, size_t from,
                      size_t to) {
  if (to == 0) to = series.size();
  PointMetrics m;
  double abs_sum = 0, sq_sum = 0, smape_sum = 0;
  size_t smape_n = 0;
  f.reset();
  for (size_t t = 0; t + static_cast<size_t>(h) < series.size(); ++t) {
    f.observe(series[t]);
    const size_t target = t + static_cast<size_t>(h);
    if (target < from) continue;
    if (target >= to) break;
    const double y = series[target], p = f.forecast(h);
    const double e = p - y;
    abs_sum += std::abs(e);
    sq_sum += e * e;
    const double den = std::abs(p) + std::abs(y);
    if (den > 0) {
      smape_sum += 200.0 * std::abs(e) / den;
      ++smape_n;
    }
    ++m.points;
  }
  if (m.points > 0) {
    m.mae = abs_sum / static_cast<double>(m.points);
    m.rmse = std::sqrt(sq_sum / static_cast<double>(m.points));
  }
  if (smape_n > 0) m.smape = smape_sum / static_cast<double>(smape_n);
  return m;
}

core::Result<PreparedTrace> prepare_trace(const std::string& path, sim::TimeOrder order) {
  auto trace = sim::load_trace(path, order);
  if (!trace.ok()) return trace.error();
  PreparedTrace p;
  p.file = std::filesystem::path(path).filename().string();
  p.step_s = trace->median_gap_s();
  if (!(p.step_s > 0)) return core::Error{path + ": cannot determine the sample spacing"};
  auto series = sim::resample(*trace, p.step_s);
  if (!series.ok()) return series.error();
  p.series = std::move(*series);
  p.period = static_cast<int>(std::lround(std::clamp(86400.0 / p.step_s, 2.0, kMaxDaySamples)));
  return p;
}

core::Result<BaselineChoice> best_baseline(const std::vector<double>& series, int period, int h,
                                           const std::vector<std::string>& names) {
  const Split split = chronological_split(series.size());
  BaselineChoice best;
  bool any = false;
  for (const auto& name : names.empty() ? baseline_names() : names) {
    for (const auto& params : baseline_grid(name)) {
      auto f = make_baseline(name, period, params);
      if (!f.ok()) return f.error();
      const double mae = evaluate(**f, series, h, split.train_end, split.validation_end).mae;
      if (!any || mae < best.validation_mae) best = {name, params, mae};
      any = true;
    }
  }
  if (!any) return core::Error{"best_baseline: no baseline to choose from"};
  return best;
}

core::Result<std::vector<ForecastRow>> evaluate_baselines(
    const std::vector<std::string>& traces, int h, const std::string& lstm_dir, bool on_validation,
    const std::string& global_model, bool finetune, std::uint64_t finetune_seed) {
  std::optional<GlobalModel> global;
  if (!global_model.empty()) {
    auto g = load_global(global_model);
    if (!g.ok()) return g.error();
    if (g->horizon != h) {
      return core::Error{global_model + ": trained for horizon " + std::to_string(g->horizon) +
                         ", asked for " + std::to_string(h)};
    }
    global = std::move(*g);
  }
  std::vector<ForecastRow> rows;
  for (const auto& path : traces) {
    auto p = prepare_trace(path);
    if (!p.ok()) return p.error();
    const Split split = chronological_split(p->series.size());
    if (split.n - split.validation_end <= static_cast<size_t>(h)) {
      return core::Error{path + ": too short for horizon " + std::to_string(h) + " (" +
                         std::to_string(split.n) + " samples)"};
    }
    // The scored range [from, to) and the bursts' scoring on it.
    const size_t from = on_validation ? split.train_end : split.validation_end;
    const size_t to = on_validation ? split.validation_end : split.n;
    auto truth = true_bursts(p->series);
    truth.resize(to);
    auto score = [&](Forecaster& f) {
      auto signal = detect_bursts(f, p->series, h, DetectorParams{});
      signal.resize(to);
      return score_bursts(signal, truth, h, from);
    };
    for (const auto& name : baseline_names()) {
      // Its parameters chosen on the validation split only.
      auto choice = best_baseline(p->series, p->baseline_period(), h, {name});
      if (!choice.ok()) return choice.error();
      auto best = make_baseline(name, p->baseline_period(), choice->params);
      if (!best.ok()) return best.error();
      ForecastRow row{p->file, name, choice->params, evaluate(**best, p->series, h, from, to), {}};
      row.bursts = score(**best);
      rows.push_back(std::move(row));
    }
    const std::string model_path =
        lstm_dir.empty() ? ""
                         : lstm_dir + "/" + std::filesystem::path(path).stem().string() + ".json";
    if (!model_path.empty() && std::filesystem::exists(model_path)) {
      auto m = load_lstm(model_path);
      if (!m.ok()) return m.error();
      if (m->horizon != h) {
        return core::Error{model_path + ": trained for horizon " + std::to_string(m->horizon) +
                           ", asked for " + std::to_string(h)};
      }
      LstmForecaster f(std::move(*m));
      ForecastRow row{p->file, "lstm", "", evaluate(f, p->series, h, from, to), {}};
      row.bursts = score(f);
      rows.push_back(std::move(row));
    }
    auto global_row = [&](const GlobalModel& m, const std::string& name) {
      GlobalForecaster f(m);
      ForecastRow row{p->file, name, "", evaluate(f, p->series, h, from, to), {}};
      auto signal = global_signal(m, p->series);
      signal.resize(to);
      row.bursts = score_bursts(signal, truth, h, from);
      rows.push_back(std::move(row));
    };
    // Zero-shot: the model has never seen this trace; its burst head drives the signal.
    if (global) global_row(*global, "global");
    // The online blend (blend.h): the same model beside untuned forecasters, weighted by how
    // each has done on this stream so far. Its signal is the global model's burst head, so its
    // burst scores are the global row's.
    if (global) {
      const BlendParams params;
      OnlineBlend f = make_global_blend(*global, p->baseline_period(), params);
      const BurstMetrics bursts = rows.back().bursts;
      rows.push_back(ForecastRow{p->file, "global-blend", params.describe(),
                                 evaluate(f, p->series, h, from, to), bursts});
    }
    if (global && finetune) {
      FinetuneOptions o;
      o.source = p->file;
      o.seed = finetune_seed;
      auto tuned = finetune_global(*global, p->series, split.train_end, split.validation_end, o);
      if (!tuned.ok()) return core::Error{path + ": " + tuned.error().message};
      global_row(*tuned, "global-ft");
      auto j = nlohmann::json::parse(tuned->training_json, nullptr, false);
      if (j.is_object())
        rows.back().params = "best epoch " + std::to_string(j.value("best_epoch", 0));
    }
  }
  return rows;
}

std::string format_forecast_table(const std::vector<ForecastRow>& rows, int h, bool on_validation) {
  std::string out = "forecast accuracy and burst detection at horizon " + std::to_string(h) +
                    " samples, " +
                    (on_validation ? "chronological VALIDATION split (60-80%), not the test"
                                   : "chronological test split (last 20%)") +
                    "; prec = share of the signal's up time inside burst windows "
                    "[start - h, end]; lead = mean samples the signal rose before a detected "
                    "burst (at most h)\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-42s %-13s %12s %12s %8s %7s %6s %6s %6s %7s\n", "trace",
                "model", "MAE", "RMSE", "sMAPE %", "bursts", "prec", "recall", "F1", "lead");
  out += line;
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line,
                  "%-42s %-13s %12.4g %12.4g %8.2f %7d %6.2f %6.2f %6.2f %7.1f\n", r.trace.c_str(),
                  r.model.c_str(), r.metrics.mae, r.metrics.rmse, r.metrics.smape, r.bursts.bursts,
                  r.bursts.precision, r.bursts.recall, r.bursts.f1, r.bursts.mean_lead_steps);
    out += line;
  }
  return out;
}

std::string format_forecast_json(const std::vector<ForecastRow>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows) {
    a.push_back({{"trace", r.trace},
                 {"model", r.model},
                 {"params", r.params},
                 {"mae", r.metrics.mae},
                 {"rmse", r.metrics.rmse},
                 {"smape", r.metrics.smape},
                 {"burst_precision", r.bursts.precision},
                 {"burst_recall", r.bursts.recall},
                 {"burst_f1", r.bursts.f1},
                 {"lead_time_steps", r.bursts.mean_lead_steps},
                 {"bursts", r.bursts.bursts}});
  }
  return a.dump(2) + "\n";
}

}  // namespace prescale::forecast
