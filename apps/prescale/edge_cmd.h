// `prescale edge`: the gateway agent's command line (src/edge does the work).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "edge/agent.h"

namespace prescale::cli {

struct EdgeArgs {
  edge::AgentOptions opts;
  std::string brokers = "127.0.0.1:9092";
  std::vector<std::string> kafka;  // KEY=VALUE
  bool stdin_input = false;
  std::string mqtt;  // HOST:PORT
};

CLI::App* add_edge_command(CLI::App& app, EdgeArgs* a);
int run_edge_cmd(EdgeArgs a);

}  // namespace prescale::cli
