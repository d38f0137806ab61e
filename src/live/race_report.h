// report.html of `prescale race` (`--report FILE`; make stack-demo writes out/race/report.html):
// every policy's live run on one page, on the run's own clock (seconds since the run
// began; each run replays the same trace, so their bursts line up): the job's input rate
// per batch and the gateway's forecast, the executors Spark reported and the commanded
// target, each batch's latency against the SLA, the burst signal as sent, the trace's
// burst shaded; then the summary table, the arena's side when given (src/validate: the error
// figures and, per policy, Spark's and the arena's executors and both worlds' batch latency
// on one chart; `prescale validate --report` draws the same page) and each run's commands
// with their reasons.
// Self-contained like the arena's report.html (control/web_page.h: uPlot and web/race.js
// inlined, nothing loaded). No runs, or a run without batches, gives a page that says so.
#pragma once

#include <string>
#include <vector>

#include "live/race.h"

namespace prescale::live {

// The data document: {"kind":"race","sla_ms":..,"runs":[RunResult::to_json(), ...]}, and with
// `validation_json` (validate::Report::to_json(true): the arena's replay of the same runs)
// "validation": that, drawn per policy as live vs arena executors and latency with the error
// figures (docs/sim2real.md, "Validation").
std::string race_data_json(const std::vector<RunResult>& runs, double sla_ms,
                           const std::string& validation_json = "");
std::string race_page(const std::vector<RunResult>& runs, double sla_ms,
                      const std::string& validation_json = "");

}  // namespace prescale::live
