// An online blend (issue 14): the global model beside forecasters that need no tuning (last
// value, EWMAs over a fixed bank of smoothing factors, seasonal naive at the stream's daily
// period), weighted by how well each has forecast this stream so far.
//
// Hedge on discounted losses (exponentially weighted average forecaster; Cesa-Bianchi and
// Lugosi, "Prediction, Learning, and Games", ch. 2): when x[t] arrives, each expert's
// forecast made H samples earlier is scored, L_i <- discount x L_i + min(20, |f_i - x[t]| / s),
// with s the stream's scale (an EWMA of |x|, so one eta serves every stream), and the
// forecast is sum_i w_i f_i with w_i proportional to exp(-eta (L_i - min_j L_j)). The
// discount (0.99: a memory of about 100 samples) lets the weights follow a stream whose best
// forecaster changes. Nothing is trained offline on the stream: every weight is a function
// of the samples observed so far, as a Holt-Winters level is; the global model itself stays
// zero-shot. eta and the discount were chosen on the development traces' validation split
// (docs/forecast.md, "The online blend").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "forecast/forecaster.h"
#include "forecast/global.h"

namespace prescale::forecast {

struct BlendParams {
  double eta = 0.5;              // how sharply the weights follow the losses
  double discount = 0.99;        // per sample, on each expert's accumulated loss
  std::string describe() const;  // "eta=0.5,discount=0.99"
};

class OnlineBlend : public Forecaster {
 public:
  // The experts' forecasts are scored at `horizon` samples; `experts` must not be empty.
  OnlineBlend(std::vector<std::unique_ptr<Forecaster>> experts, int horizon,
              BlendParams params = {});
  std::string_view name() const override { return "blend"; }
  void reset() override;
  void observe(double x) override;
  // sum_i w_i x expert i's forecast at h (the weights were learned at the blend's horizon).
  double forecast(int h) const override;
  const std::vector<double>& weights() const { return w_; }  // in the order of the experts
  size_t experts() const { return experts_.size(); }

 private:
  std::vector<std::unique_ptr<Forecaster>> experts_;
  int horizon_;
  BlendParams p_;
  std::vector<double> w_, loss_;
  std::vector<double>
      pending_;  // horizon x experts: the forecasts made after each of the last H samples
  long long n_ = 0;
  double scale_ = 0;
};

// The shipped bank: the global model first, then last value, EWMA at 0.02, 0.05, 0.1, 0.2,
// 0.3 and 0.5, and seasonal naive at `period` samples (a day), all at the model's horizon.
OnlineBlend make_global_blend(const GlobalModel& model, int period, BlendParams params = {});

}  // namespace prescale::forecast
