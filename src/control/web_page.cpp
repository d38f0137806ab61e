#include "control/web_page.h"

#include "control/web_assets.h"
#include "core/html.h"

namespace prescale::control {
using core::comment_safe;
using core::script_safe;

std::string escape_html(std::string_view s) { return core::escape_html(s); }

std::string web_page(const PageSpec& spec) {
  std::string out;
  out.reserve(spec.data_json.size() + assets::uplot_js().size() + spec.script.size() + 16384);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing may load from anywhere; a live page may talk to its own server only.
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ";
  out += spec.connect_self ? "connect-src 'self'; " : "";
  out += "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n";
  out += "<title>" + escape_html(spec.title) + "</title>\n";
  out += "<!--\nWritten by prescale (docs/controller.md). Charts: uPlot ";
  out += assets::uplot_version();
  out += " (https://github.com/leeoniya/uPlot), inlined below under its licence:\n\n";
  out += comment_safe(assets::uplot_license());
  out += "-->\n<style>\n";
  out += assets::uplot_css();
  out += "\n</style>\n<style>\n";
  out += assets::report_css();
  out += "\n</style>\n<style>\n";
  out += assets::live_css();
  out += "\n</style>\n</head>\n<body>\n<header><h1>" + escape_html(spec.title) +
         "</h1>\n<p class=\"sub\" id=\"subtitle\">" + escape_html(spec.subtitle) +
         "</p></header>\n";
  out += "<main id=\"app\"><noscript><p class=\"notice\">" + escape_html(spec.noscript) +
         "</p></noscript></main>\n";
  if (!spec.data_json.empty()) {
    out += "<script type=\"application/json\" id=\"page-data\">" + script_safe(spec.data_json) +
           "</script>\n";
  }
  out += "<script>\n";
  out += assets::uplot_js();
  out += "\n</script>\n<script>\n";
  out += spec.script;
  out += "\n</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace prescale::control
