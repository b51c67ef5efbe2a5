// What `h2rd run` runs with, shared with `h2rd status` (another process) through the store's meta
// table: the live settings in force, when h2rd.yaml was last reloaded, the keys changed in the file
// that wait for a restart, and why the last reload failed. One meta key, one JSON document, written
// whole at start and after each reload.
#pragma once

#include "config/config_diff.hpp"
#include "store/meta_keys.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace h2r {

struct RunningConfig {
  nlohmann::json effective = nlohmann::json::object();  // live_values() of the config in force
  long long reloaded_ms = 0;                             // unix ms of the last reload, 0 = none since start
  std::vector<ConfigChange> restart_needed;              // changed in the file, kept at the running value
  std::string reload_error;                              // the last reload's failure, "" = it worked

  nlohmann::json to_json() const;
  // nullopt when `text` is not such a document (an older h2rd, or damage).
  static std::optional<RunningConfig> from_json(const std::string& text);
};

// Writes `state` under k_meta_config_running (best effort: logged when the store refuses).
void store_running_config(Store& store, const RunningConfig& state);
// nullopt when none is recorded or it cannot be read.
std::optional<RunningConfig> load_running_config(Store& store);

} // namespace h2r
