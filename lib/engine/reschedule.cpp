#include "engine/reschedule.hpp"

#include "core/time.hpp"

#include <algorithm>
#include <map>

namespace h2r {

std::string schedule_settings(const ScheduleOptions& options) {
  return "timezone=" + options.time_zone + " lead_days=" + std::to_string(options.hire_lead_days) +
         " tzdata=" + time_zone_rules_version();
}

Result<RescheduleTotals> reschedule_waiting(Store& store, const ScheduleOptions& options, SystemTime now,
                                           const std::string& why) {
  RescheduleTotals totals;
  const long long now_ms = to_unix_ms(now);
  EventFilter page;
  page.state = EventState::waiting;
  page.limit = k_reschedule_batch;
  for (;;) {
    const auto rows = H2R_TRY(store.list_events(page));   // newest first; the next page is older
    std::vector<EventReschedule> changes;
    std::map<long long, long long> was_due;
    for (const auto& row : rows)
      if (auto change = reschedule_event(row, options, now, "rescheduled: " + why)) {
        was_due[row.id] = row.due_at_ms;
        changes.push_back(std::move(*change));
      }
    const auto changed = H2R_TRY(store.reschedule_events(changes, now_ms));
    for (const auto& change : changes) {
      if (std::find(changed.begin(), changed.end(), change.id) == changed.end()) continue;
      ++totals.events;
      if (change.due_at_ms < was_due[change.id]) ++totals.earlier;
      else if (change.due_at_ms > was_due[change.id]) ++totals.later;
      if (change.due_at_ms <= now_ms) ++totals.due_now;
    }
    if (static_cast<int>(rows.size()) < page.limit) break;
    page.before_id = rows.back().id;
  }
  return totals;
}

} // namespace h2r
