// Daemon: reloading h2rd.yaml (SIGHUP). Every key a running daemon can adopt is applied at once (the
// engine takes its settings at its next batch boundary); the others (paths, listen) are logged and
// shown by `h2rd status` as waiting for a restart. A file that fails validation changes nothing.
#include "daemon/daemon.hpp"

#include "core/logging.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "engine/engine_config.hpp"
#include "engine/reschedule.hpp"
#include "store/meta_keys.hpp"

#include <spdlog/spdlog.h>

namespace h2r {
namespace {

constexpr std::size_t k_max_error_text = 2000;   // the reload error kept for `h2rd status`

std::string diagnostics_text(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (d.warning) continue;
    if (!out.empty()) out += "; ";
    out += d.to_string();
  }
  if (out.size() > k_max_error_text) {
    std::size_t cut = k_max_error_text;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;   // not inside a UTF-8 character
    out = out.substr(0, cut) + "…";
  }
  return out;
}

} // namespace

void Daemon::apply_live_config() {
  set_log_settings(m_config.log_level, m_config.log_format);
  m_engine.apply_options(engine_options(m_config));   // the engine adopts the live part
  m_connections.set_breaker_config(m_config.breaker);
  m_inbox.set_limits(m_config.max_file_bytes, m_config.retention_days);
  m_alerts.set_url(m_config.notify_webhook);
}

void Daemon::reschedule_if_settings_changed(const std::string& trigger) {
  RulesPtr rules = m_rules.current();
  if (!rules) return;
  const ScheduleOptions options{m_config.timezone, m_config.max_future_days, rules->lifecycle().hire_lead_days};
  const std::string settings = schedule_settings(options);
  auto stored = m_store.get_meta(k_meta_schedule_settings);
  if (stored && *stored && **stored == settings) return;
  const std::string before = stored && *stored ? **stored : "";
  auto totals = stored ? reschedule_waiting(m_store, options, m_clock.now(), settings)
                       : Result<RescheduleTotals>(unexpected(stored.error()));
  if (!totals) {
    spdlog::error("reload.reschedule_failed settings=\"{}\" trigger=\"{}\" error=\"{}\" action=\"waiting events not "
                  "rescheduled yet keep their due times; the next reload or start tries again\"",
                  escape_for_log(settings), trigger, escape_for_log(totals.error().message));
    return;
  }
  if (totals->events > 0 || !before.empty())
    spdlog::info("reload.rescheduled events={} earlier={} later={} due_now={} settings=\"{}\" was=\"{}\" trigger=\"{}\"",
                 totals->events, totals->earlier, totals->later, totals->due_now, escape_for_log(settings),
                 escape_for_log(before), trigger);
  log_write_failure(m_store.set_meta(k_meta_schedule_settings, settings), k_meta_schedule_settings);
  if (totals->due_now > 0) m_wake.poke();
}

void Daemon::record_running_config() {
  m_running_config.effective = live_values(m_config);
  store_running_config(m_store, m_running_config);
}

void Daemon::reload_console_tokens() {
  if (!m_console.console) return;
  auto tokens = load_console_tokens(m_config.console.tokens, false);
  if (!tokens) {
    spdlog::error("console.tokens_reload_failed file=\"{}\" error=\"{}\" "
                  "action=\"the console refuses every token until the file is good again\"",
                  escape_for_log(m_config.console.tokens), escape_for_log(tokens.error().message));
    return;
  }
  const auto count = tokens->size();
  const int ended = m_console.console->set_tokens(std::move(*tokens));
  spdlog::info("console.tokens_reloaded file=\"{}\" tokens={} sessions_ended={}", escape_for_log(m_config.console.tokens),
               count, ended);
}

void Daemon::reload_config() {
  reload_console_tokens();
  const long long now_ms = to_unix_ms(m_clock.now());
  auto loaded = load_config(m_config.path);
  m_running_config.reloaded_ms = now_ms;
  if (!loaded) {
    // Nothing changes: not the live keys, not the list of keys waiting for a restart.
    m_running_config.reload_error = diagnostics_text(loaded.error());
    spdlog::error("config.reload_failed file=\"{}\" errors={} first=\"{}\" action=\"nothing changed, the running "
                  "settings stay\"",
                  escape_for_log(m_config.path), loaded.error().size(),
                  escape_for_log(loaded.error().empty() ? "" : loaded.error().front().to_string()));
    m_metrics.count_config_reload(false);
    record_running_config();
    return;
  }
  std::vector<ConfigChange> restart_needed;
  std::string applied;
  for (const auto& change : diff_config(m_config, *loaded)) {
    if (change.live) {
      applied += (applied.empty() ? "" : " ") + change.key + "=" + change.before + "->" + change.after;
      continue;
    }
    spdlog::warn("config.restart_needed key={} running=\"{}\" file=\"{}\" action=\"kept at its running value until "
                 "h2rd restarts\"",
                 change.key, escape_for_log(change.before), escape_for_log(change.after));
    restart_needed.push_back(change);
  }
  adopt_live_keys(m_config, *loaded);
  apply_live_config();
  spdlog::info("config.reloaded file=\"{}\" applied=\"{}\" restart_needed={}", escape_for_log(m_config.path),
               escape_for_log(applied), restart_needed.size());
  m_running_config.restart_needed = std::move(restart_needed);
  m_running_config.reload_error.clear();
  m_metrics.count_config_reload(true);
  record_running_config();
}

} // namespace h2r
