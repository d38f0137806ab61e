#include "core/html.h"

namespace prescale::core {

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string script_safe(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (char c : json_text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string comment_safe(std::string_view text) {
  std::string out(text);
  for (size_t at = out.find("--"); at != std::string::npos; at = out.find("--", at)) {
    out.replace(at, 2, "- -");
  }
  return out;
}

}  // namespace prescale::core
