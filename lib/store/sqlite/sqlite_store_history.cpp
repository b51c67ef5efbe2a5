// SqliteStore: each event's history of state changes (table event_history, schema version 3).
#include "store/sqlite/sqlite_store_impl.hpp"

namespace h2r {

void SqliteStore::set_actor(const std::string& actor) {
  MutexLock lock(m_mutex);
  m_actor = actor;
}

Result<std::string> SqliteStore::state_of(long long id) {
  auto q = H2R_TRY(m_db->query("SELECT state FROM events WHERE id = ?1"));
  if (!H2R_TRY(q.bind_int(1, id).step())) return std::string();
  return q.text_at(0);
}

Result<std::vector<long long>> SqliteStore::ids_in_state(std::string_view state) {
  auto q = H2R_TRY(m_db->query("SELECT id FROM events WHERE state = ?1 ORDER BY id"));
  q.bind_text(1, state);
  std::vector<long long> ids;
  while (H2R_TRY(q.step())) ids.push_back(q.int_at(0));
  return ids;
}

Result<void> SqliteStore::note_event(long long id, const std::string& reason, long long now_ms) {
  return locked(fmt::format("note on event {}", id), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    const std::string state = H2R_TRY(state_of(id));
    if (state.empty()) return fail(ErrorKind::not_found, "no event has that id");
    H2R_TRY(write_history(id, state, state, reason, now_ms));
    return tx.commit();
  });
}

Result<void> SqliteStore::write_history(long long id, std::string_view from, std::string_view to,
                                        const std::string& reason, long long now_ms) {
  auto q = H2R_TRY(m_db->query("INSERT INTO event_history (event, at_ms, from_state, to_state, actor, reason) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  q.bind_int(1, id).bind_int(2, now_ms);
  if (from.empty()) q.bind_null(3);
  else q.bind_text(3, from);
  q.bind_text(4, to).bind_text(5, m_actor).bind_text(6, reason);
  return q.run();
}

Result<std::vector<HourlyOutcomes>> SqliteStore::outcomes_by_hour(long long since_ms) {
  return locked("count the outcomes by hour", [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<HourlyOutcomes>> {
    auto q = H2R_TRY(m_db->query(fmt::format(k_outcomes_by_hour_sql, "?1")));
    q.bind_int(1, since_ms);
    std::vector<HourlyOutcomes> rows;
    while (H2R_TRY(q.step())) {
      auto state = parse_event_state(q.text_at(1));
      if (!state) return fail(ErrorKind::permanent, "a history row has a damaged state");
      rows.push_back({q.int_at(0), *state, q.int_at(2)});
    }
    return rows;
  });
}

Result<std::vector<EventHistoryRow>> SqliteStore::event_history(long long id) {
  return locked(fmt::format("read the history of event {}", id), [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<EventHistoryRow>> {
    auto q = H2R_TRY(m_db->query("SELECT at_ms, from_state, to_state, actor, reason FROM event_history "
                                 "WHERE event = ?1 ORDER BY seq"));
    q.bind_int(1, id);
    std::vector<EventHistoryRow> rows;
    while (H2R_TRY(q.step())) {
      EventHistoryRow row;
      row.event = id;
      row.at_ms = q.int_at(0);
      if (!q.is_null(1)) {
        row.from = parse_event_state(q.text_at(1));
        if (!row.from) return fail(ErrorKind::permanent, fmt::format("event {} has a damaged history row", id));
      }
      auto to = parse_event_state(q.text_at(2));
      if (!to) return fail(ErrorKind::permanent, fmt::format("event {} has a damaged history row", id));
      row.to = *to;
      row.actor = q.text_at(3);
      row.reason = q.text_at(4);
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

} // namespace h2r
