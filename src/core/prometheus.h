// The Prometheus text exposition format (0.0.4), written: the one writer behind /metrics of the
// controller (control/controller.cpp) and of the tier server (tier/tiered_store.cpp).
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace prescale::core {

class PrometheusWriter {
 public:
  // A metric family's "# HELP" and "# TYPE" lines; type is "counter" or "gauge". The help text
  // is escaped as the format asks (backslash, newline).
  void family(std::string_view name, std::string_view type, std::string_view help);

  // One sample, "name value" or "name{label="value"} value" (the label's value escaped:
  // backslash, double quote, newline). Integers are written exactly; doubles as a stream does.
  template <class T>
  void sample(std::string_view name, T value, std::string_view label = {},
              std::string_view label_value = {}) {
    os_ << name;
    if (!label.empty()) {
      os_ << '{' << label << "=\"";
      escape(label_value, /*quote=*/true);
      os_ << "\"}";
    }
    os_ << ' ' << value << '\n';
  }

  // A family of one unlabelled sample.
  template <class T>
  void counter(std::string_view name, std::string_view help, T value) {
    family(name, "counter", help);
    sample(name, value);
  }
  template <class T>
  void gauge(std::string_view name, std::string_view help, T value) {
    family(name, "gauge", help);
    sample(name, value);
  }

  std::string str() const { return os_.str(); }

 private:
  void escape(std::string_view text, bool quote);
  std::ostringstream os_;
};

}  // namespace prescale::core
