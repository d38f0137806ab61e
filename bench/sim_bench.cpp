// Simulated steps per second, one core: the simulator with the cheapest policy (fixed)
// and with the HPA. Each iteration is one whole 500-step seed run; items = steps.
#include <benchmark/benchmark.h>

#include "forecast/blend.h"
#include "forecast/global.h"
#include "forecast/lstm.h"
#include "policy/oracle.h"
#include "policy/registry.h"
#include "policy/rl_policy.h"
#include "sim/simulator.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace prescale;

void run_policy(benchmark::State& state, const char* name) {
  auto scenario = sim::load_scenario("seed");
  if (!scenario.ok()) {
    state.SkipWithError(scenario.error().message.c_str());
    return;
  }
  auto gen = sim::WorkloadGenerator::create(*scenario);
  const sim::Workload workload = gen->generate(1);
  auto made = policy::make_policy(name, *scenario, &workload);
  policy::Policy& p = **made;
  sim::Simulator simulator(*scenario, workload);
  for (auto _ : state) {
    p.reset();
    const sim::RunMetrics& m =
        sim::simulate(simulator, [&](const core::Observation& o) { return p.decide(o); });
    benchmark::DoNotOptimize(m.cost);
  }
  state.SetItemsProcessed(state.iterations() * workload.steps());
}

void BM_SimStepsFixed(benchmark::State& state) { run_policy(state, "fixed"); }
void BM_SimStepsHpa(benchmark::State& state) { run_policy(state, "hpa"); }

void BM_OraclePlan(benchmark::State& state) {
  auto scenario = sim::load_scenario("seed");
  auto gen = sim::WorkloadGenerator::create(*scenario);
  const sim::Workload workload = gen->generate(1);
  policy::OracleOptions options;
  options.lower_bound = false;
  for (auto _ : state) {
    auto plan = policy::plan_oracle(*scenario, workload, options);
    benchmark::DoNotOptimize(plan->cost);
  }
}

// One hierarchical decision (manager every kManagerPeriod steps + worker every step) of the
// shipped rl models, over the observations of a recorded seed run.
void BM_RlDecision(benchmark::State& state) {
  auto scenario = sim::load_scenario("seed");
  auto gen = sim::WorkloadGenerator::create(*scenario);
  const sim::Workload workload = gen->generate(1);
  auto made = policy::make_policy("rl", *scenario, &workload);
  if (!made.ok()) {
    state.SkipWithError(made.error().message.c_str());
    return;
  }
  policy::Policy& p = **made;
  sim::Simulator simulator(*scenario, workload);
  std::vector<core::Observation> trace;
  sim::simulate(simulator, [&](const core::Observation& o) {
    trace.push_back(o);
    return p.decide(o);
  });
  size_t i = 0;
  p.reset();
  for (auto _ : state) {
    benchmark::DoNotOptimize(p.decide(trace[i]).target_executors);
    if (++i == trace.size()) {
      i = 0;
      p.reset();
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// One edge forecast: the shipped nyc_taxi LSTM (window 48, hidden 32) over its window.
void BM_LstmForecast(benchmark::State& state) {
  auto m = forecast::load_lstm(policy::default_models_dir() + "/forecast/nyc_taxi.json");
  if (!m.ok()) {
    state.SkipWithError(m.error().message.c_str());
    return;
  }
  forecast::LstmForecaster f(std::move(*m));
  for (int i = 0; i < 100; ++i) f.observe(1000 + 10 * i);
  for (auto _ : state) benchmark::DoNotOptimize(f.forecast(12));
  state.SetItemsProcessed(state.iterations());
}

// The costliest shipped forecast model (window x hidden x (hidden + inputs)): the budget
// (200 us) must hold for every trace's model, not only nyc_taxi's.
void BM_LstmForecastLargest(benchmark::State& state) {
  const std::string dir = policy::default_models_dir() + "/forecast";
  std::optional<forecast::LstmModel> worst;
  long long worst_cost = -1;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".json" || e.path().filename() == "global.json") continue;
    auto m = forecast::load_lstm(e.path().string());
    if (!m.ok()) {
      state.SkipWithError(m.error().message.c_str());
      return;
    }
    const long long cost = 1LL * m->window * m->hidden * (m->hidden + m->inputs());
    if (cost > worst_cost) {
      worst_cost = cost;
      worst = std::move(*m);
    }
  }
  if (!worst) {
    state.SkipWithError("no models in models/forecast");
    return;
  }
  state.SetLabel(worst->trace + " window " + std::to_string(worst->window) + " hidden " +
                 std::to_string(worst->hidden));
  forecast::LstmForecaster f(std::move(*worst));
  for (int i = 0; i < 400; ++i) f.observe(1000 + 10 * (i % 50));
  for (auto _ : state) benchmark::DoNotOptimize(f.forecast(12));
  state.SetItemsProcessed(state.iterations());
}

// One forecast of the shipped global model (models/forecast/global.json): features (the
// scale, the block means, the seasonal match over every period) and the MLP, on a stream it
// has held long enough for every input.
void BM_GlobalForecast(benchmark::State& state) {
  auto m = forecast::load_global(policy::default_models_dir() + "/forecast/global.json");
  if (!m.ok()) {
    state.SkipWithError(m.error().message.c_str());
    return;
  }
  forecast::GlobalForecaster f(std::move(*m));
  for (int i = 0; i < 400; ++i) f.observe(1000 + 10 * (i % 50));
  for (auto _ : state) benchmark::DoNotOptimize(f.output());
  state.SetItemsProcessed(state.iterations());
}

// One sample of the online blend (forecast/blend.h) around the shipped global model: observe
// (score the forecasts made H samples ago, reweight, ask all nine experts) and forecast.
void BM_GlobalBlendStep(benchmark::State& state) {
  auto m = forecast::load_global(policy::default_models_dir() + "/forecast/global.json");
  if (!m.ok()) {
    state.SkipWithError(m.error().message.c_str());
    return;
  }
  forecast::OnlineBlend f = forecast::make_global_blend(*m, 288);
  for (int i = 0; i < 400; ++i) f.observe(1000 + 10 * (i % 50));
  int i = 0;
  for (auto _ : state) {
    f.observe(1000 + 10 * (i++ % 50));
    benchmark::DoNotOptimize(f.forecast(m->horizon));
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_SimStepsFixed);
BENCHMARK(BM_LstmForecast)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LstmForecastLargest)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GlobalForecast)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GlobalBlendStep)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RlDecision);
BENCHMARK(BM_SimStepsHpa);
BENCHMARK(BM_OraclePlan)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
