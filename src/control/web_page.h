// The live side's HTML pages — the controller's dashboard (control/dashboard.h) and the
// race report (live/race_report.h) — built like the arena's report.html
// (arena/html_report.h): one self-contained file with uPlot (pinned in web/package.json),
// the shared style (web/report.css, web/live.css) and the page's script inlined from
// web/ at build time (web_assets.h), and the page's data as one JSON document in
// <script type="application/json" id="page-data">.
#pragma once

#include <string>
#include <string_view>

namespace prescale::control {

struct PageSpec {
  std::string title, subtitle;
  std::string_view script;  // the page's own script (a web_assets.h view)
  std::string data_json;    // "" = no data document
  // The page may open connections to its own origin (the dashboard's /events);
  // otherwise the page may load nothing at all.
  bool connect_self = false;
  std::string noscript;  // what to say without JavaScript
};

std::string web_page(const PageSpec& spec);

// Text for HTML element content and attributes.
std::string escape_html(std::string_view s);

}  // namespace prescale::control
