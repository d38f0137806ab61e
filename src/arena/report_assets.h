// What report.html inlines, embedded into the binary at build time from web/ by
// cmake/embed_web_assets.cmake (the definitions are generated into the build tree):
// uPlot's minified script, its style sheet and its licence, at the exact version pinned in
// web/package.json and installed by `npm ci` (scripts/web-deps.sh), and the page's own
// script and style (web/report.js, web/report.css). Each view has static storage.
#pragma once

#include <string_view>

namespace prescale::arena::assets {

std::string_view uplot_version();  // "1.6.32"
std::string_view uplot_js();       // dist/uPlot.iife.min.js
std::string_view uplot_css();      // dist/uPlot.min.css
std::string_view uplot_license();  // LICENSE (MIT)
std::string_view report_js();      // web/report.js
std::string_view report_css();     // web/report.css

}  // namespace prescale::arena::assets
