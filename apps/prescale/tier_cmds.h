// `prescale tier ...`: the tiered store (src/tier) from the command line — serve, put, get,
// stat, ls, burst, crashtest, bench, and the hidden `worker` the crash test drives.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace prescale::cli {

struct TierArgs;

// Registers the `tier` command group; returns the handle run_tier_cmd() needs.
TierArgs* add_tier_command(CLI::App& app);
// True when one of the tier subcommands was given (then run_tier_cmd handles it).
bool tier_selected(const TierArgs* a);
int run_tier_cmd(TierArgs* a, const std::string& source_dir);

}  // namespace prescale::cli
