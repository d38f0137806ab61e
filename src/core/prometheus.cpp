#include "core/prometheus.h"

namespace prescale::core {

void PrometheusWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  os_ << "# HELP " << name << ' ';
  escape(help, /*quote=*/false);
  os_ << "\n# TYPE " << name << ' ' << type << '\n';
}

void PrometheusWriter::escape(std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      os_ << "\\\\";
    } else if (c == '\n') {
      os_ << "\\n";
    } else if (quote && c == '"') {
      os_ << "\\\"";
    } else {
      os_ << c;
    }
  }
}

}  // namespace prescale::core
