// What a reload of h2rd.yaml changes: which keys differ from the config the daemon runs with, and
// which of them a running daemon can adopt (live) or only a restart can (database, inbox, rules,
// secret_key_file, listen, listen_allow_remote). One table in config_diff.cpp decides, per key.
#pragma once

#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace h2r {

// One key of h2rd.yaml whose value differs between two configs.
struct ConfigChange {
  std::string key;      // as written in the file: "scheduler.workers", "breaker.cooldown", "database"
  std::string before;   // the values as the file would write them ("30s", "4"); a webhook shows only its
  std::string after;    // origin (its path may hold a token)
  bool live = false;    // true: a reload applies it; false: it needs a restart
};

// Every key whose value differs between `running` and `loaded`, in the table's (file's) order.
std::vector<ConfigChange> diff_config(const Config& running, const Config& loaded);

// Copies every live key of `loaded` into `running`; the restart-only keys of `running` are not touched
// (not even written), so other threads may keep reading them.
void adopt_live_keys(Config& running, const Config& loaded);

// The live keys and their values, {"scheduler.workers": 4, "retry.base": "30s", ...}: numbers as
// numbers, durations and sizes as the file writes them, the webhook as its origin ("" = none).
nlohmann::json live_values(const Config& config);

// True when `key` (as in ConfigChange::key) is applied by a reload.
bool is_live_key(const std::string& key);

} // namespace h2r
