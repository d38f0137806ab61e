#include "edge/gateway.h"

#include <algorithm>

#include "bus/signing.h"

namespace prescale::edge {

Gateway::Gateway(GatewayConfig config, std::unique_ptr<forecast::Forecaster> forecaster,
                 std::vector<unsigned char> key, Sink* sink, std::int64_t start_ms)
    : cfg_(std::move(config)),
      forecaster_(std::move(forecaster)),
      detector_(cfg_.detector),
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
  forecaster_->observe(load);
  const double f = std::max(0.0, forecaster_->forecast(cfg_.horizon));
  const bool forecast_up = detector_.update(load, f);
  const double base = detector_.baseline();
  const auto& d = cfg_.detector;
  // A burst in progress keeps the signal up until the traffic itself falls back below the
  // release threshold: the detector alone lets go as soon as the forecast h ahead sees the
  // burst's end, which would tell the cloud "calm" in the middle of the burst. The arena's
  // signal (and so what the policies were trained on) covers the burst to its end. While
  // held this way, the forecast sent is the rate the cloud must handle meanwhile.
  const bool ongoing = in_burst_ && base > 0 && load >= d.release_ratio * base;
  const bool up = forecast_up || ongoing;
  in_burst_ = up;
  const double need = ongoing ? std::max(f, load) : f;

  bus::BurstSignal s;
  s.device = cfg_.device;
  s.seq = signal_seq_++;
  s.ts_ms = now_ms;
  s.horizon_s = cfg_.horizon * interval_s;
  s.forecast = need * cfg_.scale / interval_s;
  s.baseline = base * cfg_.scale / interval_s;
  s.burst = up;
  // How far the forecast has climbed from the release threshold towards the raise one.
  s.confidence = base > 0 ? std::clamp((need / base - d.release_ratio) /
                                           std::max(1e-9, d.raise_ratio - d.release_ratio),
                                       0.0, 1.0)
                          : 0.0;
  bus::sign(&s, key_);
  last_signal_ = s;
  auto st = sink_->control(cfg_.device, bus::encode(s));
  if (!st.ok()) return st;
  ++stats_.signals;
  if (up) ++stats_.signals_burst;
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
