#include "ops/config_state.hpp"

#include "core/text.hpp"

#include <spdlog/spdlog.h>

namespace h2r {

nlohmann::json RunningConfig::to_json() const {
  nlohmann::json restart = nlohmann::json::array();
  for (const auto& c : restart_needed) restart.push_back({{"key", c.key}, {"running", c.before}, {"file", c.after}});
  return {{"effective", effective},
          {"reloaded_ms", reloaded_ms},
          {"restart_needed", restart},
          {"reload_error", reload_error}};
}

std::optional<RunningConfig> RunningConfig::from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    RunningConfig out;
    out.effective = j.value("effective", nlohmann::json::object());
    out.reloaded_ms = j.value("reloaded_ms", 0LL);
    out.reload_error = j.value("reload_error", std::string());
    for (const auto& c : j.value("restart_needed", nlohmann::json::array()))
      out.restart_needed.push_back({c.at("key").get<std::string>(), c.value("running", std::string()),
                                    c.value("file", std::string()), false});
    return out;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

void store_running_config(Store& store, const RunningConfig& state) {
  if (auto r = store.set_meta(k_meta_config_running, state.to_json().dump()); !r)
    spdlog::warn("store.write_failed what=config_running error=\"{}\"", escape_for_log(r.error().message));
}

std::optional<RunningConfig> load_running_config(Store& store) {
  auto text = store.get_meta(k_meta_config_running);
  if (!text || !*text || (*text)->empty()) return std::nullopt;
  return RunningConfig::from_json(**text);
}

} // namespace h2r
