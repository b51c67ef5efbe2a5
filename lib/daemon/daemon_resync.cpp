// Daemon: rules edits converge — a rules change queues a resync per linked employee it changes.
#include "daemon/daemon.hpp"

#include "core/text.hpp"
#include "core/time.hpp"
#include "engine/resync.hpp"

#include <spdlog/spdlog.h>

namespace h2r {

void Daemon::on_rules_changed(const RulesChange& change) {
  if (!change.now) return;
  reschedule_if_settings_changed("rules " + change.now->version());   // lifecycle.hire.lead_days may differ
  const std::string from = change.before_version.empty() ? "none" : change.before_version;
  // With manual, the oldest rules Zoom still reflects stay the clearing base until `h2rd resync` runs.
  const bool manual = m_config.rules_on_change == "manual";
  RulesPtr before = change.before;
  if (manual) {
    auto kept = load_resync_base(m_store);
    if (kept.known) before = kept.rules;
    else log_write_failure(save_resync_base(m_store, change.before_version, change.before_text), "resync_base");
  }
  auto diff = diff_rules(m_store, before.get(), *change.now);
  if (!diff) {
    spdlog::error("resync.failed from={} to={} error=\"{}\" action=\"run `h2rd resync` once the database answers\"",
                  from, change.now->version(), escape_for_log(diff.error().message));
    return;
  }
  const ResyncTotals& t = diff->totals;
  if (manual) {
    if (t.employees > 0)
      spdlog::warn("resync.manual from={} to={} employees={} deprovisions={} action=\"rules.on_change is manual: "
                   "nothing queued; preview with `h2rd plan --rules FILE`, queue with `h2rd resync`\"",
                   from, change.now->version(), t.employees, t.deprovisions);
    else
      spdlog::info("resync.none from={} to={} note=\"no linked Zoom user changes\"", from, change.now->version());
    return;
  }
  auto queued = queue_resyncs(m_store, *diff, to_unix_ms(m_clock.now()));
  if (!queued) {
    spdlog::error("resync.failed from={} to={} error=\"{}\" action=\"run `h2rd resync` once the database answers\"",
                  from, change.now->version(), escape_for_log(queued.error().message));
    return;
  }
  log_write_failure(clear_resync_base(m_store), "resync_base");   // a base kept under rules.on_change: manual is converged past
  spdlog::info("resync.queued from={} to={} employees={} queued={} already_open={} role_moves={} licenses_on={} "
               "licenses_off={} attributes={} deprovisions={}",
               from, change.now->version(), t.employees, queued->queued, queued->already_open, t.role_moves,
               t.licenses_on, t.licenses_off, t.attributes, t.deprovisions);
  if (t.deprovisions > change.now->lifecycle().guard_max)
    spdlog::critical("resync.guard deprovisions={} max={} action=\"the guard holds them: review with `h2rd events list "
                     "--type resync --state held`, then `h2rd events approve --all` or reject them\"",
                     t.deprovisions, change.now->lifecycle().guard_max);
  m_wake.poke();
}

} // namespace h2r
