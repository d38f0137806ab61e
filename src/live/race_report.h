// report.html of `prescale race` (`--report FILE`; make stack-demo writes out/race/report.html):
// every policy's live run on one page, on the run's own clock (seconds since the run
// began; each run replays the same trace, so their bursts line up): the job's input rate
// per batch and the gateway's forecast, the executors Spark reported and the commanded
// target, each batch's latency against the SLA, the burst signal as sent, the trace's
// burst shaded; then the summary table and each run's commands with their reasons.
// Self-contained like the arena's report.html (control/web_page.h: uPlot and web/race.js
// inlined, nothing loaded). No runs, or a run without batches, gives a page that says so.
#pragma once

#include <string>
#include <vector>

#include "live/race.h"

namespace prescale::live {

// The data document: {"kind":"race","sla_ms":..,"runs":[RunResult::to_json(), ...]}.
std::string race_data_json(const std::vector<RunResult>& runs, double sla_ms);
std::string race_page(const std::vector<RunResult>& runs, double sla_ms);

}  // namespace prescale::live
