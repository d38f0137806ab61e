// Escaping for the self-contained HTML pages (the arena's report.html, the controller's
// dashboard, the race report): one implementation for every page writer.
#pragma once

#include <string>
#include <string_view>

namespace prescale::core {

// Text for an element's content or a quoted attribute: & < > " escaped.
std::string escape_html(std::string_view text);

// JSON text for a <script type="application/json"> element: '<' only occurs inside JSON
// strings, where \u003c means the same, so no "</script>" or "<!--" can end or confuse it.
std::string script_safe(std::string_view json_text);

// Text for an HTML comment, which must not contain "--".
std::string comment_safe(std::string_view text);

}  // namespace prescale::core
