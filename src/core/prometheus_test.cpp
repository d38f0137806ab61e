#include "core/prometheus.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace prescale::core {
namespace {

TEST(PrometheusWriter, WritesFamiliesAndSamplesInTheTextFormat) {
  PrometheusWriter w;
  w.counter("ticks_total", "Ticks run.", std::uint64_t{42});
  w.gauge("latency_ms", "Latency.", 12.5);
  w.family("signals_total", "counter", "Signals by verdict.");
  w.sample("signals_total", 3, "verdict", "accepted");
  EXPECT_EQ(w.str(),
            "# HELP ticks_total Ticks run.\n# TYPE ticks_total counter\nticks_total 42\n"
            "# HELP latency_ms Latency.\n# TYPE latency_ms gauge\nlatency_ms 12.5\n"
            "# HELP signals_total Signals by verdict.\n# TYPE signals_total counter\n"
            "signals_total{verdict=\"accepted\"} 3\n");
}

TEST(PrometheusWriter, EscapesLabelValuesAndHelpAsTheFormatAsks) {
  // A quote or a newline in a label value must not break the exposition (a scraper rejects
  // the whole page). Device ids are restricted at decode today; the writer does not rely on it.
  PrometheusWriter w;
  w.family("g", "gauge", "back\\slash and\nnewline");
  w.sample("g", 1, "device", "gw \"1\"\\\n");
  EXPECT_EQ(w.str(),
            "# HELP g back\\\\slash and\\nnewline\n# TYPE g gauge\n"
            "g{device=\"gw \\\"1\\\"\\\\\\n\"} 1\n");
}

TEST(PrometheusWriter, WritesLargeIntegersExactly) {
  PrometheusWriter w;
  w.sample("epoch", std::int64_t{1234567890123456789});
  EXPECT_EQ(w.str(), "epoch 1234567890123456789\n");
}

}  // namespace
}  // namespace prescale::core
