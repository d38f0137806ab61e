#include "live/race_report.h"

#include <cstdio>

#include "control/web_assets.h"
#include "control/web_page.h"

namespace prescale::live {

std::string race_data_json(const std::vector<RunResult>& runs, double sla_ms,
                           const std::string& validation_json) {
  char sla[64];
  std::snprintf(sla, sizeof sla, "%.17g", sla_ms);
  std::string j = std::string("{\"kind\":\"race\",\"sla_ms\":") + sla + ",\"runs\":[";
  for (size_t i = 0; i < runs.size(); ++i) j += (i ? "," : "") + runs[i].to_json();
  j += "]";
  if (!validation_json.empty()) j += ",\"validation\":" + validation_json;
  return j + "}";
}

std::string race_page(const std::vector<RunResult>& runs, double sla_ms,
                      const std::string& validation_json) {
  control::PageSpec p;
  std::string names;
  for (const auto& r : runs) names += (names.empty() ? "" : " vs ") + r.policy;
  p.title = "prescale race: " + (names.empty() ? std::string("no runs") : names);
  char sub[160];
  std::snprintf(sub, sizeof sub,
                "the live stack, one replay per policy; batch latency SLA %.1f s; time = "
                "seconds since each run began",
                sla_ms / 1000.0);
  p.subtitle = sub;
  p.script = control::assets::race_js();
  p.data_json = race_data_json(runs, sla_ms, validation_json);
  p.noscript =
      "This report draws its charts with JavaScript, which is off. The same timelines are in "
      "the race's JSON (--out).";
  return control::web_page(p);
}

}  // namespace prescale::live
