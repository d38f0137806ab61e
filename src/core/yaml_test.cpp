#include "core/yaml.h"

#include <gtest/gtest.h>

#include <string>

namespace prescale::core {
namespace {

std::string parse_error(const std::string& text) {
  YAML::Node root;
  const Status st = parse_yaml(text, "f.yaml", &root);
  return st.ok() ? "" : st.message();
}

TEST(ParseYaml, RefusesWhatYamlCppAcceptsSilentlyOrThrowsOn) {
  struct Case {
    const char* name;
    std::string text;
    const char* expect;  // substring of the message ("" = accepted)
  };
  const Case cases[] = {
      {"a plain document is accepted", "a: 1\nb: {c: 2}\n", ""},
      {"a duplicate key names both lines", "a: 1\nb: 2\na: 3\n",
       "f.yaml:3: 'a': duplicate key (first at line 1)"},
      {"a duplicate nested key is found", "a:\n  x: 1\n  x: 2\n", "f.yaml:3: 'x': duplicate key"},
      {"a sequence used as a key is refused", "a: 1\n[a, b]: 1\n",
       "f.yaml:2: expected a plain name as the key, got a sequence"},
      {"a mapping used as a key is refused", "? {a: 1}\n: 2\n", "got a mapping"},
      {"malformed YAML names the line", "a: 1\nb: [1, 2\nc: 3\n", "malformed YAML"},
      {"deep nesting is refused, not a stack overflow", std::string(100'000, '['),
       "malformed YAML"},
      {"aliases are walked once", "a: &x {k: 1}\nb: *x\nc: *x\n", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string error = parse_error(c.text);
    if (std::string(c.expect).empty()) {
      EXPECT_EQ(error, "");
    } else {
      EXPECT_NE(error.find(c.expect), std::string::npos) << error;
    }
  }
}

TEST(ParseYaml, ABillionLaughsCostsItsSize) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    std::string items;
    for (int k = 0; k < 10; ++k) items += (k ? ", *a" : "*a") + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + items + "]\n";
  }
  EXPECT_EQ(parse_error(text), "");  // 10^12 leaves if expanded; returns at once
}

struct Settings {
  double rate = 1;
  int count = 2;
  std::int64_t ms = 3;
  std::uint64_t seed = 4;
  std::string name = "n";
};

std::string read(const std::string& text, Settings* s) {
  YAML::Node root;
  if (Status st = parse_yaml(text, "f.yaml", &root); !st.ok()) return st.message();
  std::string error;
  YamlMap r(root, "f.yaml", "", &error);
  r.number("rate", &s->rate, 0, 10);
  r.integer("count", &s->count, 0, 5);
  r.integer("ms", &s->ms, 1, 1'000'000'000'000);
  r.u64("seed", &s->seed);
  r.section("sub", [&](YamlMap& m) { m.text("name", &s->name); });
  r.finish();
  return error;
}

TEST(YamlMap, ReadsTypedValuesAndKeepsDefaults) {
  Settings s;
  EXPECT_EQ(read("rate: 2.5\nms: 200000000000\nsub: {name: x}\n", &s), "");
  EXPECT_EQ(s.rate, 2.5);
  EXPECT_EQ(s.count, 2);
  EXPECT_EQ(s.ms, 200'000'000'000);
  EXPECT_EQ(s.name, "x");
}

TEST(YamlMap, EveryBadValueNamesFileLineFieldAndExpectation) {
  struct Case {
    const char* name;
    std::string text;
    std::string expect;
  };
  const Case cases[] = {
      {"NaN is refused", "rate: .nan\n", "f.yaml:1: rate: got '.nan', expected a number"},
      {"infinity is refused", "rate: -.inf\n", "rate: got '-.inf', expected a number"},
      {"an overflowing literal is refused", "rate: 1e999\n", "rate: got '1e999'"},
      {"out of range", "x: 0\ncount: 6\n",
       "f.yaml:2: count: got '6', expected an integer in [0, 5]"},
      {"a fraction is not an integer", "count: 1.5\n", "count: got '1.5'"},
      {"a negative seed is refused", "seed: -1\n", "seed: got '-1', expected a non-negative"},
      {"a mapping where a number belongs", "rate: {a: 1}\n", "rate: got a mapping"},
      {"a scalar where a mapping belongs", "sub: 5\n",
       "f.yaml:1: sub: got '5', expected a mapping"},
      {"an unknown nested key", "sub:\n  nmae: x\n", "f.yaml:2: sub.nmae: unknown field"},
      {"a long value is echoed truncated", "rate: " + std::string(5000, '9') + "\n",
       "\xE2\x80\xA6(5000 bytes)', expected"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Settings s;
    const std::string error = read(c.text, &s);
    EXPECT_NE(error.find(c.expect), std::string::npos) << error;
    EXPECT_LT(error.size(), 300u);
  }
}

TEST(YamlMap, CrossFieldErrorsNameTheKeysLine) {
  YAML::Node root;
  ASSERT_TRUE(parse_yaml("a: 1\nb: 2\n", "f.yaml", &root).ok());
  std::string error;
  YamlMap r(root, "f.yaml", "", &error);
  r.fail_at("b", "must exceed a");
  EXPECT_EQ(error, "f.yaml:2: b: must exceed a");
}

TEST(Echo, TruncatesLongValuesWithoutSplittingACharacter) {
  EXPECT_EQ(echo("short"), "'short'");
  const std::string long_value = std::string(79, 'a') + "\xC3\xA9" + std::string(100, 'b');
  EXPECT_EQ(echo(long_value), "'" + std::string(79, 'a') + "\xE2\x80\xA6(181 bytes)'");
}

}  // namespace
}  // namespace prescale::core
