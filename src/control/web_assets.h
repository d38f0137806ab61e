// What the live pages (web_page.h) inline, embedded into the binary at build time from web/
// by cmake/embed_web_assets.cmake (definitions generated into the build tree): uPlot at the
// version pinned in web/package.json, its licence, and the pages' own scripts and styles.
#pragma once

#include <string_view>

namespace prescale::control::assets {

std::string_view uplot_version();  // "1.6.32"
std::string_view uplot_js();       // dist/uPlot.iife.min.js
std::string_view uplot_css();      // dist/uPlot.min.css
std::string_view uplot_license();  // LICENSE (MIT)
std::string_view report_css();     // web/report.css (shared with report.html)
std::string_view live_css();       // web/live.css
std::string_view dashboard_js();   // web/dashboard.js
std::string_view race_js();        // web/race.js

}  // namespace prescale::control::assets
