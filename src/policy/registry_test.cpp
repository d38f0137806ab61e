#include "policy/registry.h"

#include <gtest/gtest.h>

namespace prescale::policy {
namespace {

TEST(RegistryTest, EveryKnownPolicyIsBuiltUnderItsName) {
  auto s = sim::load_scenario("seed");
  ASSERT_TRUE(s.ok());
  auto gen = sim::WorkloadGenerator::create(*s);
  const sim::Workload w = gen->generate(1);
  for (const auto& info : known_policies()) {
    SCOPED_TRACE(info.name);
    auto p = make_policy(info.name, *s, &w);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ((*p)->name(), info.name);
  }
}

TEST(RegistryTest, UnknownNamesAreListedWithTheKnownOnes) {
  auto s = sim::load_scenario("seed");
  auto p = make_policy("magic", *s, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("unknown policy 'magic'; expected one of: fixed, hpa"),
            std::string::npos);
  auto l = parse_policy_list("hpa,,oracle");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->size(), 2u);
  EXPECT_FALSE(parse_policy_list("hpa,nope").ok());
}

// A scenario may name its own rl models (scenarios/live.yaml: trained on the live stack's
// facts); a name that is not a plain relative path, or a directory without models, is an
// error naming the parameter or the file.
TEST(RegistryTest, ScenarioNamesItsOwnRlModels) {
  auto live = sim::load_scenario("live");
  ASSERT_TRUE(live.ok()) << live.error().message;
  for (const char* name : {"rl", "rl-full"}) {
    SCOPED_TRACE(name);
    auto p = make_policy(name, *live, nullptr);
    ASSERT_TRUE(p.ok()) << p.error().message;
  }
  auto s = *live;
  s.policies["rl"].set("models", "../elsewhere", "x.yaml:7");
  auto bad = make_policy("rl", s, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("x.yaml:7: policies.rl.models"), std::string::npos)
      << bad.error().message;
  s.policies["rl"].set("models", "no-such-dir", "x.yaml:7");
  auto missing = make_policy("rl", s, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no-such-dir/"), std::string::npos)
      << missing.error().message;
}

// The scenario's business context sets the envelope's default minimum window, for the arena
// and for `prescale controller` (which sets the scenario's context from its own config).
TEST(RegistryTest, TheScenarioContextSetsTheEnvelopeWindow) {
  auto s = sim::load_scenario("seed");
  ASSERT_TRUE(s.ok());
  s->context = core::BusinessContext::kHealthcare;
  EXPECT_DOUBLE_EQ(envelope_config(*s, "rl").window_cold_starts, 1.0);
  s->context = core::BusinessContext::kBudget;
  EXPECT_DOUBLE_EQ(envelope_config(*s, "rl").window_cold_starts, 0.5);
  s->context = core::BusinessContext::kBalanced;
  EXPECT_DOUBLE_EQ(envelope_config(*s, "rl").window_cold_starts, 0.5);
  EXPECT_FALSE(envelope_config(*s, "rl-raw").enabled);
}

}  // namespace
}  // namespace prescale::policy
