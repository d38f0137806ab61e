// decide() must not allocate: every baseline sizes its buffers in the constructor. This
// binary replaces the global operator new to count allocations made while deciding.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <vector>

#include "policy/batch_ratio.h"
#include "policy/ds2.h"
#include "policy/envelope.h"
#include "policy/hpa.h"
#include "policy/keda.h"
#include "policy/phpa.h"
#include "policy/rl_policy.h"
#include "policy/seer.h"
#include "policy/spark_dra.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

// GCC flags free() of memory from a replaced operator new as mismatched; it is not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace prescale::policy {
namespace {

using Factory = std::function<std::unique_ptr<Policy>(const PolicyEnv&, core::ParamTable&)>;

struct Case {
  const char* name;
  Factory make;
  std::vector<std::pair<const char*, const char*>> params;
};

std::vector<core::Observation> Trace() {
  std::vector<core::Observation> trace;
  for (int i = 0; i < 2000; ++i) {
    core::Observation obs;
    obs.step = i;
    obs.time_s = 5.0 * i;
    const double load = 1000 + 800 * std::sin(i / 40.0);
    obs.input_rps = load;
    obs.processed_rps = std::min(load, 1200.0);
    obs.busy_fraction = std::min(1.0, load / 1200);
    obs.cpu_util = obs.busy_fraction;
    obs.backlog_records = load > 1200 ? (load - 1200) * 50 : 0;
    obs.kafka_lag_records = obs.backlog_records + load * 0.5;
    obs.batch_duration_ms = 500 * load / 1200;
    obs.active_executors = 2 + (i / 7) % 10;
    obs.pending_executors = i % 3;
    obs.burst_signal = i % 100 > 90;
    obs.forecast_rps = load * 1.5;
    obs.metrics_available = i % 97 != 0;
    trace.push_back(obs);
  }
  return trace;
}

TEST(Baselines, DecideNeverAllocates) {
  PolicyEnv env;
  env.executor_capacity_rps = 150;
  env.min_executors = 0;
  const Case cases[] = {
      {"hpa", [](auto& e, auto& p) { return std::make_unique<HpaPolicy>(e, p); }, {}},
      {"keda", [](auto& e, auto& p) { return std::make_unique<KedaPolicy>(e, p); }, {}},
      {"spark-dra", [](auto& e, auto& p) { return std::make_unique<SparkDraPolicy>(e, p); }, {}},
      {"batch-ratio",
       [](auto& e, auto& p) { return std::make_unique<BatchRatioPolicy>(e, p); },
       {}},
      {"ds2",
       [](auto& e, auto& p) { return std::make_unique<Ds2Policy>(e, p); },
       {{"metrics_window_s", "120"}, {"stabilization_interval_s", "60"}}},
      {"ds2-tuned", [](auto& e, auto& p) { return std::make_unique<Ds2Policy>(e, p, true); }, {}},
      {"phpa linear", [](auto& e, auto& p) { return std::make_unique<PhpaPolicy>(e, p); }, {}},
      {"phpa holt-winters",
       [](auto& e, auto& p) { return std::make_unique<PhpaPolicy>(e, p); },
       {{"model", "holt-winters"}}},
      {"seer", [](auto& e, auto& p) { return std::make_unique<SeerPolicy>(e, p); }, {}},
      // The hierarchical rl policy with the shipped ensemble (three managers and workers).
      {"rl",
       [](auto& e, auto&) -> std::unique_ptr<Policy> {
         auto members = load_members(default_models_dir(), RlVariant::kFull, true);
         if (!members.ok() || members->size() < 2) return nullptr;
         return std::make_unique<RlPolicy>("rl", e, RlVariant::kFull, std::move(*members), 0.5);
       },
       {}},
      // One member alone (a single manager and worker).
      {"rl, one member",
       [](auto& e, auto&) -> std::unique_ptr<Policy> {
         auto members = load_members(default_models_dir() + "/member-1", RlVariant::kFull, true);
         if (!members.ok()) return nullptr;
         return std::make_unique<RlPolicy>("rl", e, RlVariant::kFull, std::move(*members), 0.5);
       },
       {}},
      // Any policy inside the safety envelope (floor, stabilisation window, dwell).
      {"hpa inside the envelope",
       [](auto& e, auto& p) -> std::unique_ptr<Policy> {
         return std::make_unique<GuardedPolicy>(std::make_unique<HpaPolicy>(e, p), e,
                                                read_envelope(p));
       },
       {{"guard_stabilisation_s", "120"}}},
  };
  const std::vector<core::Observation> trace = Trace();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    core::ParamTable params(c.name);
    for (const auto& [key, value] : c.params) params.set(key, value);
    std::unique_ptr<Policy> policy = c.make(env, params);
    ASSERT_NE(policy, nullptr);
    ASSERT_TRUE(params.finish().ok()) << params.finish().message();
    long decided = 0;
    g_allocations = 0;
    g_counting = true;
    for (const auto& obs : trace) decided += policy->decide(obs).target_executors;
    policy->reset();
    for (const auto& obs : trace) decided += policy->decide(obs).target_executors;
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0);
    EXPECT_GT(decided, 0);
  }
}

}  // namespace
}  // namespace prescale::policy
