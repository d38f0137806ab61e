#include "edge/gateway.h"

#include <algorithm>

#include "bus/signing.h"
#include "forecast/global.h"

namespace prescale::edge {

RatioSignal::RatioSignal(std::unique_ptr<forecast::Forecaster> forecaster, int horizon,
                         forecast::DetectorParams detector)
    : forecaster_(std::move(forecaster)), horizon_(horizon), detector_(detector) {}

IntervalSignal RatioSignal::update(double load) {
  forecaster_->observe(load);
  const double f = std::max(0.0, forecaster_->forecast(horizon_));
  const bool forecast_up = detector_.update(load, f);
  const double base = detector_.baseline();
  const auto& d = detector_.params();
  // A burst in progress keeps the signal up until the traffic itself falls back below the
  // release threshold: the detector alone lets go as soon as the forecast h ahead sees the
  // burst's end, which would tell the cloud "calm" in the middle of the burst. The arena's
  // signal (and so what the policies were trained on) covers the burst to its end. While
  // held this way, the forecast sent is the rate the cloud must handle meanwhile.
  const bool ongoing = in_burst_ && base > 0 && load >= d.release_ratio * base;
  const bool up = forecast_up || ongoing;
  in_burst_ = up;
  IntervalSignal s;
  s.burst = up;
  s.forecast = ongoing ? std::max(f, load) : f;
  s.baseline = base;
  // How far the forecast has climbed from the release threshold towards the raise one.
  s.confidence = base > 0 ? std::clamp((s.forecast / base - d.release_ratio) /
                                           std::max(1e-9, d.raise_ratio - d.release_ratio),
                                       0.0, 1.0)
                          : 0.0;
  return s;
}

namespace {

constexpr int kBaselineWindow = 60;  // the ground truth's (forecast::true_bursts)

// The global model's own heads (make_signal_source in gateway.h).
class GlobalSignal : public SignalSource {
 public:
  explicit GlobalSignal(std::unique_ptr<forecast::GlobalForecaster> forecaster)
      : forecaster_(std::move(forecaster)),
        detector_(forecaster_->model().raise, forecaster_->model().release),
        previous_(kBaselineWindow) {
    scratch_.reserve(kBaselineWindow);
  }
  IntervalSignal update(double load) override;
  int horizon() const override { return forecaster_->model().horizon; }

 private:
  std::unique_ptr<forecast::GlobalForecaster> forecaster_;
  forecast::BurstHeadDetector detector_;
  forecast::History previous_;  // the loads before the newest, for the baseline
  std::vector<double> scratch_;
};

IntervalSignal GlobalSignal::update(double load) {
  // As forecast::global_signal: observe, then the heads and the detector on them.
  forecaster_->observe(load);
  const forecast::GlobalOutput o = forecaster_->output();
  IntervalSignal s;
  s.burst = detector_.update(o.burst_p);
  s.forecast = std::max(0.0, o.p90);
  s.confidence = s.burst ? 0.85 : 0.0;
  // The median of the previous loads (not this one); the first load is its own baseline.
  if (previous_.size() == 0) {
    s.baseline = load;
  } else {
    scratch_.clear();
    for (int a = 0; a < previous_.size(); ++a) scratch_.push_back(previous_.back(a));
    const auto mid = scratch_.begin() + static_cast<long>(scratch_.size() / 2);
    std::nth_element(scratch_.begin(), mid, scratch_.end());
    s.baseline = *mid;
  }
  previous_.push(load);
  return s;
}

}  // namespace

std::unique_ptr<SignalSource> make_signal_source(std::unique_ptr<forecast::Forecaster> forecaster,
                                                 int horizon, forecast::DetectorParams detector) {
  if (auto* g = dynamic_cast<forecast::GlobalForecaster*>(forecaster.get())) {
    forecaster.release();
    return std::make_unique<GlobalSignal>(std::unique_ptr<forecast::GlobalForecaster>(g));
  }
  return std::make_unique<RatioSignal>(std::move(forecaster), horizon, detector);
}

Gateway::Gateway(GatewayConfig config, std::unique_ptr<forecast::Forecaster> forecaster,
                 std::vector<unsigned char> key, Sink* sink, std::int64_t start_ms)
    : Gateway(config, make_signal_source(std::move(forecaster), config.horizon, config.detector),
              std::move(key), sink, start_ms) {}

Gateway::Gateway(GatewayConfig config, std::unique_ptr<SignalSource> source,
                 std::vector<unsigned char> key, Sink* sink, std::int64_t start_ms)
    : cfg_(std::move(config)),
      source_(std::move(source)),
      key_(std::move(key)),
      sink_(sink),
      signal_seq_(cfg_.first_seq),
      interval_start_ms_(start_ms) {
  batch_.device = cfg_.device;
  batch_.readings.reserve(cfg_.batch_readings);
  buffer_.reserve(cfg_.batch_bytes + 4096);
}

core::Status Gateway::add(bus::Reading r, std::int64_t now_ms) {
  if (batch_.readings.empty()) batch_started_ms_ = now_ms;
  // Upper bound of the encoded size: names, a 20-digit timestamp, 25 characters a value.
  batch_bytes_estimate_ += r.sensor.size() + 48 + 25 * r.values.size();
  batch_.readings.push_back(std::move(r));
  ++interval_readings_;
  ++stats_.readings;
  if (batch_.readings.size() >= cfg_.batch_readings || batch_bytes_estimate_ >= cfg_.batch_bytes)
    return flush_batch();
  return {};
}

core::Status Gateway::flush_batch() {
  if (batch_.readings.empty()) return {};
  buffer_.clear();
  batch_.seq = batch_seq_;
  bus::encode_to(batch_, &buffer_);
  auto st = sink_->data(cfg_.device, buffer_);
  // The batch is handed over (or the error surfaced) either way: the next one starts empty
  // and keeps its own sequence number, so a consumer sees the gap.
  ++batch_seq_;
  batch_.readings.clear();
  batch_bytes_estimate_ = 0;
  batch_started_ms_ = -1;
  if (!st.ok()) return st;
  ++stats_.batches;
  stats_.data_bytes += buffer_.size();
  return {};
}

core::Status Gateway::close_interval(std::int64_t now_ms) {
  const double interval_s = static_cast<double>(cfg_.interval_ms) / 1000.0;
  const double load = static_cast<double>(interval_readings_) / cfg_.scale;
  interval_readings_ = 0;
  interval_start_ms_ = now_ms;
  ++stats_.intervals;
  const IntervalSignal g = source_->update(load);

  bus::BurstSignal s;
  s.device = cfg_.device;
  s.seq = signal_seq_++;
  s.ts_ms = now_ms;
  s.horizon_s = source_->horizon() * interval_s;
  s.forecast = g.forecast * cfg_.scale / interval_s;
  s.baseline = g.baseline * cfg_.scale / interval_s;
  s.burst = g.burst;
  s.confidence = g.confidence;
  bus::sign(&s, key_);
  last_signal_ = s;
  auto st = sink_->control(cfg_.device, bus::encode(s));
  if (!st.ok()) return st;
  ++stats_.signals;
  if (g.burst) ++stats_.signals_burst;
  return {};
}

core::Status Gateway::tick(std::int64_t now_ms) {
  if (cfg_.clocked) {
    while (now_ms - interval_start_ms_ >= cfg_.interval_ms) {
      // Every elapsed interval is one sample (a quiet one counts zero readings).
      auto st = close_interval(interval_start_ms_ + cfg_.interval_ms);
      if (!st.ok()) return st;
    }
  }
  if (batch_started_ms_ >= 0 && now_ms - batch_started_ms_ >= cfg_.linger_ms) return flush_batch();
  return {};
}

std::int64_t Gateway::ms_until_due(std::int64_t now_ms) const {
  std::int64_t due = cfg_.clocked ? interval_start_ms_ + cfg_.interval_ms - now_ms : INT64_MAX;
  if (batch_started_ms_ >= 0) due = std::min(due, batch_started_ms_ + cfg_.linger_ms - now_ms);
  return std::max<std::int64_t>(0, due);
}

}  // namespace prescale::edge
