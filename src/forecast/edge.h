// Driving the arena's edge signal with a real forecaster (`prescale tournament --trace F
// --edge lstm`) instead of the synthetic signal model.
#pragma once

#include "forecast/burst.h"
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

}  // namespace prescale::forecast
