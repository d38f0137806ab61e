#include "tier/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <set>

#include "core/files.h"
#include "sim/scenario.h"

namespace prescale::tier {

namespace {

struct Reader {
  std::string file;
  std::string error;

  std::string where(const YAML::Node& n, const std::string& field) const {
    return file + ":" + std::to_string(n.Mark().line + 1) + ": " + field;
  }
  void fail(const YAML::Node& n, const std::string& field, const std::string& expected) {
    if (error.empty()) error = where(n, field) + ": expected " + expected;
  }
  // An integer setting in [lo, hi].
  void integer(const YAML::Node& map, const std::string& prefix, const char* key, int* out, int lo,
               int hi) {
    const int before = *out;
    scalar(map, prefix, key, out,
           "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    if (*out < lo || *out > hi) {
      fail(map[key], prefix + key,
           "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      *out = before;
    }
  }
  template <class T>
  void scalar(const YAML::Node& map, const std::string& prefix, const char* key, T* out,
              const std::string& expected) {
    const YAML::Node n = map[key];
    if (!n) return;
    try {
      if (!n.IsScalar()) throw YAML::Exception(n.Mark(), "not a scalar");
      *out = n.as<T>();
    } catch (const YAML::Exception&) {
      fail(n, prefix + key, expected);
    }
  }
  void number(const YAML::Node& map, const std::string& prefix, const char* key, double* out,
              double lo, double hi) {
    const double before = *out;
    scalar(map, prefix, key, out, "a number");
    if (!(*out >= lo && *out <= hi)) {  // also NaN
      fail(map[key], prefix + key,
           "a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      *out = before;
    }
  }
  void check_keys(const YAML::Node& map, const std::string& prefix,
                  const std::set<std::string>& known) {
    std::string list;
    std::set<std::string> seen;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) {
        fail(kv.first, prefix + "(key)", "a setting name, not a sequence or mapping");
        continue;
      }
      const auto key = kv.first.Scalar();
      if (!known.count(key) && error.empty())
        error = where(kv.first, prefix + key) + ": expected a known setting (" + list + ")";
      else if (!seen.insert(key).second)
        fail(kv.first, prefix + key, "each setting once (this one is repeated)");
    }
  }
};

core::Result<std::string> read_secret(const std::string& file) {
  auto s = core::read_file(file);
  if (!s.ok()) return s.error();
  std::string v = *s;
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
  return v;
}

}  // namespace

namespace {

core::Result<TierConfig> load(std::string_view text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return core::Error{path + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML: " + e.msg};
  }
  if (!root.IsMap()) return core::Error{path + ": expected a mapping of settings"};
  TierConfig c;
  c.source = path;
  Reader r{path, ""};
  r.check_keys(root, "",
               {"catalog", "key_prefix", "listen", "port", "tick_ms", "write_tier", "half_life_s",
                "hot_per_hour", "warm_per_hour", "max_moves_per_tick", "verify_reads", "scenario",
                "redis", "nvme", "s3", "http"});
  TieredOptions& o = c.store;
  r.scalar(root, "", "catalog", &o.catalog_path, "a file path");
  r.scalar(root, "", "key_prefix", &o.key_prefix, "a string");
  r.scalar(root, "", "listen", &c.listen, "an address");
  r.integer(root, "", "port", &c.port, 0, 65535);
  r.integer(root, "", "tick_ms", &c.tick_ms, 1, 86'400'000);
  std::string wt = "nvme";
  r.scalar(root, "", "write_tier", &wt, "redis|nvme|s3");
  r.number(root, "", "half_life_s", &o.temperature.half_life_s, 0.001, 1e9);
  r.number(root, "", "hot_per_hour", &o.rules.hot_per_hour, 0, 1e12);
  r.number(root, "", "warm_per_hour", &o.rules.warm_per_hour, 0, 1e12);
  r.integer(root, "", "max_moves_per_tick", &o.max_moves_per_tick, 1, 1'000'000);
  r.scalar(root, "", "verify_reads", &o.verify_reads, "true|false");
  r.scalar(root, "", "scenario", &c.scenario, "a scenario name or file");
  if (wt == "redis")
    o.write_tier = kRedis;
  else if (wt == "nvme")
    o.write_tier = kDir;
  else if (wt == "s3")
    o.write_tier = kS3;
  else
    r.fail(root["write_tier"], "write_tier", "redis|nvme|s3");
  if (o.rules.warm_per_hour > o.rules.hot_per_hour)
    r.fail(root["warm_per_hour"], "warm_per_hour", "at most hot_per_hour");
  // The store deletes every name under key_prefix that its catalog does not know (the orphan
  // scan): an empty prefix would claim a shared Redis or bucket whole.
  if (o.key_prefix.empty() || o.key_prefix.find('\0') != std::string::npos ||
      DirStore::encode_name(o.key_prefix).size() > kMaxPrefixEscaped)
    r.fail(root["key_prefix"] ? root["key_prefix"] : root, "key_prefix",
           "a non-empty prefix of at most " + std::to_string(kMaxPrefixEscaped) +
               " bytes once escaped (each byte outside [A-Za-z0-9_.-] takes 3), e.g. pt/");
  if (const YAML::Node n = root["http"]) {
    if (!n.IsMap()) {
      r.fail(n, "http", "a mapping (max_body_mb, body_buffer_kb, threads, timeout_s)");
    } else {
      r.check_keys(n, "http.", {"max_body_mb", "body_buffer_kb", "threads", "timeout_s"});
      double mb = static_cast<double>(c.max_body_bytes) / (1 << 20);
      r.number(n, "http.", "max_body_mb", &mb, 0.001, 4096);
      c.max_body_bytes = static_cast<std::uint64_t>(mb * (1 << 20));
      double kb = static_cast<double>(c.body_buffer_bytes) / 1024;
      r.number(n, "http.", "body_buffer_kb", &kb, 0, 4 << 20);
      c.body_buffer_bytes = static_cast<std::uint64_t>(kb * 1024);
      r.integer(n, "http.", "threads", &c.http_threads, 2, 1024);
      r.integer(n, "http.", "timeout_s", &c.http_timeout_s, 1, 3600);
    }
  }
  auto codec = [&](const YAML::Node& m, const std::string& prefix, Codec* out) {
    std::string v = std::string(to_string(*out));
    r.scalar(m, prefix, "codec", &v, "none|zstd|lz4");
    if (auto p = parse_codec(v))
      *out = *p;
    else
      r.fail(m["codec"], prefix + "codec", "none|zstd|lz4");
  };
  auto budget = [&](const YAML::Node& m, const std::string& prefix, std::uint64_t* out) {
    double mb = static_cast<double>(*out) / (1 << 20);
    r.number(m, prefix, "budget_mb", &mb, 0, 1e12);
    *out = static_cast<std::uint64_t>(mb * (1 << 20));
  };
  if (const YAML::Node n = root["nvme"]) {
    if (!n.IsMap())
      r.fail(n, "nvme", "a mapping (dir, budget_mb, codec, fsync)");
    else {
      r.check_keys(n, "nvme.", {"dir", "budget_mb", "codec", "fsync"});
      r.scalar(n, "nvme.", "dir", &c.dir, "a directory");
      budget(n, "nvme.", &o.rules.dir_budget_bytes);
      codec(n, "nvme.", &o.codecs[kDir]);
      std::string fs = "full";
      r.scalar(n, "nvme.", "fsync", &fs, "full|file|none");
      if (fs == "full")
        c.dir_sync = DirSync::kFull;
      else if (fs == "file")
        c.dir_sync = DirSync::kFile;
      else if (fs == "none")
        c.dir_sync = DirSync::kNone;
      else
        r.fail(n["fsync"], "nvme.fsync", "full|file|none");
    }
  }
  if (const YAML::Node n = root["redis"]) {
    if (!n.IsMap())
      r.fail(n, "redis", "a mapping (url, password_file, budget_mb, codec, ...)");
    else {
      c.has_redis = true;
      r.check_keys(n, "redis.",
                   {"url", "password_file", "budget_mb", "codec", "connect_timeout_ms",
                    "command_timeout_ms", "adopt_prefix"});
      r.scalar(n, "redis.", "url", &c.redis.url, "redis://[:password@]host[:port][/db]");
      r.scalar(n, "redis.", "password_file", &c.redis_password_file, "a file path");
      r.integer(n, "redis.", "connect_timeout_ms", &c.redis.connect_timeout_ms, 1, 600'000);
      r.integer(n, "redis.", "command_timeout_ms", &c.redis.command_timeout_ms, 1, 600'000);
      r.scalar(n, "redis.", "adopt_prefix", &c.adopt_prefix, "a key prefix");
      budget(n, "redis.", &o.rules.redis_budget_bytes);
      codec(n, "redis.", &o.codecs[kRedis]);
      if (auto url = parse_redis_url(c.redis.url); !url.ok() && n["url"])
        r.fail(n["url"], "redis.url", "redis://[:password@]host[:port][/db]");
    }
  }
  if (const YAML::Node n = root["s3"]) {
    if (!n.IsMap())
      r.fail(n, "s3", "a mapping (endpoint, bucket, region, ...)");
    else {
      c.has_s3 = true;
      r.check_keys(n, "s3.",
                   {"endpoint", "bucket", "region", "access_key", "secret_file", "codec",
                    "multipart_threshold_mb", "part_size_mb", "max_attempts", "backoff_ms",
                    "create_bucket"});
      r.scalar(n, "s3.", "endpoint", &c.s3.endpoint, "a URL (http://host:port)");
      r.scalar(n, "s3.", "bucket", &c.s3.bucket, "a bucket name");
      r.scalar(n, "s3.", "region", &c.s3.region, "a region");
      r.scalar(n, "s3.", "access_key", &c.s3.access_key, "an access key id");
      r.scalar(n, "s3.", "secret_file", &c.s3_secret_file, "a file path");
      r.integer(n, "s3.", "max_attempts", &c.s3.max_attempts, 1, 100);
      r.integer(n, "s3.", "backoff_ms", &c.s3.backoff_ms, 0, 600'000);
      r.scalar(n, "s3.", "create_bucket", &c.s3.create_bucket, "true|false");
      double mt = static_cast<double>(c.s3.multipart_threshold) / (1 << 20);
      double ps = static_cast<double>(c.s3.part_size) / (1 << 20);
      r.number(n, "s3.", "multipart_threshold_mb", &mt, 5, 5e6);
      r.number(n, "s3.", "part_size_mb", &ps, 5, 5e3);
      c.s3.multipart_threshold = static_cast<std::uint64_t>(mt * (1 << 20));
      c.s3.part_size = static_cast<std::uint64_t>(ps * (1 << 20));
      codec(n, "s3.", &o.codecs[kS3]);
      if (c.s3.bucket.empty() && r.error.empty()) r.fail(n, "s3.bucket", "a bucket name");
    }
  }
  if (!r.error.empty()) return core::Error{r.error};
  o.adopt_prefix = c.adopt_prefix;
  if (!c.adopt_prefix.empty() && c.adopt_prefix.compare(0, o.key_prefix.size(), o.key_prefix) == 0)
    return core::Error{path + ": redis.adopt_prefix: expected a prefix outside key_prefix '" +
                       o.key_prefix + "'"};
  if (c.dir.empty()) return core::Error{path + ": nvme.dir: expected the warm tier's directory"};
  if (o.catalog_path.empty()) return core::Error{path + ": catalog: expected a file path"};
  c.dir = core::resolve_beside(path, c.dir);
  o.catalog_path = core::resolve_beside(path, o.catalog_path);
  if (!c.redis_password_file.empty())
    c.redis_password_file = core::resolve_beside(path, c.redis_password_file);
  if (!c.s3_secret_file.empty()) c.s3_secret_file = core::resolve_beside(path, c.s3_secret_file);
  if (!c.scenario.empty()) {
    auto s = sim::load_scenario(c.scenario);
    if (!s.ok()) return core::Error{path + ": scenario: " + s.error().message};
    o.prices = s->shuffle.tiers;
  }
  return c;
}

}  // namespace

core::Result<TierConfig> load_tier_config(const std::string& path) {
  auto text = core::read_file(path);
  if (!text.ok()) return core::Error{path + ": cannot read the file"};
  return parse_tier_config(*text, path);
}

core::Result<TierConfig> parse_tier_config(std::string_view text, const std::string& path) {
  // yaml-cpp throws on shapes the reader did not expect (a sequence used as a key, ...):
  // every such exception is a bad input, reported like the others (exit 2), never an abort.
  try {
    return load(text, path);
  } catch (const YAML::Exception& e) {
    const std::string line = e.mark.is_null() ? "" : ":" + std::to_string(e.mark.line + 1);
    return core::Error{path + line + ": expected a mapping of settings (" + e.msg + ")"};
  } catch (const std::exception& e) {
    return core::Error{path + ": cannot load the configuration: " + e.what()};
  }
}

core::Result<std::unique_ptr<TieredStore>> open_store(const TierConfig& c) {
  std::array<std::unique_ptr<ObjectStore>, 3> tiers;
  auto dir = DirStore::open(c.dir, c.dir_sync);
  if (!dir.ok()) return dir.error();
  tiers[kDir] = std::move(*dir);
  if (c.has_redis) {
    RedisOptions ro = c.redis;
    if (!c.redis_password_file.empty()) {
      auto pw = read_secret(c.redis_password_file);
      if (!pw.ok()) return core::Error{"redis.password_file: " + pw.error().message};
      ro.password = *pw;
    } else if (const char* pw = std::getenv("REDIS_PASSWORD")) {
      ro.password = pw;
    }
    auto redis = RedisStore::open(ro);
    if (!redis.ok()) return redis.error();
    tiers[kRedis] = std::move(*redis);
  }
  if (c.has_s3) {
    S3Options so = c.s3;
    if (!c.s3_secret_file.empty()) {
      auto sec = read_secret(c.s3_secret_file);
      if (!sec.ok()) return core::Error{"s3.secret_file: " + sec.error().message};
      so.secret_key = *sec;
    }
    auto s3 = S3Store::open(so);
    if (!s3.ok()) return s3.error();
    tiers[kS3] = std::move(*s3);
  }
  return TieredStore::open(c.store, std::move(tiers));
}

}  // namespace prescale::tier
