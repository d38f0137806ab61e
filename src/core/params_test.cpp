#include "core/params.h"

#include <gtest/gtest.h>

namespace prescale::core {
namespace {

TEST(ParamTableTest, ReadsTypedValuesWithDefaults) {
  ParamTable t("policies.hpa");
  t.set("target_cpu", "0.7", "f.yaml:3");
  t.set("sync", "30", "f.yaml:4");
  t.set("on", "true", "f.yaml:5");
  t.set("tier", "redis", "f.yaml:6");
  EXPECT_DOUBLE_EQ(t.get_double("target_cpu", 0.8, 0, 1), 0.7);
  EXPECT_EQ(t.get_int("sync", 15, 1, 100), 30);
  EXPECT_TRUE(t.get_bool("on", false));
  EXPECT_EQ(t.get_choice("tier", "nvme", {"redis", "nvme"}), "redis");
  EXPECT_EQ(t.get_int("absent", 7, 0, 10), 7);
  EXPECT_TRUE(t.finish().ok());
}

TEST(ParamTableTest, ReportsBadValuesAndUnknownKeysWithTheirPlace) {
  struct Case {
    const char* name;
    const char* key;
    const char* value;
    const char* expect;
  } cases[] = {
      {"a value out of range is rejected", "target_cpu", "1.5",
       "f.yaml:9: policies.hpa.target_cpu: got '1.5', expected a number in [0, 1]"},
      {"a word where a number belongs is rejected", "target_cpu", "high", "got 'high'"},
      {"an unknown key lists the known ones", "target_cpux", "0.5",
       "policies.hpa.target_cpux: unknown parameter; expected one of: target_cpu"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ParamTable t("policies.hpa");
    t.set(c.key, c.value, "f.yaml:9");
    t.get_double("target_cpu", 0.8, 0, 1);
    const Status st = t.finish();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << st.message();
  }
}

TEST(ParamTableTest, RelativePathsOnly) {
  struct Case {
    const char* value;
    bool ok;
  } cases[] = {{"live", true}, {"live/v2", true}, {"/etc", false},       {"../models", false},
               {"a b", false}, {"", false},       {"x/../../etc", false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value);
    ParamTable t("policies.rl");
    t.set("models", c.value, "f.yaml:3");
    const std::string got = t.get_relative_path("models", "");
    EXPECT_EQ(t.finish().ok(), c.ok);
    EXPECT_EQ(got, c.ok ? c.value : "");
  }
  ParamTable absent("policies.rl");
  EXPECT_EQ(absent.get_relative_path("models", "dflt"), "dflt");
}

}  // namespace
}  // namespace prescale::core
