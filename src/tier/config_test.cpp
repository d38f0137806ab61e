#include "tier/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace prescale::tier {
namespace {

// Loads `yaml` (after a valid base) from a temporary file; returns "" or the error.
std::string load_error(const std::string& yaml, bool with_base = true) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("prescale-tier-config-" + std::to_string(::getpid()) + ".yaml"))
                               .string();
  {
    std::ofstream out(path);
    if (with_base) out << "catalog: c.db\nnvme:\n  dir: d\n";
    out << yaml;
  }
  auto c = load_tier_config(path);
  std::filesystem::remove(path);
  if (c.ok()) return "";
  return c.error().message.substr(c.error().message.find(':') + 1);  // "LINE: field: ..."
}

TEST(TierConfig, RejectsValuesThatBreakTheStoreWithFileLineAndField) {
  struct Case {
    const char* name;
    std::string yaml;
    std::string expected;  // the start of "LINE: field: expected ..."
  };
  const Case cases[] = {
      {"a NaN half-life (every put failed)", "half_life_s: .nan\n", "4: half_life_s: expected"},
      {"an infinite half-life", "half_life_s: .inf\n", "4: half_life_s: expected"},
      {"negative moves per tick", "max_moves_per_tick: -5\n", "4: max_moves_per_tick: expected"},
      {"a negative connect timeout", "redis:\n  connect_timeout_ms: -1\n",
       "5: redis.connect_timeout_ms: expected"},
      {"a zero command timeout", "redis:\n  command_timeout_ms: 0\n",
       "5: redis.command_timeout_ms: expected"},
      {"an empty key prefix (recovery would delete foreign keys)", "key_prefix: \"\"\n",
       "4: key_prefix: expected a non-empty prefix"},
      {"a key prefix too long for file names", "key_prefix: " + std::string(17, 'p') + "\n",
       "4: key_prefix: expected"},
      {"no S3 attempts", "s3:\n  bucket: b\n  max_attempts: 0\n", "6: s3.max_attempts: expected"},
      {"http not a mapping", "http: 5\n", "4: http: expected a mapping"},
      {"a zero body limit", "http:\n  max_body_mb: 0\n", "5: http.max_body_mb: expected"},
      {"too few HTTP threads", "http:\n  threads: 1\n", "5: http.threads: expected"},
      {"a sequence as a key (yaml-cpp threw)", "[a, b]: 1\n", "4: (key): expected a setting name"},
      {"a repeated setting", "tick_ms: 5\ntick_ms: 6\n", "5: tick_ms: expected each setting once"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string err = load_error(c.yaml);
    EXPECT_EQ(err.rfind(c.expected, 0), 0u) << err;
  }
  EXPECT_EQ(load_error("key_prefix: ok/\nhttp:\n  max_body_mb: 1\n  threads: 4\n  timeout_s: 2\n"),
            "");
}

TEST(TierConfig, MalformedYamlIsAnErrorNotAnException) {
  for (const char* yaml : {"a: [1, 2\n", "{x: 1}: y\n", "- 1\n- 2\n", "catalog: [1\n"}) {
    SCOPED_TRACE(yaml);
    EXPECT_NE(load_error(yaml, false), "");
  }
}

TEST(TierConfig, HttpLimitsHaveDefaultsAndAreRead) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("prescale-tier-http-" + std::to_string(::getpid()) + ".yaml"))
                               .string();
  { std::ofstream(path) << "catalog: c.db\nnvme:\n  dir: d\nhttp:\n  max_body_mb: 2\n"; }
  auto c = load_tier_config(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->max_body_bytes, 2u << 20);
  EXPECT_EQ(c->http_threads, 32);
  EXPECT_EQ(c->http_timeout_s, 5);
}

}  // namespace
}  // namespace prescale::tier
