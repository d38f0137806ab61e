// report.html: one self-contained page per run, written beside the CSVs by --out. It opens
// from disk with no network and no server: uPlot (MIT, pinned in web/package.json) and the
// page's own script and style are inlined (report_assets.h), and the run goes in as one
// JSON document (<script type="application/json" id="report-data">) that the page's script
// turns into the charts and tables. docs/report.md says what the page shows.
//
// The data document, by kind:
//   tournament  run facts, results (mean and 95% interval per figure), the first seed's
//               timeline (timeline_data.h) per policy;
//   ablation    the same plus the phases;
//   case        one (trace, speed) case of `prescale traces`: a tournament plus the verdict
//               and a link back to the traces page;
//   traces      the per-trace, per-speed table, each case linking to its case page.
// Empty input (no policy, a policy without steps, no cases) gives a page that says so.
#pragma once

#include <string>
#include <vector>

#include "arena/ablation.h"
#include "arena/timeline_data.h"
#include "arena/tournament.h"
#include "arena/traces.h"

namespace prescale::arena {

std::string tournament_page(const TournamentResult& r, int max_points = kMaxTimelinePoints);
std::string ablation_page(const AblationResult& r, int max_points = kMaxTimelinePoints);
// `back` is the traces page relative to the case page ("../report.html").
std::string trace_case_page(const TraceCase& c, const TournamentResult& r, const std::string& back,
                            int max_points = kMaxTimelinePoints);
// `links[i]` is cases[i]'s page relative to the traces page ("" = none).
std::string traces_page(const std::vector<TraceCase>& cases, const std::vector<std::string>& links);

}  // namespace prescale::arena
