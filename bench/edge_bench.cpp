// The gateway agent's CPU cost per reading, without a broker: parsing a device's JSON line,
// batching and encoding, and signing a Burst_Signal. The end-to-end figure against
// kafka-producer-perf-test on a real broker is scripts/bench/edge-throughput.sh.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bus/messages.h"
#include "bus/signing.h"
#include "edge/gateway.h"

namespace {

std::vector<std::string> lines(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back("{\"sensor\":\"city/block-" + std::to_string(i % 97) + "/air-" +
                  std::to_string(i % 13) + "\",\"ts_ms\":" + std::to_string(1764000000000 + i) +
                  ",\"values\":[" + std::to_string(20 + (i % 50) / 10.0) + ",0.25," +
                  std::to_string(i % 400) + "]}");
  }
  return out;
}

void BM_DecodeReading(benchmark::State& state) {
  const auto in = lines(1024);
  size_t i = 0;
  for (auto _ : state) {
    auto r = prescale::bus::decode_reading(in[i++ & 1023], 0);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

struct NullSink : prescale::edge::Sink {
  size_t bytes = 0;
  prescale::core::Status data(const std::string&, const std::string& p) override {
    bytes += p.size();
    return {};
  }
  prescale::core::Status control(const std::string&, const std::string& p) override {
    bytes += p.size();
    return {};
  }
};

// Parse + batch + encode: the agent's whole per-reading path short of librdkafka.
void BM_GatewayReading(benchmark::State& state) {
  const auto in = lines(1024);
  NullSink sink;
  prescale::edge::GatewayConfig c;
  c.device = "gw-bench";
  prescale::edge::Gateway gw(c, std::make_unique<prescale::forecast::LastValue>(),
                             std::vector<unsigned char>(32, 7), &sink, 0);
  size_t i = 0;
  for (auto _ : state) {
    auto r = prescale::bus::decode_reading(in[i++ & 1023], 0);
    auto st = gw.add(std::move(*r), 0);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(sink.bytes));
}

void BM_SignSignal(benchmark::State& state) {
  prescale::bus::BurstSignal s;
  s.device = "gw-bench";
  s.ts_ms = 1764000000000;
  s.forecast = 1234.5;
  s.baseline = 600;
  const std::vector<unsigned char> key(32, 7);
  for (auto _ : state) {
    ++s.seq;
    prescale::bus::sign(&s, key);
    benchmark::DoNotOptimize(prescale::bus::encode(s));
  }
}

}  // namespace

BENCHMARK(BM_DecodeReading);
BENCHMARK(BM_GatewayReading);
BENCHMARK(BM_SignSignal);
BENCHMARK_MAIN();
