#include "rl/trainer.h"

#include <unistd.h>
#include <algorithm>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "arena/report.h"
#include "arena/tournament.h"
#include "arena/traces.h"
#include "core/files.h"
#include "policy/rl_policy.h"
#include "rl/env.h"
#include "rl/ppo.h"
#include "rl/td3.h"

namespace prescale::rl {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The one list lives in arena/traces.h (the report that evaluates on them).
const std::vector<std::string>& development_traces() { return arena::development_trace_names(); }

std::vector<std::string> training_traces(const std::string& traces_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(traces_dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(traces_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".csv") continue;
    const std::string name = it->path().filename().string();
    const auto& dev = development_traces();
    if (std::find(dev.begin(), dev.end(), name) != dev.end()) continue;
    out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());  // directory order is not portable
  return out;
}

namespace {

// Progress lines (what trains, steps, ETA): every 5 s on a terminal, every 60 s into a log
// or a pipe, so a CI log stays short.
double progress_period_s() {
  static const double period = isatty(fileno(stderr)) ? 5.0 : 60.0;
  return period;
}

std::string hms(double s) {
  const int t = static_cast<int>(std::max(0.0, s));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d", t / 60, t % 60);
  return buf;
}

struct Window {
  double ret = 0, viol = 0, cost = 0;
  int n = 0;
  void add(const EpisodeStats& e) {
    ret += e.ret;
    viol += e.violation_pct;
    cost += e.cost;
    ++n;
  }
};

std::vector<std::string> names_of(const auto& arr) { return {arr.begin(), arr.end()}; }

PpoConfig worker_config(const TrainOptions& o, policy::RlVariant variant) {
  PpoConfig cfg;
  cfg.obs_dim = policy::kNumWorkerFeatures;
  cfg.heads = {policy::kExecHead, policy::kTierHead, policy::kCodecHead};
  cfg.seed = sim::derive_seed(o.seed, static_cast<std::uint64_t>(variant) + 11);
  return cfg;
}

// Environment steps for a variant: --steps for rl-full (the one the rl policy runs), half
// for the ablation variants.
std::int64_t steps_for(const TrainOptions& o, policy::RlVariant variant) {
  return variant == policy::RlVariant::kFull ? o.worker_steps
                                             : std::max<std::int64_t>(1, o.worker_steps / 2);
}

// Trains one worker. `ppo` must have been constructed (weights initialised) beforehand: the
// workers train in parallel threads, and torch's global generator is only used by the
// constructors, which run one after the other, so every model is the same run after run.
core::Result<json> train_worker(const TrainOptions& o, const WorldFactory& factory,
                                policy::RlVariant variant, Ppo& ppo) {
  const std::string vname = policy::variant_name(variant);
  const std::string ckpt = o.out_dir + "/checkpoints/worker-" + vname + ".pt";
  const std::string state_path = ckpt + ".json";
  const PpoConfig& cfg = ppo.config();
  const std::int64_t total_steps = steps_for(o, variant);

  std::int64_t done_steps = 0;
  std::uint64_t episode = static_cast<std::uint64_t>(variant) * 100'000'000ULL;
  if (o.resume && fs::exists(state_path)) {
    auto text = core::read_file(state_path);
    if (!text.ok()) return text.error();
    json st;
    try {
      st = json::parse(*text);
      done_steps = st.at("steps").get<std::int64_t>();
      episode = st.at("next_episode").get<std::uint64_t>();
      if (st.at("seed").get<std::uint64_t>() != o.seed) {
        return core::Error{state_path + ": checkpoint was trained with seed " +
                           std::to_string(st.at("seed").get<std::uint64_t>()) + ", not " +
                           std::to_string(o.seed) + " (use another --out or delete it)"};
      }
    } catch (const json::exception& e) {
      return core::Error{state_path + ": unreadable checkpoint state (" + e.what() + ")"};
    }
    if (auto st2 = ppo.load_checkpoint(ckpt); !st2.ok()) return st2.error();
    std::fprintf(stderr, "[%s] resuming from %s at %lld steps\n", vname.c_str(), ckpt.c_str(),
                 static_cast<long long>(done_steps));
  }

  sim::Rng rng(sim::derive_seed(o.seed ^ static_cast<std::uint64_t>(done_steps),
                                31 + static_cast<std::uint64_t>(variant)));
  WorkerEnv env(factory, variant, o.envs,
                sim::derive_seed(o.seed, 41 + static_cast<std::uint64_t>(done_steps)), episode);
  const int n = env.n(), T = o.rollout, d = policy::kNumWorkerFeatures, nh = 3;
  std::vector<float> obs_raw(static_cast<size_t>(T) * n * d),
      obs_norm(static_cast<size_t>(T) * n * d);
  std::vector<int> acts(static_cast<size_t>(T) * n * nh);
  std::vector<float> logp(static_cast<size_t>(T) * n), vals(static_cast<size_t>(T) * n),
      rew(static_cast<size_t>(T) * n);
  std::vector<unsigned char> dones(static_cast<size_t>(T) * n);
  Window recent;
  int updates = 0;
  std::vector<double> disc_return(static_cast<size_t>(n), 0.0);
  std::vector<float> g_rows(static_cast<size_t>(n));
  const auto t0 = Clock::now();
  auto last_print = t0;
  const std::int64_t start_steps = done_steps;
  json log = json::array();
  while (done_steps < total_steps) {
    // Collect.
    for (int t = 0; t < T; ++t) {
      float* raw = obs_raw.data() + static_cast<size_t>(t) * n * d;
      std::copy_n(env.obs(), static_cast<size_t>(n) * d, raw);
      ppo.act(raw, n, rng, false, obs_norm.data() + static_cast<size_t>(t) * n * d,
              acts.data() + static_cast<size_t>(t) * n * nh,
              logp.data() + static_cast<size_t>(t) * n, vals.data() + static_cast<size_t>(t) * n);
      float* r = rew.data() + static_cast<size_t>(t) * n;
      const unsigned char* dn = dones.data() + static_cast<size_t>(t) * n;
      env.step(acts.data() + static_cast<size_t>(t) * n * nh, r,
               dones.data() + static_cast<size_t>(t) * n);
      // Reward scaling by the running std of the discounted return (the episode statistics
      // keep the unscaled rewards).
      for (int e = 0; e < n; ++e) {
        disc_return[static_cast<size_t>(e)] =
            disc_return[static_cast<size_t>(e)] * cfg.gamma + r[e];
        g_rows[static_cast<size_t>(e)] = static_cast<float>(disc_return[static_cast<size_t>(e)]);
        if (dn[e]) disc_return[static_cast<size_t>(e)] = 0;
      }
      ppo.return_normalizer().update(g_rows.data(), n);
      const float scale = ppo.return_normalizer().stddev()[0];
      for (int e = 0; e < n; ++e) r[e] /= scale;
    }
    std::vector<float> last_v(static_cast<size_t>(n));
    ppo.values(env.obs(), n, last_v.data());
    ppo.normalizer().update(obs_raw.data(), T * n);
    // GAE per environment, flattened env-major.
    PpoBatch b;
    b.n = T * n;
    b.obs.resize(static_cast<size_t>(b.n) * d);
    b.actions.resize(static_cast<size_t>(b.n) * nh);
    b.logp.resize(static_cast<size_t>(b.n));
    b.adv.resize(static_cast<size_t>(b.n));
    b.ret.resize(static_cast<size_t>(b.n));
    std::vector<float> r1(static_cast<size_t>(T)), v1(static_cast<size_t>(T)), a1, g1;
    std::vector<unsigned char> d1(static_cast<size_t>(T));
    for (int e = 0; e < n; ++e) {
      for (int t = 0; t < T; ++t) {
        const size_t k = static_cast<size_t>(t) * n + e;
        r1[static_cast<size_t>(t)] = rew[k];
        v1[static_cast<size_t>(t)] = vals[k];
        d1[static_cast<size_t>(t)] = dones[k];
      }
      compute_gae(r1, v1, d1, last_v[static_cast<size_t>(e)], static_cast<float>(cfg.gamma),
                  static_cast<float>(cfg.lambda), &a1, &g1);
      for (int t = 0; t < T; ++t) {
        const size_t k = static_cast<size_t>(t) * n + e;
        const size_t j = static_cast<size_t>(e) * T + t;
        std::copy_n(obs_norm.data() + k * d, d, b.obs.data() + j * d);
        std::copy_n(acts.data() + k * nh, nh, b.actions.data() + j * nh);
        b.logp[j] = logp[k];
        b.adv[j] = a1[static_cast<size_t>(t)];
        b.ret[j] = g1[static_cast<size_t>(t)];
      }
    }
    // Linear annealing of the step size to 10% at the end: late updates refine rather
    // than churn (a function of the step count, so a resumed run anneals the same way).
    const double progress = static_cast<double>(done_steps) / static_cast<double>(total_steps);
    ppo.set_learning_rate(cfg.lr * (1.0 - 0.9 * std::min(1.0, progress)));
    const PpoStats ps = ppo.update(b, rng);
    done_steps += static_cast<std::int64_t>(T) * n;
    ++updates;
    for (const auto& ep : env.take_finished()) recent.add(ep);

    const auto now = Clock::now();
    const bool finished = done_steps >= total_steps;
    if (updates % o.checkpoint_every == 0 || finished) {
      if (auto st = ppo.save_checkpoint(ckpt); !st.ok()) return st.error();
      json st = {{"steps", done_steps}, {"next_episode", env.next_episode()}, {"seed", o.seed}};
      if (auto w = core::write_file_atomic(state_path, st.dump() + "\n"); !w.ok()) return w.error();
    }
    if (std::chrono::duration<double>(now - last_print).count() >= progress_period_s() ||
        finished) {
      const double el = std::chrono::duration<double>(now - t0).count();
      const double sps = static_cast<double>(done_steps - start_steps) / std::max(el, 1e-9);
      const double eta = static_cast<double>(total_steps - done_steps) / std::max(sps, 1.0);
      const int k = std::max(1, recent.n);
      std::fprintf(stderr,
                   "[%s] %lld/%lld steps  %.0f steps/s  return %.1f  SLA %.1f%%  cost $%.3f  "
                   "entropy %.2f  ETA %s\n",
                   vname.c_str(), static_cast<long long>(done_steps),
                   static_cast<long long>(total_steps), sps, recent.ret / k, recent.viol / k,
                   recent.cost / k, ps.entropy, hms(eta).c_str());
      log.push_back({{"steps", done_steps},
                     {"return", recent.ret / k},
                     {"sla_violation_pct", recent.viol / k},
                     {"cost", recent.cost / k},
                     {"entropy", ps.entropy},
                     {"approx_kl", ps.approx_kl}});
      recent = Window{};
      last_print = now;
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  json info = {
      {"variant", vname},
      {"algorithm", "ppo"},
      {"seed", o.seed},
      {"env_steps", done_steps},
      {"seconds_this_run", secs},
      {"steps_per_s", static_cast<double>(done_steps - start_steps) / std::max(secs, 1e-9)},
      {"traffic",
       {{"seed_fraction", factory.mix().seed_fraction},
        {"trace_fraction", factory.mix().trace_fraction},
        {"synthetic_fraction", factory.mix().synthetic_fraction},
        {"families_fraction", 1.0 - factory.mix().seed_fraction - factory.mix().trace_fraction -
                                  factory.mix().synthetic_fraction},
        {"cluster_fraction", factory.mix().cluster_fraction},
        {"trace_speedups", factory.mix().trace_speedups},
        {"traces", factory.mix().trace_files.size()},
        {"envelope", "trained inside the safety envelope (policy/envelope.h)"}}},
      {"progress", log}};
  policy::Model m = ppo.export_actor(vname, names_of(policy::worker_feature_names()), info.dump());
  if (auto st = policy::save_model(m, o.out_dir + "/worker-" + vname + ".json"); !st.ok())
    return st.error();
  info.erase("progress");
  return info;
}

core::Result<json> train_manager(const TrainOptions& o, const WorldFactory& factory) {
  auto worker = policy::load_worker(o.out_dir + "/worker-rl-full.json", policy::RlVariant::kFull);
  if (!worker.ok()) return worker.error();
  Td3Config cfg;
  cfg.obs_dim = policy::kNumManagerFeatures;
  cfg.act_dim = 1;
  cfg.gamma = 0.3;
  cfg.seed = sim::derive_seed(o.seed, 77);
  Td3 td3(cfg);
  ReplayBuffer buffer(100'000, cfg.obs_dim, cfg.act_dim);
  sim::Rng rng(sim::derive_seed(o.seed, 78));
  const int warmup = std::max(1, o.manager_episodes / 3);
  const auto t0 = Clock::now();
  auto last_print = t0;
  World world;
  for (int ep = 0; ep < o.manager_episodes; ++ep) {
    if (ep == warmup) td3.fit_actor_to_critic(buffer, rng, 300, 41);
    const core::BusinessContext ctx = o.contexts[static_cast<size_t>(ep) % o.contexts.size()];
    factory.make(5'000'000'000ULL + static_cast<std::uint64_t>(ep), &world);
    auto choose = [&](const float* s) {
      float a = 0;
      if (ep < warmup) {
        a = static_cast<float>(rng.uniform(-1, 1));
      } else {
        td3.act(s, &a);
        a = std::clamp(a + static_cast<float>(0.4 * rng.normal()), -1.0f, 1.0f);
      }
      return policy::alpha_from_output(a);
    };
    // Control variate: the same traffic replayed at alpha = 0.5 gives each window's
    // objective without the manager's choice; the manager learns from the difference. A
    // window's raw objective mostly says whether a burst fell into it (it varies ~10x more
    // than the effect of alpha); subtracting a term that does not depend on the action
    // leaves the best action unchanged and the critic's targets far less noisy.
    std::vector<double> reference;
    run_hierarchical(
        world, *worker, ctx, [](const float*) { return 0.5; },
        [&](const ManagerWindow& w) { reference.push_back(w.objective); });
    size_t window = 0;
    auto on_window = [&](const ManagerWindow& w) {
      const float a = static_cast<float>(2.0 * w.alpha - 1.0);
      const double advantage = w.objective - (window < reference.size() ? reference[window] : 0.0);
      ++window;
      buffer.add(w.state.data(), &a, static_cast<float>(advantage), w.next_state.data(), w.last);
      if (buffer.size() >= 256)
        for (int k = 0; k < 4; ++k) td3.update(buffer, rng);
    };
    run_hierarchical(world, *worker, ctx, choose, on_window);
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - last_print).count() >= progress_period_s() ||
        ep + 1 == o.manager_episodes) {
      std::string line;
      for (auto c : o.contexts) {
        float s[policy::kNumManagerFeatures];
        policy::ManagerFeatures mf(policy::env_from(o.scenario));
        mf.build(c, s);
        float a = 0;
        td3.act(s, &a);
        char buf[64];
        std::snprintf(buf, sizeof buf, "  %s alpha %.2f", std::string(core::to_string(c)).c_str(),
                      policy::alpha_from_output(a));
        line += buf;
      }
      const double el = std::chrono::duration<double>(now - t0).count();
      std::fprintf(stderr, "[manager] episode %d/%d%s  ETA %s\n", ep + 1, o.manager_episodes,
                   line.c_str(), hms(el / (ep + 1) * (o.manager_episodes - ep - 1)).c_str());
      last_print = now;
    }
  }
  if (auto st = td3.save_checkpoint(o.out_dir + "/checkpoints/manager.pt"); !st.ok())
    return st.error();
  json info = {{"algorithm", "td3"},
               {"seed", o.seed},
               {"episodes", o.manager_episodes},
               {"period_steps", policy::kManagerPeriod},
               {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}};
  json alphas = json::object();
  for (auto c : {core::BusinessContext::kBalanced, core::BusinessContext::kHealthcare,
                 core::BusinessContext::kBudget}) {
    float s[policy::kNumManagerFeatures];
    policy::ManagerFeatures mf(policy::env_from(o.scenario));
    mf.build(c, s);
    float a = 0;
    td3.act(s, &a);
    alphas[std::string(core::to_string(c))] = policy::alpha_from_output(a);
  }
  info["initial_alpha"] = alphas;
  std::string learned;
  for (auto& [name, a] : alphas.items()) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s: alpha %.2f, beta %.2f", learned.empty() ? "" : "; ",
                  name.c_str(), a.get<double>(), 1.0 - a.get<double>());
    learned += buf;
  }
  std::fprintf(stderr, "[manager] learned weights (latency alpha, cost beta): %s\n",
               learned.c_str());
  info["contexts"] = json::array();
  for (auto c : o.contexts) info["contexts"].push_back(std::string(core::to_string(c)));
  policy::Model m = td3.export_actor(names_of(policy::manager_feature_names()), info.dump());
  if (auto st = policy::save_model(m, o.out_dir + "/manager.json"); !st.ok()) return st.error();
  return info;
}

}  // namespace

namespace {

// Whether `dir` holds a model file, itself or in its first ensemble member.
bool holds(const std::string& dir, const std::string& file) {
  return fs::exists(dir + "/" + file) || fs::exists(dir + "/member-1/" + file);
}

// The held-out evaluation (seed scenario, three contexts, o.eval_seeds seeds) of the models in
// `dir`: one trained pair, or an ensemble (member-*/ subdirectories).
core::Result<json> evaluate_models(const TrainOptions& o, const std::string& dir) {
  ::setenv("PRESCALE_MODELS_DIR", dir.c_str(), 1);
  json eval = json::object();
  for (auto c : {core::BusinessContext::kBalanced, core::BusinessContext::kHealthcare,
                 core::BusinessContext::kBudget}) {
    sim::Scenario s = o.scenario;
    s.context = c;
    // The models just trained are in dir itself, whatever subdirectory the scenario
    // names for its deployed ones.
    for (auto& [name, params] : s.policies) {
      if (name.rfind("rl", 0) == 0 && params.has("models")) params.set("models", ".");
    }
    arena::TournamentOptions to;
    // The variants there are (a run may train some of them only).
    to.policies = {"hpa"};
    for (const char* v : {"rl-basic", "rl-shuffle", "rl-full"}) {
      if (holds(dir, std::string("worker-") + v + ".json")) to.policies.push_back(v);
    }
    if (holds(dir, "manager.json") && holds(dir, "worker-rl-full.json")) {
      to.policies.push_back("rl");
    }
    to.policies.push_back("oracle");
    to.seeds = o.eval_seeds;
    auto r = arena::run_tournament(s, to);
    if (!r.ok()) return r.error();
    std::fprintf(
        stderr, "\nheld-out evaluation, context %s (seeds %llu..%llu, never trained on):\n%s",
        std::string(core::to_string(c)).c_str(), static_cast<unsigned long long>(s.base_seed),
        static_cast<unsigned long long>(s.base_seed + o.eval_seeds - 1),
        arena::format_table(*r).c_str());
    json rows = json::object();
    for (const auto& p : r->results) {
      rows[p.policy] = {{"sla_violation_pct", p.sla_violation_pct.mean}, {"cost", p.cost.mean}};
    }
    eval[std::string(core::to_string(c))] = rows;
  }
  return eval;
}

// Adds the held-out evaluation of what is in o.out_dir (when o.evaluate) to a run's summary
// and writes it there as `file`; returns its text.
core::Result<std::string> finish_summary(const TrainOptions& o, json summary,
                                         const std::string& file) {
  if (o.evaluate) {
    auto eval = evaluate_models(o, o.out_dir);
    if (!eval.ok()) return eval.error();
    summary["evaluation"] = *eval;
  }
  const std::string text = summary.dump(2) + "\n";
  if (auto st = core::write_file_atomic(o.out_dir + "/" + file, text); !st.ok()) return st.error();
  return text;
}

}  // namespace

core::Result<std::string> train_ensemble(const TrainOptions& o, int members) {
  if (members < 1 || members > policy::kMaxRlMembers) {
    return core::Error{"--members: expected 1.." + std::to_string(policy::kMaxRlMembers) +
                       ", got " + std::to_string(members)};
  }
  const auto t0 = Clock::now();
  json summary = {{"scenario", o.scenario.name}, {"members", json::array()}};
  for (int k = 1; k <= members; ++k) {
    TrainOptions m = o;
    m.seed = o.seed + static_cast<std::uint64_t>(k - 1);
    m.out_dir = o.out_dir + "/member-" + std::to_string(k);
    m.evaluate = false;
    std::fprintf(stderr, "ensemble member %d of %d: seed %llu -> %s\n", k, members,
                 static_cast<unsigned long long>(m.seed), m.out_dir.c_str());
    auto r = train(m);
    if (!r.ok()) return r.error();
    summary["members"].push_back({{"dir", "member-" + std::to_string(k)}, {"seed", m.seed}});
  }
  summary["train_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
  return finish_summary(o, std::move(summary), "ensemble.json");
}

core::Result<std::string> train(const TrainOptions& o) {
  use_single_torch_thread();
  std::error_code ec;
  fs::create_directories(o.out_dir + "/checkpoints", ec);
  if (ec) return core::Error{o.out_dir + ": cannot create output directory: " + ec.message()};
  TrafficMix mix;
  mix.base = o.scenario;
  mix.trace_files = o.trace_files;
  mix.edge = o.edge;
  mix.cost_scale = o.cost_scale;
  if (mix.trace_files.empty()) mix.trace_fraction = 0;
  auto factory = WorldFactory::create(mix);
  if (!factory.ok()) return factory.error();
  TrafficMix seed_mix;
  seed_mix.base = o.scenario;
  seed_mix.trace_fraction = 0;
  seed_mix.seed_fraction = 1.0;
  seed_mix.edge = o.edge;
  seed_mix.cost_scale = o.cost_scale;
  auto seed_factory = WorldFactory::create(seed_mix);
  if (!seed_factory.ok()) return seed_factory.error();

  const auto t0 = Clock::now();
  json summary = {{"scenario", o.scenario.name},
                  {"seed", o.seed},
                  {"edge", o.edge_name},
                  {"cost_scale", o.cost_scale == CostScale::kLoad ? "load" : "cluster"},
                  {"workers", json::array()}};
  // Workers: rl-full on one thread, the ablation variants one after the other on a second
  // (this machine has two cores; each trainer uses one torch thread).
  std::vector<policy::RlVariant> variants;
  for (const auto& v : o.variants) {
    if (v == "rl-basic")
      variants.push_back(policy::RlVariant::kBasic);
    else if (v == "rl-shuffle")
      variants.push_back(policy::RlVariant::kShuffle);
    else if (v == "rl-full")
      variants.push_back(policy::RlVariant::kFull);
    else
      return core::Error{"unknown worker variant '" + v + "'"};
  }
  std::vector<std::unique_ptr<Ppo>> agents;
  for (auto v : variants) agents.push_back(std::make_unique<Ppo>(worker_config(o, v)));
  std::vector<core::Result<json>> results(variants.size(), core::Error{"not run"});
  auto run_lane = [&](bool full_lane) {
    use_single_torch_thread();
    for (size_t i = 0; i < variants.size(); ++i) {
      if ((variants[i] == policy::RlVariant::kFull) != full_lane) continue;
      results[i] = train_worker(o, *factory, variants[i], *agents[i]);
      if (!results[i].ok()) return;
    }
  };
  {
    std::thread other([&] { run_lane(false); });
    run_lane(true);
    other.join();
  }
  for (size_t i = 0; i < variants.size(); ++i) {
    if (!results[i].ok()) return results[i].error();
    summary["workers"].push_back(*results[i]);
  }
  // The manager is trained on the rl-full worker of out_dir; a run of the ablation workers
  // alone (--variants rl-basic,rl-shuffle) has none and trains no manager.
  const bool has_full = fs::exists(o.out_dir + "/worker-rl-full.json");
  if (!o.contexts.empty() && !has_full && variants.empty()) {
    return core::Error{o.out_dir + ": no worker-rl-full.json to train the manager on"};
  }
  if (!o.contexts.empty() && !has_full) {
    std::fprintf(stderr, "no rl-full worker in %s: no manager trained\n", o.out_dir.c_str());
  }
  if (!o.contexts.empty() && has_full) {
    auto info = train_manager(o, *seed_factory);
    if (!info.ok()) return info.error();
    summary["manager"] = *info;
  }
  summary["train_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
  return finish_summary(o, std::move(summary), "training.json");
}

}  // namespace prescale::rl
