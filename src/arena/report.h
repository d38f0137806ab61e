// Renders a tournament: an aligned table for people, JSON and CSV for scripts, and the
// --out directory (results.csv, timeline.csv, report.html) written atomically.
#pragma once

#include <string>

#include "arena/tournament.h"
#include "core/result.h"

namespace prescale::arena {

std::string format_table(const TournamentResult& result);
std::string format_json(const TournamentResult& result);
std::string format_csv(const TournamentResult& result);
std::string format_timeline_csv(const TournamentResult& result);

// Writes results.csv, timeline.csv and report.html (html_report.h) into `dir` (created if
// missing). Each file is written to a temporary name and renamed into place; on any error
// the temporaries are removed and nothing partial is left (output_dir.h).
core::Status write_outputs(const std::string& dir, const TournamentResult& result);

}  // namespace prescale::arena
