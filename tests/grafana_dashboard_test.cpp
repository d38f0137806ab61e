// deploy/grafana/prescale.json, the Grafana dashboard over the controller's and the tier
// server's Prometheus metrics (issue 13), checked two ways:
//   - its structure against the essentials of Grafana's dashboard model (a hand-written
//     schema: what Grafana needs to import it and draw every panel);
//   - every metric its PromQL queries name exists in what the two servers really expose:
//     Controller::prometheus() and StoreStats::prometheus() are called here, so renaming a
//     metric without updating the dashboard fails this test.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "bus/signing.h"
#include "control/controller.h"
#include "control/dashboard.h"
#include "policy/registry.h"
#include "sim/scenario.h"
#include "tier/tiered_store.h"

namespace prescale {
namespace {

using nlohmann::json;

json load_dashboard() {
  std::ifstream in(std::string(PRESCALE_SOURCE_DIR) + "/deploy/grafana/prescale.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());  // a parse error fails the test with its position
}

// ---- the metrics the servers expose ----------------------------------------------------

// Metric name -> the labels its samples carry, from Prometheus text (# TYPE lines name
// metrics that have no sample yet).
std::map<std::string, std::set<std::string>> exposed(const std::string& text) {
  std::map<std::string, std::set<std::string>> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) out[line.substr(7, line.find(' ', 7) - 7)];
  }
  auto samples = control::parse_prometheus(text);
  EXPECT_TRUE(samples.ok()) << samples.error().message;
  if (!samples.ok()) return out;
  for (const auto& s : *samples) {
    auto& labels = out[s.name];
    for (const auto& [k, v] : s.labels) labels.insert(k);
  }
  return out;
}

std::string controller_metrics() {
  auto scenario = sim::load_scenario("seed");
  EXPECT_TRUE(scenario.ok());
  auto p = policy::make_policy("hpa", *scenario, nullptr);
  EXPECT_TRUE(p.ok()) << p.error().message;
  bus::KeyRing keys;
  keys.add("gw-1", std::vector<unsigned char>(32, 0xaa));
  control::ControllerConfig cfg;
  cfg.policy = "hpa";
  control::Controller c(cfg, std::move(*p), std::move(keys));
  // A signal and a progress, so that the per-gateway series have samples too.
  const std::int64_t now = 1'764'000'000'000;
  bus::BurstSignal s;
  s.device = "gw-1";
  s.seq = 1;
  s.ts_ms = now;
  s.forecast = 100;
  s.burst = true;
  bus::sign(&s, std::vector<unsigned char>(32, 0xaa));
  EXPECT_TRUE(c.on_signal(bus::encode(s), now));
  bus::Progress pr;
  pr.batch_id = 1;
  pr.executors_active = 2;
  EXPECT_TRUE(c.on_progress(bus::encode(pr), now));
  c.tick(now + 1000);
  return c.prometheus();
}

std::string tier_metrics() {
  tier::StoreStats st;
  for (auto& t : st.tiers) t.configured = true;  // every tier's series
  return st.prometheus();
}

// ---- PromQL: the metric names an expression mentions -----------------------------------

const std::set<std::string>& promql_words() {
  static const std::set<std::string> w = {
      // aggregations and keywords (never metric names here)
      "sum",          "min",         "max",  "avg",      "group", "stddev",  "stdvar", "count",
      "count_values", "bottomk",     "topk", "quantile", "by",    "without", "on",     "ignoring",
      "group_left",   "group_right", "bool", "and",      "or",    "unless",  "offset", "atan2"};
  return w;
}

size_t skip_balanced(const std::string& e, size_t i, char open, char close) {
  int depth = 0;
  for (; i < e.size(); ++i) {
    if (e[i] == '"') {
      for (++i; i < e.size() && e[i] != '"'; ++i)
        if (e[i] == '\\') ++i;
    } else if (e[i] == open) {
      ++depth;
    } else if (e[i] == close && --depth == 0) {
      return i + 1;
    }
  }
  return i;
}

std::set<std::string> promql_metrics(const std::string& e) {
  std::set<std::string> out;
  auto ident = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  };
  size_t i = 0;
  while (i < e.size()) {
    const char c = e[i];
    if (c == '"' || c == '\'' || c == '`') {
      const char q = c;
      for (++i; i < e.size() && e[i] != q; ++i)
        if (e[i] == '\\') ++i;
      ++i;
    } else if (c == '{') {
      i = skip_balanced(e, i, '{', '}');  // label matchers
    } else if (c == '[') {
      i = skip_balanced(e, i, '[', ']');  // a range ([5m], [$__rate_interval])
    } else if (c == '$') {
      for (++i; i < e.size() && (ident(e[i]) || e[i] == '{' || e[i] == '}'); ++i) {
      }
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < e.size() && (ident(e[i]) || e[i] == '.')) ++i;  // 3600, 1e3, 5m
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':') {
      const size_t start = i;
      while (i < e.size() && ident(e[i])) ++i;
      const std::string word = e.substr(start, i - start);
      size_t j = i;
      while (j < e.size() && e[j] == ' ') ++j;
      const bool call = j < e.size() && e[j] == '(';
      if (word == "by" || word == "without" || word == "on" || word == "ignoring" ||
          word == "group_left" || word == "group_right") {
        if (call) i = skip_balanced(e, j, '(', ')');  // a label list
      } else if (!call && !promql_words().count(word)) {
        out.insert(word);
      }
    } else {
      ++i;
    }
  }
  return out;
}

TEST(GrafanaDashboard, ThePromqlLexerFindsMetricsNotFunctionsLabelsOrDurations) {
  EXPECT_EQ(
      promql_metrics("sum by (verdict) (rate(a_total{job=~\"$j\",v!=\"x\"}[$__rate_interval]))"),
      (std::set<std::string>{"a_total"}));
  EXPECT_EQ(promql_metrics("sum(increase(b{x=\"}\"}[1h])) * 3600 + c offset 5m"),
            (std::set<std::string>{"b", "c"}));
  EXPECT_EQ(promql_metrics("x / on (tier) group_left y"), (std::set<std::string>{"x", "y"}));
}

// Every PromQL expression of the dashboard with where it is, and the legend's {{labels}}.
struct Query {
  std::string where, expr, legend;
};

std::vector<Query> queries(const json& d) {
  std::vector<Query> out;
  for (const auto& p : d["panels"]) {
    for (const auto& t : p.value("targets", json::array()))
      out.push_back({"panel " + p.value("title", std::string("?")) + " / " +
                         t.value("refId", std::string("?")),
                     t.value("expr", std::string()), t.value("legendFormat", std::string())});
  }
  // Template variables: label_values(SELECTOR, LABEL) names a metric in SELECTOR only.
  static const std::regex label_values(R"(label_values\(([^,]+),\s*[A-Za-z_]+\))");
  for (const auto& v : d["templating"]["list"]) {
    if (v.value("type", std::string()) != "query") continue;
    const std::string q = v["query"].is_string() ? v["query"].get<std::string>()
                                                 : v["query"].value("query", std::string());
    std::smatch m;
    if (std::regex_search(q, m, label_values))
      out.push_back({"variable " + v.value("name", std::string("?")), m[1], ""});
    else
      out.push_back({"variable " + v.value("name", std::string("?")), q, ""});
  }
  return out;
}

TEST(GrafanaDashboard, EveryMetricItQueriesIsExposedByTheControllerOrTheTierServer) {
  const json d = load_dashboard();
  std::map<std::string, std::set<std::string>> metrics = exposed(controller_metrics());
  for (auto& [name, labels] : exposed(tier_metrics()))
    metrics[name].insert(labels.begin(), labels.end());
  ASSERT_TRUE(metrics.count("prescale_controller_executors_target"));
  ASSERT_TRUE(metrics.count("prescale_tier_stored_bytes"));

  std::set<std::string> used;
  for (const auto& q : queries(d)) {
    SCOPED_TRACE(q.where + ": " + q.expr);
    const auto names = promql_metrics(q.expr);
    EXPECT_FALSE(names.empty()) << "a query that names no metric";
    std::set<std::string> labels = {"job", "instance"};  // Prometheus adds these
    for (const auto& n : names) {
      EXPECT_TRUE(metrics.count(n))
          << n << " is not in the controller's or the tier server's /metrics";
      used.insert(n);
      if (metrics.count(n)) labels.insert(metrics[n].begin(), metrics[n].end());
    }
    // A legend's {{label}} must be a label the queried series carry.
    static const std::regex legend_label(R"(\{\{\s*([A-Za-z_]+)\s*\}\})");
    for (auto it = std::sregex_iterator(q.legend.begin(), q.legend.end(), legend_label);
         it != std::sregex_iterator(); ++it)
      EXPECT_TRUE(labels.count((*it)[1])) << "legend label " << (*it)[1];
  }
  // It covers both servers' essentials.
  for (const char* m :
       {"prescale_controller_executors_target", "prescale_controller_executors_actual",
        "prescale_controller_latency_ms", "prescale_controller_sla_ms",
        "prescale_controller_input_rps", "prescale_controller_gateway_forecast_rps",
        "prescale_controller_signals_total", "prescale_tier_stored_bytes", "prescale_tier_objects"})
    EXPECT_TRUE(used.count(m)) << m << " is on no panel";
}

// ---- the structure ---------------------------------------------------------------------

// A field's expected JSON type, and whether it must be there.
struct Field {
  const char* name;
  json::value_t type;
  bool required;
};

void check_fields(const json& obj, const std::vector<Field>& fields, const std::string& where) {
  ASSERT_TRUE(obj.is_object()) << where << ": expected an object";
  for (const auto& f : fields) {
    if (!obj.contains(f.name)) {
      EXPECT_FALSE(f.required) << where << ": " << f.name << " is missing";
      continue;
    }
    const json& v = obj[f.name];
    const bool number_ok =
        f.type == json::value_t::number_integer && (v.type() == json::value_t::number_unsigned);
    EXPECT_TRUE(v.type() == f.type || number_ok)
        << where << ": " << f.name << " has type " << v.type_name();
  }
}

constexpr auto kString = json::value_t::string;
constexpr auto kInt = json::value_t::number_integer;
constexpr auto kObject = json::value_t::object;
constexpr auto kArray = json::value_t::array;
constexpr auto kBool = json::value_t::boolean;

TEST(GrafanaDashboard, FollowsGrafanasDashboardModel) {
  const json d = load_dashboard();
  check_fields(d,
               {{"title", kString, true},
                {"uid", kString, true},
                {"schemaVersion", kInt, true},
                {"version", kInt, false},
                {"panels", kArray, true},
                {"templating", kObject, true},
                {"time", kObject, true},
                {"refresh", kString, false},
                {"tags", kArray, false},
                {"editable", kBool, false},
                {"annotations", kObject, false}},
               "dashboard");
  EXPECT_FALSE(d["title"].get<std::string>().empty());
  EXPECT_TRUE(std::regex_match(d["uid"].get<std::string>(), std::regex("[A-Za-z0-9_-]{1,40}")));
  EXPECT_GE(d["schemaVersion"].get<int>(), 30);  // Grafana 8+: datasource objects, timeseries
  check_fields(d["time"], {{"from", kString, true}, {"to", kString, true}}, "time");
  for (const auto& t : d.value("tags", json::array())) EXPECT_TRUE(t.is_string());

  // Variables: a Prometheus data source picker, and every ${var} a panel uses is declared.
  std::set<std::string> vars;
  ASSERT_TRUE(d["templating"].contains("list"));
  for (const auto& v : d["templating"]["list"]) {
    check_fields(v, {{"name", kString, true}, {"type", kString, true}}, "variable");
    vars.insert(v["name"].get<std::string>());
    if (v["type"] == "datasource") {
      EXPECT_EQ(v["query"], "prometheus");
    }
  }
  ASSERT_TRUE(vars.count("datasource"));
  auto check_datasource = [&](const json& ds, const std::string& where) {
    check_fields(ds, {{"type", kString, true}, {"uid", kString, true}}, where + " datasource");
    EXPECT_EQ(ds.value("type", std::string()), "prometheus") << where;
    const std::string uid = ds.value("uid", std::string());
    std::smatch m;
    if (std::regex_match(uid, m, std::regex(R"(\$\{?([A-Za-z_]+)\}?)"))) {
      EXPECT_TRUE(vars.count(m[1])) << where << ": undeclared variable " << uid;
    }
  };

  static const std::set<std::string> kTypes = {"row",   "timeseries", "stat",     "gauge",
                                               "table", "bargauge",   "barchart", "text"};
  std::set<long long> ids;
  std::vector<json> boxes;
  ASSERT_FALSE(d["panels"].empty());
  for (const auto& p : d["panels"]) {
    const std::string where = "panel " + p.value("title", std::string("?"));
    check_fields(p,
                 {{"id", kInt, true},
                  {"type", kString, true},
                  {"title", kString, true},
                  {"gridPos", kObject, true},
                  {"datasource", kObject, false},
                  {"targets", kArray, false}},
                 where);
    EXPECT_TRUE(ids.insert(p.value("id", -1LL)).second) << where << ": id not unique";
    EXPECT_GT(p.value("id", -1LL), 0) << where;
    EXPECT_TRUE(kTypes.count(p.value("type", std::string()))) << where << ": type " << p["type"];
    EXPECT_FALSE(p.value("title", std::string()).empty()) << where;
    const json& g = p["gridPos"];
    check_fields(g, {{"h", kInt, true}, {"w", kInt, true}, {"x", kInt, true}, {"y", kInt, true}},
                 where + " gridPos");
    const int x = g.value("x", -1), w = g.value("w", 0), h = g.value("h", 0), y = g.value("y", -1);
    EXPECT_TRUE(x >= 0 && w >= 1 && x + w <= 24 && h >= 1 && y >= 0)
        << where << ": gridPos outside the 24-column grid";
    boxes.push_back(g);
    if (p.value("type", std::string()) == "row") {
      EXPECT_FALSE(p.contains("targets")) << where << ": a row has no queries";
      continue;
    }
    ASSERT_TRUE(p.contains("datasource")) << where;
    check_datasource(p["datasource"], where);
    ASSERT_TRUE(p.contains("targets") && !p["targets"].empty()) << where << ": no queries";
    std::set<std::string> refs;
    for (const auto& t : p["targets"]) {
      check_fields(t,
                   {{"refId", kString, true},
                    {"expr", kString, true},
                    {"legendFormat", kString, false},
                    {"datasource", kObject, false}},
                   where + " target");
      EXPECT_TRUE(refs.insert(t.value("refId", std::string())).second) << where << ": refId twice";
      EXPECT_FALSE(t.value("expr", std::string()).empty()) << where;
      if (t.contains("datasource")) check_datasource(t["datasource"], where + " target");
    }
  }
  // No two panels overlap on the grid.
  for (size_t i = 0; i < boxes.size(); ++i)
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      const json &a = boxes[i], &b = boxes[j];
      const bool apart = a["x"].get<int>() + a["w"].get<int>() <= b["x"].get<int>() ||
                         b["x"].get<int>() + b["w"].get<int>() <= a["x"].get<int>() ||
                         a["y"].get<int>() + a["h"].get<int>() <= b["y"].get<int>() ||
                         b["y"].get<int>() + b["h"].get<int>() <= a["y"].get<int>();
      EXPECT_TRUE(apart) << "panels " << i << " and " << j << " overlap";
    }
}

// The dashboard's tier panel reads the same text (control/dashboard.h).
TEST(GrafanaDashboard, TheLiveDashboardReadsTheTierServersRealMetrics) {
  tier::StoreStats st;
  st.tiers[0] = {3, 300, 0, 0, 0, 0, 0, true};
  st.tiers[1] = {10, 12'000, 0, 0, 0, 0, 0, true};
  st.burst = true;
  auto v = control::parse_tier_metrics(st.prometheus());
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->tiers.size(), 2u);  // the unconfigured S3 tier has no series
  EXPECT_EQ(v->tiers[0].tier, "redis");
  EXPECT_DOUBLE_EQ(v->tiers[0].bytes, 300);
  EXPECT_EQ(v->tiers[1].tier, "nvme");
  EXPECT_DOUBLE_EQ(v->tiers[1].objects, 10);
  EXPECT_TRUE(v->burst);
}

}  // namespace
}  // namespace prescale
