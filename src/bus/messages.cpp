#include "bus/messages.h"

#include <simdjson.h>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace prescale::bus {

using nlohmann::json;

namespace {

core::Error bad(const std::string& type, const std::string& what) {
  return core::Error{type + " message: " + what};
}

// The deepest message is a reading batch: object > readings > reading > values (4 levels).
// A message nested deeper is refused as the parser reaches the level, before the DOM holds it:
// 10 KB of '[' cost each decoder ~15 ms under ASan before, and Kafka carries 1 MB a message.
constexpr int kMaxDepth = 16;
struct TooDeep {};

// Parses JSON of at most kMaxDepth levels; `what` starts the error ("burst_signal message").
core::Result<json> parse_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text, [](int depth, json::parse_event_t event, json&) {
      if (depth >= kMaxDepth &&
          (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start))
        throw TooDeep{};
      return true;
    });
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    return core::Error{what + ": not JSON (" + e.what() + ")"};
  } catch (const TooDeep&) {
    return core::Error{what + ": nested deeper than " + std::to_string(kMaxDepth) +
                       " levels (the deepest message has 4)"};
  }
}

// Parses, checks it is an object of version kVersion with type tag `type`.
core::Result<json> open(const std::string& text, const std::string& type) {
  auto parsed = parse_json(text, type + " message");
  if (!parsed.ok()) return parsed.error();
  json& j = *parsed;
  if (!j.is_object()) return bad(type, "not a JSON object");
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer())
    return bad(type, "field 'v': missing or not an integer");
  if (v->get<long long>() != kVersion) {
    return bad(type, "version " + std::to_string(v->get<long long>()) +
                         " is not supported (expected " + std::to_string(kVersion) + ")");
  }
  auto t = j.find("type");
  if (t == j.end() || !t->is_string()) return bad(type, "field 'type': missing or not a string");
  if (t->get<std::string>() != type) return bad(type, "type is '" + t->get<std::string>() + "'");
  return parsed;
}

// Typed field readers; each error names the field and the expectation.
struct Reader {
  const json& j;
  std::string error;

  const json* get(const char* key) {
    auto it = j.find(key);
    if (it == j.end()) {
      if (error.empty()) error = std::string("field '") + key + "': missing";
      return nullptr;
    }
    return &*it;
  }
  void fail(const char* key, const std::string& expected) {
    if (error.empty()) error = std::string("field '") + key + "': expected " + expected;
  }
  double number(const char* key, double lo, double hi) {
    const json* v = get(key);
    if (!v) return 0;
    if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < lo ||
        v->get<double>() > hi) {
      fail(key, "a number in [" + json(lo).dump() + ", " + json(hi).dump() + "]");
      return 0;
    }
    return v->get<double>();
  }
  std::int64_t integer(const char* key, std::int64_t lo, std::int64_t hi) {
    const json* v = get(key);
    if (!v) return 0;
    if (!v->is_number_integer() || v->get<std::int64_t>() < lo || v->get<std::int64_t>() > hi ||
        (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(hi))) {
      fail(key, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      return 0;
    }
    return v->get<std::int64_t>();
  }
  std::uint64_t unsigned_integer(const char* key) {
    const json* v = get(key);
    if (!v) return 0;
    if (!v->is_number_unsigned()) {
      fail(key, "a non-negative integer");
      return 0;
    }
    return v->get<std::uint64_t>();
  }
  std::string string(const char* key, size_t max_len) {
    const json* v = get(key);
    if (!v) return "";
    if (!v->is_string() || v->get<std::string>().size() > max_len) {
      fail(key, "a string of at most " + std::to_string(max_len) + " characters");
      return "";
    }
    return v->get<std::string>();
  }
};

bool valid_device(const std::string& d) {
  if (d.empty() || d.size() > 64) return false;
  for (char c : d) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_sig(const std::string& s) {
  if (s.empty()) return true;  // unsigned: decodes, the verifier rejects it
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool valid_sensor(std::string_view d) {
  if (d.empty() || d.size() > 128) return false;
  for (char c : d) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == ':' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// JSON numbers in their shortest round-trip form (what nlohmann's dump() also writes).
void append_number(std::string* out, double x) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  out->append(buf, r.ptr);
}
void append_number(std::string* out, std::int64_t x) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  out->append(buf, r.ptr);
}

// Identifiers are validated to need no escaping.
void append_reading(std::string* out, const Reading& r) {
  out->append("{\"sensor\":\"");
  out->append(r.sensor);
  out->append("\",\"ts_ms\":");
  append_number(out, r.ts_ms);
  out->append(",\"values\":[");
  for (size_t i = 0; i < r.values.size(); ++i) {
    if (i) out->push_back(',');
    append_number(out, r.values[i]);
  }
  out->append("]}");
}

// Reads one reading object (shared by the device line and the batch); returns the first
// problem ("field 'x': expected ...") or an empty string.
std::string read_reading(const json& j, Reading* m, std::int64_t default_ts_ms, bool ts_required) {
  if (!j.is_object()) return "not a JSON object";
  auto s = j.find("sensor");
  if (s == j.end() || !s->is_string() || !valid_sensor(s->get_ref<const std::string&>()))
    return "field 'sensor': expected 1-128 characters of [A-Za-z0-9._:/-]";
  m->sensor = s->get<std::string>();
  m->ts_ms = default_ts_ms;
  auto t = j.find("ts_ms");
  if (t != j.end() || ts_required) {
    if (t == j.end() || !t->is_number_integer() || t->get<std::int64_t>() < 0)
      return "field 'ts_ms': expected a non-negative integer (ms since the epoch)";
    m->ts_ms = t->get<std::int64_t>();
  }
  auto v = j.find("values");
  if (v == j.end() || !v->is_array() || v->empty() || v->size() > kMaxValues)
    return "field 'values': expected an array of 1 to " + std::to_string(kMaxValues) + " numbers";
  m->values.clear();
  m->values.reserve(v->size());
  for (const auto& x : *v) {
    if (!x.is_number() || !std::isfinite(x.get<double>()))
      return "field 'values': expected finite numbers only";
    m->values.push_back(x.get<double>());
  }
  return "";
}

constexpr double kMaxRate = 1e12;
constexpr std::int64_t kMaxI64 = INT64_MAX;

}  // namespace

std::string encode(const BurstSignal& m) {
  json j = {{"v", kVersion},
            {"type", "burst_signal"},
            {"device", m.device},
            {"seq", m.seq},
            {"ts_ms", m.ts_ms},
            {"horizon_s", m.horizon_s},
            {"forecast", m.forecast},
            {"baseline", m.baseline},
            {"burst", m.burst ? 1 : 0},
            {"confidence", m.confidence}};
  if (!m.sig.empty()) j["sig"] = m.sig;
  return j.dump();
}

std::string encode(const Reading& m) {
  std::string out;
  append_reading(&out, m);
  return out;
}

void encode_to(const ReadingBatch& m, std::string* out) {
  out->append("{\"v\":1,\"type\":\"readings\",\"device\":\"");
  out->append(m.device);
  out->append("\",\"seq\":");
  append_number(out, static_cast<std::int64_t>(m.seq));
  out->append(",\"readings\":[");
  for (size_t i = 0; i < m.readings.size(); ++i) {
    if (i) out->push_back(',');
    append_reading(out, m.readings[i]);
  }
  out->append("]}");
}

std::string encode(const ReadingBatch& m) {
  std::string out;
  encode_to(m, &out);
  return out;
}

std::string encode(const Progress& m) {
  json j = {{"v", kVersion},
            {"type", "progress"},
            {"app", m.app},
            {"ts_ms", m.ts_ms},
            {"batch_id", m.batch_id},
            {"input_rows_per_s", m.input_rows_per_s},
            {"processed_rows_per_s", m.processed_rows_per_s},
            {"batch_duration_ms", m.batch_duration_ms},
            {"num_input_rows", m.num_input_rows},
            {"offsets_behind", m.offsets_behind},
            {"executors_active", m.executors_active},
            {"event_latency_ms", m.event_latency_ms}};
  // The optional facts only when known (an older controller ignores them either way).
  if (m.max_executors > 0) {
    j["min_executors"] = m.min_executors;
    j["max_executors"] = m.max_executors;
  }
  if (m.records_per_message > 0) j["records_per_message"] = m.records_per_message;
  if (m.lease_epoch > 0) j["lease_epoch"] = m.lease_epoch;
  return j.dump();
}

std::string encode(const ScaleTo& m) {
  return json{{"v", kVersion},
              {"type", "scale_to"},
              {"seq", m.seq},
              {"ts_ms", m.ts_ms},
              {"target_executors", m.target_executors},
              {"shuffle_tier", std::string(core::to_string(m.shuffle_tier))},
              {"reason", m.reason},
              {"epoch", m.epoch}}
      .dump();
}

std::string encode(const LeaseRecord& m) {
  return json{{"v", kVersion},    {"type", "lease"},    {"controller", m.controller},
              {"group", m.group}, {"policy", m.policy}, {"ts_ms", m.ts_ms},
              {"base", m.base}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

core::Result<BurstSignal> decode_burst_signal(const std::string& text) {
  auto j = open(text, "burst_signal");
  if (!j.ok()) return j.error();
  Reader r{*j, ""};
  BurstSignal m;
  m.device = r.string("device", 64);
  m.seq = r.unsigned_integer("seq");
  m.ts_ms = r.integer("ts_ms", 0, kMaxI64);
  m.horizon_s = r.number("horizon_s", 1e-3, 86400);
  m.forecast = r.number("forecast", 0, kMaxRate);
  m.baseline = r.number("baseline", 0, kMaxRate);
  m.burst = r.integer("burst", 0, 1) == 1;
  m.confidence = r.number("confidence", 0, 1);
  if (auto it = j->find("sig"); it != j->end()) {
    if (!it->is_string() || !valid_sig(it->get<std::string>()))
      r.fail("sig", "64 lowercase hex digits");
    else
      m.sig = it->get<std::string>();
  }
  if (r.error.empty() && !valid_device(m.device))
    r.fail("device", "1-64 characters of [A-Za-z0-9._-]");
  if (!r.error.empty()) return bad("burst_signal", r.error);
  return m;
}

core::Result<Reading> decode_reading(std::string_view text, std::int64_t default_ts_ms) {
  // simdjson's DOM parser (runtime-dispatched SIMD kernels): this is the agent's per-reading
  // hot path, where nlohmann's DOM cost ~1.5 us a line. The whole document is validated
  // before any field is read; unknown fields are ignored.
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;
  padded.assign(text.data(), text.size());
  padded.resize(text.size() + simdjson::SIMDJSON_PADDING, ' ');
  auto fail = [](const std::string& what) { return core::Error{"reading: " + what}; };

  simdjson::dom::element doc;
  if (auto e = parser.parse(padded.data(), text.size(), false).get(doc))
    return fail(std::string("not JSON (") + simdjson::error_message(e) + ")");
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return fail("not a JSON object");

  Reading m;
  m.ts_ms = default_ts_ms;
  if (simdjson::dom::element v; !obj["v"].get(v)) {
    std::int64_t ver = 0;
    if (v.get_int64().get(ver) || ver != kVersion) return fail("field 'v': expected 1");
  }
  std::string_view sensor;
  if (obj["sensor"].get_string().get(sensor) || !valid_sensor(sensor))
    return fail("field 'sensor': expected 1-128 characters of [A-Za-z0-9._:/-]");
  m.sensor.assign(sensor);
  if (simdjson::dom::element t; !obj["ts_ms"].get(t)) {
    // get_int64 refuses 1.5 and 1e3: a timestamp is an integer literal.
    if (t.get_int64().get(m.ts_ms) || m.ts_ms < 0)
      return fail("field 'ts_ms': expected a non-negative integer (ms since the epoch)");
  }
  simdjson::dom::array arr;
  if (obj["values"].get_array().get(arr) || arr.size() == 0 || arr.size() > kMaxValues)
    return fail("field 'values': expected an array of 1 to " + std::to_string(kMaxValues) +
                " numbers");
  m.values.reserve(arr.size());
  for (simdjson::dom::element x : arr) {
    double d = 0;
    if (x.get_double().get(d) || !std::isfinite(d))
      return fail("field 'values': expected finite numbers only");
    m.values.push_back(d);
  }
  return m;
}

core::Result<ReadingBatch> decode_reading_batch(const std::string& text) {
  auto j = open(text, "readings");
  if (!j.ok()) return j.error();
  Reader r{*j, ""};
  ReadingBatch m;
  m.device = r.string("device", 64);
  m.seq = r.unsigned_integer("seq");
  if (r.error.empty() && !valid_device(m.device))
    r.fail("device", "1-64 characters of [A-Za-z0-9._-]");
  if (!r.error.empty()) return bad("readings", r.error);
  auto rs = j->find("readings");
  if (rs == j->end() || !rs->is_array())
    return bad("readings", "field 'readings': expected an array");
  m.readings.resize(rs->size());
  for (size_t i = 0; i < rs->size(); ++i) {
    std::string err = read_reading((*rs)[i], &m.readings[i], 0, true);
    if (!err.empty()) return bad("readings", "readings[" + std::to_string(i) + "]: " + err);
  }
  return m;
}

core::Result<Progress> decode_progress(const std::string& text) {
  auto j = open(text, "progress");
  if (!j.ok()) return j.error();
  Reader r{*j, ""};
  Progress m;
  m.app = r.string("app", 256);
  m.ts_ms = r.integer("ts_ms", 0, kMaxI64);
  m.batch_id = r.integer("batch_id", 0, kMaxI64);
  m.input_rows_per_s = r.number("input_rows_per_s", 0, kMaxRate);
  m.processed_rows_per_s = r.number("processed_rows_per_s", 0, kMaxRate);
  m.batch_duration_ms = r.number("batch_duration_ms", 0, 1e9);
  m.num_input_rows = r.integer("num_input_rows", 0, kMaxI64);
  m.offsets_behind = r.integer("offsets_behind", 0, kMaxI64);
  m.executors_active = static_cast<int>(r.integer("executors_active", 0, 1'000'000));
  if (j->contains("event_latency_ms")) m.event_latency_ms = r.number("event_latency_ms", 0, 1e12);
  // Optional (version-tolerant: a listener from before them sends none; unknown fields are
  // ignored, so a newer listener's extra facts do not break this decoder). The bounds come
  // as a pair.
  if (j->contains("min_executors") || j->contains("max_executors")) {
    m.min_executors = static_cast<int>(r.integer("min_executors", 0, 1'000'000));
    m.max_executors = static_cast<int>(r.integer("max_executors", 1, 1'000'000));
    if (r.error.empty() && m.max_executors < m.min_executors)
      r.fail("max_executors",
             "an integer >= min_executors (" + std::to_string(m.min_executors) + ")");
  }
  if (j->contains("records_per_message"))
    m.records_per_message = r.number("records_per_message", 0, 1e6);
  if (j->contains("lease_epoch")) m.lease_epoch = r.integer("lease_epoch", 0, kMaxI64);
  if (!r.error.empty()) return bad("progress", r.error);
  return m;
}

core::Result<ScaleTo> decode_scale_to(const std::string& text) {
  auto j = open(text, "scale_to");
  if (!j.ok()) return j.error();
  Reader r{*j, ""};
  ScaleTo m;
  m.seq = r.unsigned_integer("seq");
  m.ts_ms = r.integer("ts_ms", 0, kMaxI64);
  m.target_executors = static_cast<int>(r.integer("target_executors", 0, 1'000'000));
  const std::string tier = r.string("shuffle_tier", 16);
  m.reason = r.string("reason", 1024);
  // Optional: a controller from before leases sends none (epoch 0, the lowest).
  if (j->contains("epoch")) m.epoch = r.integer("epoch", 0, kMaxI64);
  if (r.error.empty()) {
    auto t = core::parse_tier(tier);
    if (!t)
      r.fail("shuffle_tier", "redis|nvme|s3");
    else
      m.shuffle_tier = *t;
  }
  if (!r.error.empty()) return bad("scale_to", r.error);
  return m;
}

core::Result<LeaseRecord> decode_lease_record(const std::string& text) {
  auto j = open(text, "lease");
  if (!j.ok()) return j.error();
  Reader r{*j, ""};
  LeaseRecord m;
  m.controller = r.string("controller", 256);
  m.group = r.string("group", 256);
  m.policy = r.string("policy", 256);
  m.ts_ms = r.integer("ts_ms", 0, kMaxI64);
  // Optional: a controller from before recreation-proof epochs writes none (base 0).
  if (j->contains("base")) m.base = r.integer("base", 0, kMaxLeaseBase);
  if (r.error.empty() && m.controller.empty()) r.fail("controller", "a non-empty string");
  if (r.error.empty() && m.group.empty()) r.fail("group", "a non-empty string");
  if (!r.error.empty()) return bad("lease", r.error);
  return m;
}

core::Result<std::string> message_type(const std::string& text) {
  auto parsed = parse_json(text, "message");
  if (!parsed.ok()) return parsed.error();
  const json& j = *parsed;
  if (!j.is_object()) return core::Error{"message: not a JSON object"};
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<long long>() != kVersion) {
    return core::Error{"message: missing or unsupported version 'v' (expected 1)"};
  }
  auto t = j.find("type");
  if (t == j.end() || !t->is_string())
    return core::Error{"message: field 'type': missing or not a string"};
  return t->get<std::string>();
}

}  // namespace prescale::bus
