// Template bodies of env.h.
#pragma once

namespace prescale::rl {

template <class Choose, class OnWindow>
sim::RunMetrics run_hierarchical(World& world, const policy::Model& worker,
                                 core::BusinessContext context, Choose&& choose,
                                 OnWindow&& on_window) {
  const policy::PolicyEnv penv = policy::env_from(world.scenario);
  policy::WorkerFeatures wf(penv, true);
  policy::ManagerFeatures mf(penv);
  // The envelope this context runs in (its default window is the context's).
  policy::Envelope guard(penv, policy::envelope_config(world.scenario, "rl", context));
  sim::Simulator& sim = *world.sim;
  sim.reset();
  guard.reset();
  std::vector<sim::StepRecord> rec;
  sim.record_timeline(&rec);
  float x[policy::kNumWorkerFeatures];
  ManagerWindow win;
  win.state.resize(policy::kNumManagerFeatures);
  double alpha = 0.5, wcost = 0;
  int wviol = 0, wsteps = 0;
  while (!sim.done()) {
    core::Observation obs = sim.observation();
    obs.context = context;
    if (obs.step % policy::kManagerPeriod == 0) {
      if (obs.step > 0) {
        win.next_state.resize(policy::kNumManagerFeatures);
        mf.build(context, win.next_state.data());
        win.objective = business_objective(context, wcost, wviol, wsteps, world.scenario.step_s);
        win.last = false;
        on_window(win);
        win.state = win.next_state;
      } else {
        mf.build(context, win.state.data());
      }
      alpha = choose(win.state.data());
      win.alpha = alpha;
      wcost = 0;
      wviol = wsteps = 0;
    }
    mf.observe(obs);
    wf.build(obs, alpha, x);
    const auto& logits = worker.net.forward(x);
    sim.step(
        guard.apply(obs, policy::worker_decision(policy::greedy_action(logits.data()), obs, penv,
                                                 policy::RlVariant::kFull, wf.recent_peak_rps())));
    wcost += rec.back().cost;
    wviol += rec.back().violation ? 1 : 0;
    ++wsteps;
    rec.clear();
  }
  win.next_state.resize(policy::kNumManagerFeatures);
  mf.build(context, win.next_state.data());
  win.objective = business_objective(context, wcost, wviol, wsteps, world.scenario.step_s);
  win.last = true;
  on_window(win);
  sim.record_timeline(nullptr);
  return sim.metrics();
}

}  // namespace prescale::rl
