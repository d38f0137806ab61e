// Driving the arena's edge signal with a real forecaster (`prescale tournament --edge
// forecast`: the global model on any load; `--trace F --edge lstm`: the trace's own LSTM)
// instead of the synthetic signal model.
#pragma once

#include "forecast/burst.h"
#include "forecast/global.h"
#include "forecast/lstm.h"
#include "sim/workload.h"

namespace prescale::forecast {

// Replaces w's signal, forecast_rps and confidence. The forecaster sees the arrivals in the
// trace's own units (arrivals x raw_per_rps, the inverse of the replay's scaling to a peak
// rate) one step at a time; what it knows after step t-1 is the edge signal of step t (the
// gateway cannot see the step that has not happened). forecast_rps[t] is its forecast of
// the rate `horizon` steps after t-1, back in records/s; the signal comes from the burst
// detector; confidence is 0.85 while signalled (as the synthetic model), else 0.
void drive_edge_signal(const LstmModel& model, double raw_per_rps, const DetectorParams& p,
                       sim::Workload* w);

// The same with the global forecaster, on any workload (trace at any speed, synthetic): it
// sees the arrivals in records/s (it is scale-free) one step at a time; after step t-1 its
// burst head's detector (BurstHeadDetector with the model's thresholds) is the signal of step
// t, and forecast_rps[t] its 90% quantile of the rate `horizon` steps after t-1 (what to
// provision for); confidence is 0.85 while signalled, else 0, as the synthetic model's (the
// learned policies were trained on that).
void drive_edge_signal(const GlobalModel& model, sim::Workload* w);

}  // namespace prescale::forecast
