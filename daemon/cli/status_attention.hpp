// The ATTENTION block of `h2rd status`: everything that waits for a person, each with what to do.
#pragma once

#include "config/config.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace h2r::cli {

// One item per thing that needs a person, in this order: the daemon stuck, a failed rules reload,
// a failed reload of h2rd.yaml, h2rd.yaml keys waiting for a restart ("keys": their names), failed
// events, held events, rejected files in the inbox, each unhealthy or paused connection.
// Each item: {"kind", "message"} plus "count" (events, files) or "connection"; rejected files also
// carry "newest" (a file name) and "report" (the path of its NAME.error.txt).
nlohmann::json attention_items(Store& store, const Config& config, const nlohmann::json& queue,
                               const std::string& rules_error, const std::string& daemon_state, long long now_ms);

} // namespace h2r::cli
