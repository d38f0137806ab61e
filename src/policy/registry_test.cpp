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

}  // namespace
}  // namespace prescale::policy
