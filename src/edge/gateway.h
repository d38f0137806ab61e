// The gateway agent's core (`prescale edge`): readings in, batches on the data plane, signed
// Burst_Signals on the control plane.
//
// Time is cut into intervals of `interval_ms` (the forecaster's step). Every reading is
// appended to the current data batch, which leaves when it holds `batch_readings` readings
// or `batch_bytes` bytes, or when it has waited `linger_ms`. When an interval closes, its load
// (readings / `scale`, in the units the forecaster was trained on) goes to the gateway's
// SignalSource, which says what to send, and one signed Burst_Signal goes out on the control
// plane, every interval (the receiver's freshness check needs a steady stream, and a lost
// signal is repaired by the next one). Two sources:
//   - RatioSignal (any forecaster): the burst detector compares the forecast `horizon`
//     intervals ahead with its rolling baseline; a burst in progress holds the signal;
//   - the global forecaster's (forecast/global.h; make_signal_source): the model's own burst
//     head through BurstHeadDetector with the model's thresholds, and its 90% quantile as the
//     forecast: exactly forecast::global_signal (and the arena's drive_edge_signal).
//
// The gateway knows nothing of Kafka: it writes to a Sink (edge/agent.h has the Kafka one).
// Single-threaded; the caller drives it with add() and tick().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bus/messages.h"
#include "core/result.h"
#include "forecast/burst.h"
#include "forecast/forecaster.h"

namespace prescale::edge {

class Sink {
 public:
  virtual ~Sink() = default;
  // A data-plane message (a reading batch); key = the gateway id.
  virtual core::Status data(const std::string& key, const std::string& payload) = 0;
  // A control-plane message (a signed Burst_Signal); key = the gateway id.
  virtual core::Status control(const std::string& key, const std::string& payload) = 0;
};

struct GatewayConfig {
  std::string device = "gw-1";  // the gateway id, also the key file's DEVICE
  std::int64_t interval_ms = 1000;
  int horizon = 12;    // intervals ahead (the cold start in intervals; global: the model's own)
  double scale = 1.0;  // readings per unit of the forecaster's series
  size_t batch_readings = 500;
  size_t batch_bytes = 256 * 1024;
  std::int64_t linger_ms = 100;
  // false: intervals close only through close_interval() (trace replay, where one sample is
  // one interval whatever the wall clock says).
  bool clocked = true;
  std::uint64_t first_seq = 1;        // of the Burst_Signals; must exceed anything sent before
  forecast::DetectorParams detector;  // RatioSignal's
};

// What the gateway sends for one interval, in the forecaster's units (load per interval; the
// gateway converts to records/s).
struct IntervalSignal {
  bool burst = false;
  double forecast = 0;    // the load to provision for `horizon` intervals ahead
  double baseline = 0;    // the load a burst is measured against (0 = none yet)
  double confidence = 0;  // [0, 1]
};

// Where the gateway's Burst_Signal comes from: it observes each closed interval's load and
// says what to send. Single-threaded, like the gateway.
class SignalSource {
 public:
  virtual ~SignalSource() = default;
  virtual IntervalSignal update(double load) = 0;
  // The intervals ahead the forecast is for (the signal's horizon_s = this x interval).
  virtual int horizon() const = 0;
};

// Any forecaster with the ratio burst detector (config.detector, forecast/burst.h): raise
// when the forecast `horizon` ahead climbs over raise_ratio x the rolling baseline. A burst
// in progress holds the signal while the load itself stays >= release_ratio x the baseline,
// with max(forecast, load) as the forecast; confidence = how far the forecast has climbed
// from the release towards the raise threshold.
class RatioSignal : public SignalSource {
 public:
  RatioSignal(std::unique_ptr<forecast::Forecaster> forecaster, int horizon,
              forecast::DetectorParams detector);
  IntervalSignal update(double load) override;
  int horizon() const override { return horizon_; }

 private:
  std::unique_ptr<forecast::Forecaster> forecaster_;
  int horizon_;
  forecast::BurstDetector detector_;
  bool in_burst_ = false;  // the signal sent last was a burst
};

// The source for a forecaster: RatioSignal with `horizon` and `detector`, except for a
// forecast::GlobalForecaster, whose own heads give the signal as forecast::global_signal runs
// them (and the arena's drive_edge_signal): burst = its burst head through BurstHeadDetector
// with the model's raise/release; forecast = its 90% quantile at the model's horizon (what to
// provision for; horizon() = the model's, whatever `horizon` says); confidence 0.85 while up,
// else 0 (the arena's, what the learned policies were trained on); baseline = the median of
// the previous 60 loads (the ground truth's, for the dashboard). The ratio detector plays no
// part there. (Defined in gateway.cpp: Eigen stays out of this header, which files including
// <resolv.h>, e.g. through httplib, also include.)
std::unique_ptr<SignalSource> make_signal_source(std::unique_ptr<forecast::Forecaster> forecaster,
                                                 int horizon, forecast::DetectorParams detector);

struct GatewayStats {
  std::uint64_t readings = 0;  // accepted into batches
  std::uint64_t batches = 0, data_bytes = 0;
  std::uint64_t signals = 0, signals_burst = 0;
  std::uint64_t intervals = 0;
};

class Gateway {
 public:
  // `key` = the device's HMAC key (bus/signing.h). `start_ms` opens the first interval.
  Gateway(GatewayConfig config, std::unique_ptr<SignalSource> source,
          std::vector<unsigned char> key, Sink* sink, std::int64_t start_ms);
  // The same with make_signal_source(forecaster, config.horizon, config.detector).
  Gateway(GatewayConfig config, std::unique_ptr<forecast::Forecaster> forecaster,
          std::vector<unsigned char> key, Sink* sink, std::int64_t start_ms);

  // Appends a reading to the current batch (sending the batch when full).
  core::Status add(bus::Reading r, std::int64_t now_ms);
  // Closes every interval that has ended by now_ms (one signal each) and sends a batch that
  // has lingered long enough. Call at least once per interval.
  core::Status tick(std::int64_t now_ms);
  // Closes the current interval now, whatever its length (trace replay: one sample = one
  // interval), with the readings counted since the last close.
  core::Status close_interval(std::int64_t now_ms);
  // Sends the partial batch.
  core::Status flush_batch();

  // The milliseconds until the next tick() has work (interval end or batch linger).
  std::int64_t ms_until_due(std::int64_t now_ms) const;

  const GatewayStats& stats() const { return stats_; }
  const bus::BurstSignal& last_signal() const { return last_signal_; }
  const GatewayConfig& config() const { return cfg_; }

 private:
  GatewayConfig cfg_;
  std::unique_ptr<SignalSource> source_;
  std::vector<unsigned char> key_;
  Sink* sink_;
  bus::ReadingBatch batch_;
  size_t batch_bytes_estimate_ = 0;
  std::int64_t batch_started_ms_ = -1;
  std::string buffer_;  // the encoded batch, reused
  std::uint64_t batch_seq_ = 0;
  std::uint64_t signal_seq_;
  std::int64_t interval_start_ms_;
  std::uint64_t interval_readings_ = 0;
  bus::BurstSignal last_signal_;
  GatewayStats stats_;
};

}  // namespace prescale::edge
