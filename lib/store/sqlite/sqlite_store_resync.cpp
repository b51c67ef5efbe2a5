// SqliteStore: h2r's own resync events, queued when the rules change.
#include "store/sqlite/sqlite_store_impl.hpp"

#include <nlohmann/json.hpp>

namespace h2r {

Result<IngestResult> SqliteStore::queue_resyncs(const std::string& source, const std::vector<NewEvent>& events,
                                                long long now_ms) {
  return locked("queue resync events", [&]() H2R_REQUIRES(m_mutex) -> Result<IngestResult> {
    H2R_TRY(check_resync_events(events));
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    IngestResult result;
    auto hq = H2R_TRY(m_db->query("INSERT INTO event_history (event, at_ms, from_state, to_state, actor, reason) "
                                  "SELECT id, ?2, NULL, state, ?3, ?4 FROM events WHERE event_id = ?1"));
    // events_open_by_employee covers (employee_id, ...) WHERE state IN the open states.
    auto q = H2R_TRY(m_db->query(
        "INSERT INTO events (event_id, type, leave_type, employee_id, fields, effective_raw, effective_at_ms, "
        "due_at_ms, source_file, state, reason, attempts, approved, rules_version, result, received_at_ms, "
        "updated_at_ms) SELECT ?1, 'resync', NULL, ?2, ?3, '', ?4, ?5, ?6, ?7, '', 0, 0, '', '', ?8, ?8 "
        "WHERE NOT EXISTS (SELECT 1 FROM events WHERE employee_id = ?2 AND type = 'resync' "
        "  AND state IN ('pending', 'waiting', 'held')) "
        "ON CONFLICT (event_id) DO NOTHING"));
    for (const auto& e : events) {
      nlohmann::json fields = nlohmann::json::object();
      for (const auto& [name, value] : e.event.fields) fields[name] = value ? nlohmann::json(*value) : nlohmann::json();
      q.bind_text(1, e.event.event_id).bind_text(2, e.event.employee_id);
      q.bind_text(3, fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      q.bind_int(4, e.effective_at_ms).bind_int(5, e.due_at_ms).bind_text(6, source);
      q.bind_text(7, to_string(e.state)).bind_int(8, now_ms);
      H2R_TRY(q.run());
      q.reset();
      if (m_db->changes() == 0) {
        result.duplicates.push_back(e.event.event_id);
        continue;
      }
      ++result.inserted;
      H2R_TRY(hq.bind_text(1, e.event.event_id).bind_int(2, now_ms).bind_text(3, m_actor)
                  .bind_text(4, "queued: the rules changed (" + source + ")").run());
      hq.reset();
    }
    H2R_TRY(tx.commit());
    return result;
  });
}

} // namespace h2r
