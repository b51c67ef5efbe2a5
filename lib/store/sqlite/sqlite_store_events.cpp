// SqliteStore: the event queue.
#include "store/sqlite/sqlite_store_impl.hpp"

#include "store/flat_json.hpp"

#include <nlohmann/json.hpp>

#include <array>

namespace h2r {

namespace {

constexpr const char* k_event_columns =
    "id, event_id, type, leave_type, employee_id, fields, effective_raw, effective_at_ms, due_at_ms, "
    "source_file, state, reason, attempts, approved, rules_version, result, received_at_ms, updated_at_ms, "
    "claim_owner, claim_token, claimed_at_ms, lease_until_ms, rescues";

// An operator's transition clears the claim: it wins over an outcome in flight (which then finds its
// claim lost and writes nothing).
#define H2R_SQL_NO_CLAIM "claim_owner = NULL, claim_token = NULL, lease_until_ms = 0"

// A rejected event's employee gives up the logins it holds where no Zoom user is linked to it: a
// rejected hire leaves no one who would ever use (or release) it (Store::reject_event). ?1: the event.
constexpr const char* k_release_unlinked_names =
    "DELETE FROM user_names WHERE employee_id = (SELECT employee_id FROM events WHERE id = ?1) AND NOT EXISTS "
    "(SELECT 1 FROM links WHERE links.connection = user_names.connection AND links.employee_id = user_names.employee_id)";

Result<EventRow> read_event(const sqlite::Query& q) {
  EventRow row;
  row.id = q.int_at(0);
  auto damaged = [&](std::string_view column) {
    return fail(ErrorKind::permanent, fmt::format("event {} has a damaged {} column", row.id, column));
  };
  row.event_id = q.text_at(1);
  auto type = parse_event_type(q.text_at(2));
  if (!type) return damaged("type");
  row.type = *type;
  if (!q.is_null(3)) {
    row.leave_type = parse_leave_type(q.text_at(3));
    if (!row.leave_type) return damaged("leave_type");
  }
  row.employee_id = q.text_at(4);
  if (!parse_flat_object(q.text_view(5), row.fields)) return damaged("fields");
  row.effective_raw = q.text_at(6);
  row.effective_at_ms = q.int_at(7);
  row.due_at_ms = q.int_at(8);
  row.source_file = q.text_at(9);
  auto state = parse_event_state(q.text_at(10));
  if (!state) return damaged("state");
  row.state = *state;
  row.reason = q.text_at(11);
  row.attempts = static_cast<int>(q.int_at(12));
  row.approved = q.int_at(13) != 0;
  row.rules_version = q.text_at(14);
  row.result = q.text_at(15);
  row.received_at_ms = q.int_at(16);
  row.updated_at_ms = q.int_at(17);
  row.claim_owner = q.is_null(18) ? "" : q.text_at(18);
  row.claim_token = q.is_null(19) ? "" : q.text_at(19);
  row.claimed_at_ms = q.int_at(20);
  row.lease_until_ms = q.int_at(21);
  row.rescues = static_cast<int>(q.int_at(22));
  return row;
}

Result<std::vector<EventRow>> read_events(sqlite::Query& q) {
  std::vector<EventRow> rows;
  while (H2R_TRY(q.step())) rows.push_back(H2R_TRY(read_event(q)));
  return rows;
}

} // namespace

Result<std::vector<EventRow>> SqliteStore::select_due(long long now_ms, int limit, bool for_claim) {
  // INDEXED BY: without ANALYZE statistics the planner prefers events_by_state and then sorts every
  // open event; events_due yields rows already in (due_at_ms, id) order, so LIMIT stops the scan
  // early. The partial-index WHERE clauses are repeated verbatim, as SQLite requires to use them
  // (events_open_by_employee's as ORed comparisons: schema version 8).
  // A claimed earlier event is still pending, so it blocks its employee's later events.
  auto q = H2R_TRY(m_db->query(fmt::format(
      "SELECT {} FROM events AS e INDEXED BY events_due "
      "WHERE e.state IN ('pending', 'waiting') AND e.due_at_ms <= ?1 "
      "AND (e.claim_token IS NULL OR e.lease_until_ms <= ?1) "
      "AND NOT EXISTS (SELECT 1 FROM events AS p INDEXED BY events_open_by_employee "
      "  WHERE (p.state = 'pending' OR p.state = 'waiting' OR p.state = 'held') AND p.employee_id = e.employee_id "
      "  AND (p.effective_at_ms, p.id) < (e.effective_at_ms, e.id)) "
      // Nor while another event of the employee is claimed under a running lease: one that arrived with
      // an earlier effective date after a later one was claimed waits for that claim to end.
      "{}"
      "ORDER BY e.due_at_ms, e.id LIMIT ?2",
      k_event_columns,
      for_claim ? "AND NOT EXISTS (SELECT 1 FROM events AS c INDEXED BY events_open_by_employee "
                  "  WHERE (c.state = 'pending' OR c.state = 'waiting' OR c.state = 'held') AND c.employee_id = e.employee_id "
                  "  AND c.id <> e.id AND c.claim_token IS NOT NULL AND c.lease_until_ms > ?1) "
                : "")));
  q.bind_int(1, now_ms).bind_int(2, limit);
  return read_events(q);
}

Result<std::vector<EventRow>> SqliteStore::due_events(long long now_ms, int limit) {
  return locked("list the due events", [&]() H2R_REQUIRES(m_mutex) { return select_due(now_ms, limit, false); });
}

Result<void> SqliteStore::claim_lost(long long id) {
  auto q = H2R_TRY(m_db->query("SELECT state, claim_owner FROM events WHERE id = ?1"));
  if (!H2R_TRY(q.bind_int(1, id).step())) return fail(ErrorKind::not_found, "no event has that id");
  const std::string owner = q.is_null(1) ? "" : q.text_at(1);
  return fail(ErrorKind::conflict,
              fmt::format("lost claim: the event is now {}{} (an operator's reject, approve or retry, or another "
                          "claimer, came first); nothing written",
                          q.text_at(0), owner.empty() ? "" : ", claimed by " + owner));
}

Result<void> SqliteStore::release_claim(long long id, const std::string& claim_token) {
  return locked(fmt::format("release the claim on event {}", id), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto q = H2R_TRY(m_db->query("UPDATE events SET claim_owner = NULL, claim_token = NULL, lease_until_ms = 0 "
                                 "WHERE id = ?1 AND claim_token = ?2"));
    H2R_TRY(q.bind_int(1, id).bind_text(2, claim_token).run());
    if (m_db->changes() == 0) return claim_lost(id);
    return {};
  });
}

Result<bool> SqliteStore::claim_holds(long long id, const std::string& claim_token) {
  return locked(fmt::format("check the claim on event {}", id), [&]() H2R_REQUIRES(m_mutex) -> Result<bool> {
    auto q = H2R_TRY(m_db->query("SELECT 1 FROM events WHERE id = ?1 AND claim_token = ?2 "
                                 "AND state IN ('pending', 'waiting')"));
    q.bind_int(1, id).bind_text(2, claim_token);
    const bool held = H2R_TRY(q.step());
    q.reset();
    return held;
  });
}

Result<int> SqliteStore::release_claims(const std::string& owner) {
  return locked("release the claims", [&]() H2R_REQUIRES(m_mutex) -> Result<int> {
    auto q = H2R_TRY(m_db->query("UPDATE events SET claim_owner = NULL, claim_token = NULL, lease_until_ms = 0 "
                                 "WHERE claim_token IS NOT NULL AND (?1 = '' OR claim_owner = ?1)"));
    H2R_TRY(q.bind_text(1, owner).run());
    return static_cast<int>(m_db->changes());
  });
}

Result<std::optional<long long>> SqliteStore::next_due_at() {
  return locked("find the next due event", [&]() H2R_REQUIRES(m_mutex) -> Result<std::optional<long long>> {
    auto q = H2R_TRY(m_db->query("SELECT MIN(due_at_ms) FROM events INDEXED BY events_due "
                                 "WHERE state IN ('pending', 'waiting')"));
    if (!H2R_TRY(q.step()) || q.is_null(0)) return std::optional<long long>();
    return std::optional<long long>(q.int_at(0));
  });
}

Result<std::optional<EventRow>> SqliteStore::get_event(long long id) {
  return locked(fmt::format("read event {}", id), [&]() H2R_REQUIRES(m_mutex) -> Result<std::optional<EventRow>> {
    auto q = H2R_TRY(m_db->query(fmt::format("SELECT {} FROM events WHERE id = ?1", k_event_columns)));
    if (!H2R_TRY(q.bind_int(1, id).step())) return std::optional<EventRow>();
    return std::optional<EventRow>(H2R_TRY(read_event(q)));
  });
}

Result<std::optional<EventRow>> SqliteStore::find_event(const std::string& event_id) {
  return locked(fmt::format("find event {}", event_id), [&]() H2R_REQUIRES(m_mutex) -> Result<std::optional<EventRow>> {
    auto q = H2R_TRY(m_db->query(fmt::format("SELECT {} FROM events WHERE event_id = ?1", k_event_columns)));
    if (!H2R_TRY(q.bind_text(1, event_id).step())) return std::optional<EventRow>();
    return std::optional<EventRow>(H2R_TRY(read_event(q)));
  });
}

Result<std::vector<EventRow>> SqliteStore::list_events(const EventFilter& filter) {
  return locked("list events", [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<EventRow>> {
    std::string where = "1";
    if (filter.state) where += " AND state = ?1";
    if (filter.employee_id) where += " AND employee_id = ?2";
    if (filter.type) where += " AND type = ?4";
    if (filter.effective_from_ms) where += " AND effective_at_ms >= ?5";
    if (filter.effective_before_ms) where += " AND effective_at_ms < ?6";
    if (filter.before_id) where += " AND id < ?8";
    if (filter.source_file)
      where += " AND (source_file = ?7 OR (length(source_file) > length(?7) AND "
               "substr(source_file, length(source_file) - length(?7)) = '/' || ?7))";
    auto q = H2R_TRY(m_db->query(
        fmt::format("SELECT {} FROM events WHERE {} ORDER BY id DESC LIMIT ?3", k_event_columns, where)));
    if (filter.state) q.bind_text(1, to_string(*filter.state));
    if (filter.employee_id) q.bind_text(2, *filter.employee_id);
    if (filter.type) q.bind_text(4, to_string(*filter.type));
    if (filter.effective_from_ms) q.bind_int(5, *filter.effective_from_ms);
    if (filter.effective_before_ms) q.bind_int(6, *filter.effective_before_ms);
    if (filter.source_file) q.bind_text(7, *filter.source_file);
    if (filter.before_id) q.bind_int(8, *filter.before_id);
    q.bind_int(3, filter.limit);
    return read_events(q);
  });
}

Result<std::map<EventState, long long>> SqliteStore::count_events_by_state() {
  return locked("count events", [&]() H2R_REQUIRES(m_mutex) -> Result<std::map<EventState, long long>> {
    auto q = H2R_TRY(m_db->query("SELECT state, COUNT(*) FROM events GROUP BY state"));
    std::map<EventState, long long> counts;
    while (H2R_TRY(q.step())) {
      auto state = parse_event_state(q.text_at(0));
      if (!state) return fail(ErrorKind::permanent, fmt::format("an event has the unknown state '{}'", q.text_at(0)));
      counts[*state] = q.int_at(1);
    }
    return counts;
  });
}

Result<void> SqliteStore::write_outcome(const EventOutcome& outcome, long long now_ms) {
  const std::string from = H2R_TRY(state_of(outcome.id));
  {
    auto q = H2R_TRY(m_db->query(
        "UPDATE events SET state = ?2, reason = ?3, rules_version = ?4, result = ?5, attempts = ?6, "
        "due_at_ms = CASE WHEN ?2 IN ('pending', 'waiting') THEN ?7 ELSE due_at_ms END, updated_at_ms = ?8, "
        "claim_owner = NULL, claim_token = NULL, lease_until_ms = 0, rescues = 0 "
        "WHERE id = ?1 AND claim_token = ?9 AND state IN ('pending', 'waiting')"));
    q.bind_int(1, outcome.id).bind_text(2, to_string(outcome.state)).bind_text(3, outcome.reason);
    q.bind_text(4, outcome.rules_version).bind_text(5, outcome.result).bind_int(6, outcome.attempts);
    q.bind_int(7, outcome.next_attempt_at_ms).bind_int(8, now_ms).bind_text(9, outcome.claim_token);
    H2R_TRY(q.run());
    if (m_db->changes() == 0) return claim_lost(outcome.id);
  }
  H2R_TRY(write_history(outcome.id, from, to_string(outcome.state), outcome.reason, now_ms));
  if (outcome.employee) H2R_TRY(write_employee(*outcome.employee));
  for (const auto& link : outcome.links_upsert) H2R_TRY(write_link(link));
  for (const auto& [connection, employee_id] : outcome.links_remove) {
    auto q = H2R_TRY(m_db->query("DELETE FROM links WHERE connection = ?1 AND employee_id = ?2"));
    H2R_TRY(q.bind_text(1, connection).bind_text(2, employee_id).run());
    auto name = H2R_TRY(m_db->query("DELETE FROM user_names WHERE connection = ?1 AND employee_id = ?2"));
    H2R_TRY(name.bind_text(1, connection).bind_text(2, employee_id).run());
  }
  return {};
}

Result<void> SqliteStore::record_outcome(const EventOutcome& outcome, long long now_ms) {
  return locked(fmt::format("record the outcome of event {}", outcome.id), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    H2R_TRY(write_outcome(outcome, now_ms));
    return tx.commit();
  });
}

std::vector<Result<void>> SqliteStore::record_outcomes(const std::vector<const EventOutcome*>& outcomes,
                                                       long long now_ms) {
  // One transaction for the batch (one commit instead of one per event); each outcome in a savepoint of
  // its own, so one refused (lost claim, or a link's conflict) leaves nothing of itself and the others go on.
  std::vector<Result<void>> results;
  results.reserve(outcomes.size());
  auto statement = [this](const char* sql) H2R_REQUIRES(m_mutex) -> Result<void> {
    auto q = H2R_TRY(m_db->query(sql));
    return q.run();
  };
  auto all = locked(fmt::format("record the outcomes of {} events", outcomes.size()), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    for (const EventOutcome* outcome : outcomes) {
      H2R_TRY(statement("SAVEPOINT outcome"));
      auto written = write_outcome(*outcome, now_ms);
      if (!written) {
        H2R_TRY(statement("ROLLBACK TO outcome"));
        if (written.error().kind != ErrorKind::conflict && written.error().kind != ErrorKind::not_found)
          return unexpected(std::move(written).error());
        written.error().message = fmt::format("database {}: cannot record the outcome of event {}: {}", m_db->path(),
                                              outcome->id, written.error().message);
      }
      H2R_TRY(statement("RELEASE outcome"));
      results.push_back(std::move(written));
    }
    return tx.commit();
  });
  if (!all) {   // nothing of the batch was written
    results.clear();
    for (std::size_t i = 0; i < outcomes.size(); ++i) results.push_back(unexpected(all.error()));
  }
  return results;
}

Result<int> SqliteStore::transition(const std::string& sql, long long now_ms, std::optional<long long> id) {
  auto q = H2R_TRY(m_db->query(sql));
  q.bind_int(1, now_ms);
  if (id) q.bind_int(2, *id);
  H2R_TRY(q.run());
  return static_cast<int>(m_db->changes());
}

Result<void> SqliteStore::hold_event(long long id, const std::string& claim_token, const std::string& reason,
                                     long long now_ms) {
  return locked(fmt::format("hold event {}", id), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    const std::string from = H2R_TRY(state_of(id));
    auto q = H2R_TRY(m_db->query("UPDATE events SET state = 'held', reason = ?3, updated_at_ms = ?2, "
                                 "claim_owner = NULL, claim_token = NULL, lease_until_ms = 0 "
                                 "WHERE id = ?1 AND claim_token = ?4 AND state IN ('pending', 'waiting')"));
    H2R_TRY(q.bind_int(1, id).bind_int(2, now_ms).bind_text(3, reason).bind_text(4, claim_token).run());
    if (m_db->changes() == 0) return claim_lost(id);
    H2R_TRY(write_history(id, from, "held", reason, now_ms));
    return tx.commit();
  });
}

Result<int> SqliteStore::approve_event(long long id, long long now_ms) {
  return locked(fmt::format("approve event {}", id), [&]() H2R_REQUIRES(m_mutex) -> Result<int> {
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    int changed = H2R_TRY(transition("UPDATE events SET state = 'pending', approved = 1, reason = '', "
                                     "due_at_ms = ?1, updated_at_ms = ?1, " H2R_SQL_NO_CLAIM " WHERE id = ?2 AND state = 'held'",
                                     now_ms, id));
    if (changed == 0) return fail(ErrorKind::not_found, "no held event has that id");
    H2R_TRY(write_history(id, "held", "pending", "approved", now_ms));
    H2R_TRY(tx.commit());
    return changed;
  });
}

Result<int> SqliteStore::approve_all_held(long long now_ms) {
  return locked("approve the held events", [&]() H2R_REQUIRES(m_mutex) {
    return move_all_to_pending("held",
                               "UPDATE events SET state = 'pending', approved = 1, reason = '', due_at_ms = ?1, "
                               "updated_at_ms = ?1, " H2R_SQL_NO_CLAIM " WHERE state = 'held'",
                               "approved (all held events)", now_ms);
  });
}

Result<void> SqliteStore::reject_event(long long id, const std::string& reason, long long now_ms) {
  return locked(fmt::format("reject event {}", id), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    const std::string from = H2R_TRY(state_of(id));
    auto q = H2R_TRY(m_db->query("UPDATE events SET state = 'rejected', reason = ?3, updated_at_ms = ?2, " H2R_SQL_NO_CLAIM
                                 " WHERE id = ?1 AND state IN ('pending', 'waiting', 'held')"));
    H2R_TRY(q.bind_int(1, id).bind_int(2, now_ms).bind_text(3, reason).run());
    if (m_db->changes() == 0) return fail(ErrorKind::not_found, "no pending, waiting or held event has that id");
    H2R_TRY(write_history(id, from, "rejected", reason, now_ms));
    {   // the logins the employee holds where no Zoom user is linked to it are given up (Store::reject_event)
      auto release = H2R_TRY(m_db->query(k_release_unlinked_names));
      H2R_TRY(release.bind_int(1, id).run());
    }
    return tx.commit();
  });
}

Result<int> SqliteStore::retry_event(long long id, long long now_ms) {
  return locked(fmt::format("retry event {}", id), [&]() H2R_REQUIRES(m_mutex) -> Result<int> {
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    int changed = H2R_TRY(transition("UPDATE events SET state = 'pending', attempts = 0, reason = '', "
                                     "due_at_ms = ?1, updated_at_ms = ?1, " H2R_SQL_NO_CLAIM " WHERE id = ?2 AND state = 'failed'",
                                     now_ms, id));
    if (changed > 0) {
      H2R_TRY(write_history(id, "failed", "pending", "retry", now_ms));
      H2R_TRY(tx.commit());
      return changed;
    }
    // A pending event waiting out its backoff after a transient error, not in flight: due now.
    changed = H2R_TRY(transition("UPDATE events SET due_at_ms = ?1, updated_at_ms = ?1 WHERE id = ?2 AND "
                                 "state = 'pending' AND attempts > 0 AND due_at_ms > ?1 AND claim_token IS NULL",
                                 now_ms, id));
    if (changed > 0) {
      H2R_TRY(write_history(id, "pending", "pending", "retry now", now_ms));
      H2R_TRY(tx.commit());
      return changed;
    }
    auto q = H2R_TRY(m_db->query("SELECT 1 FROM events WHERE id = ?1"));
    if (!H2R_TRY(q.bind_int(1, id).step())) return fail(ErrorKind::not_found, "no event has that id");
    return 0;
  });
}

Result<int> SqliteStore::retry_all_failed(long long now_ms) {
  return locked("retry the failed events", [&]() H2R_REQUIRES(m_mutex) {
    return move_all_to_pending("failed",
                               "UPDATE events SET state = 'pending', attempts = 0, reason = '', due_at_ms = ?1, "
                               "updated_at_ms = ?1, " H2R_SQL_NO_CLAIM " WHERE state = 'failed'",
                               "retry (all failed events)", now_ms);
  });
}

Result<int> SqliteStore::move_all_to_pending(std::string_view from, const std::string& update_sql,
                                             const std::string& reason, long long now_ms) {
  auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
  const auto ids = H2R_TRY(ids_in_state(from));
  const int changed = H2R_TRY(transition(update_sql, now_ms));
  for (long long id : ids) H2R_TRY(write_history(id, from, "pending", reason, now_ms));
  H2R_TRY(tx.commit());
  return changed;
}

Result<int> SqliteStore::promote_waiting(long long now_ms) {
  return locked("promote the waiting events", [&]() H2R_REQUIRES(m_mutex) -> Result<int> {
    // The ids for the history, read inside the write transaction (another process may change events);
    // most cycles find none and take no write lock.
    auto due_waiting = [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<long long>> {
      auto q = H2R_TRY(m_db->query("SELECT id FROM events WHERE state IN ('pending', 'waiting') "
                                   "AND state = 'waiting' AND due_at_ms <= ?1"));
      q.bind_int(1, now_ms);
      std::vector<long long> found;
      while (H2R_TRY(q.step())) found.push_back(q.int_at(0));
      return found;
    };
    if (H2R_TRY(due_waiting()).empty()) return 0;
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    const auto ids = H2R_TRY(due_waiting());
    int changed = H2R_TRY(transition("UPDATE events SET state = 'pending', updated_at_ms = ?1 "
                                     "WHERE state IN ('pending', 'waiting') AND state = 'waiting' AND due_at_ms <= ?1",
                                     now_ms));
    for (long long id : ids) H2R_TRY(write_history(id, "waiting", "pending", "due", now_ms));
    H2R_TRY(tx.commit());
    return changed;
  });
}

Result<std::vector<long long>> SqliteStore::reschedule_events(const std::vector<EventReschedule>& changes,
                                                              long long now_ms) {
  return locked("reschedule the waiting events", [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<long long>> {
    std::vector<long long> changed;
    if (changes.empty()) return changed;
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    for (const auto& c : changes) {
      auto q = H2R_TRY(m_db->query("UPDATE events SET effective_at_ms = ?2, due_at_ms = ?3, state = ?4, updated_at_ms = ?5 "
                                   "WHERE id = ?1 AND state = 'waiting' AND claim_token IS NULL "
                                   "AND (effective_at_ms <> ?2 OR due_at_ms <> ?3)"));
      q.bind_int(1, c.id).bind_int(2, c.effective_at_ms).bind_int(3, c.due_at_ms);
      q.bind_text(4, std::string(to_string(c.state))).bind_int(5, now_ms);
      H2R_TRY(q.run());
      if (m_db->changes() == 0) continue;
      H2R_TRY(write_history(c.id, "waiting", to_string(c.state), c.reason, now_ms));
      changed.push_back(c.id);
    }
    H2R_TRY(tx.commit());
    return changed;
  });
}

} // namespace h2r
