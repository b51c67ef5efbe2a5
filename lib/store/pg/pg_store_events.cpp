// PgStore: the event queue — due events, claims, outcomes, the operator's transitions and history.
#include "store/pg/pg_store_impl.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace h2r {

namespace {

// An operator's transition clears the claim: it wins over an outcome in flight.
#define H2R_PG_NO_CLAIM "claim_owner = '', claim_token = '', lease_until_ms = 0"

// As SQLite's k_release_unlinked_names (sqlite_store_events.cpp). $1: the event.
constexpr const char* k_release_unlinked_names_pg =
    "DELETE FROM user_names WHERE employee_id = (SELECT employee_id FROM events WHERE id = $1) AND NOT EXISTS "
    "(SELECT 1 FROM links WHERE links.connection = user_names.connection AND links.employee_id = user_names.employee_id)";

// An employee's earlier open event (by effective_at_ms, then id) blocks its later ones.
#define H2R_PG_NO_EARLIER_OPEN                                                                              \
  "NOT EXISTS (SELECT 1 FROM events AS p WHERE p.employee_id = e.employee_id "                             \
  "AND p.state IN ('pending', 'waiting', 'held') AND (p.effective_at_ms, p.id) < (e.effective_at_ms, e.id))"

// How often a claim whose statement hit the one-claim-per-employee index (a race with another
// claimer) is tried again before it returns what it has (nothing): never an error.
constexpr int k_claim_attempts = 3;

// A LIMIT parameter: a negative limit means none, as SQLite's LIMIT -1 does.
pg::Params& limit_param(pg::Params& params, int limit) {
  return limit < 0 ? params.null() : params.integer(limit);
}

} // namespace

Result<EventRow> pg_read_event(const pg::Rows& r, int i) {
  EventRow row;
  row.id = r.integer(i, 0);
  auto damaged = [&](std::string_view column) {
    return fail(ErrorKind::permanent, fmt::format("event {} has a damaged {} column", row.id, column));
  };
  row.event_id = r.text(i, 1);
  auto type = parse_event_type(r.text(i, 2));
  if (!type) return damaged("type");
  row.type = *type;
  if (!r.is_null(i, 3)) {
    row.leave_type = parse_leave_type(r.text(i, 3));
    if (!row.leave_type) return damaged("leave_type");
  }
  row.employee_id = r.text(i, 4);
  auto fields = nlohmann::json::parse(r.text(i, 5), nullptr, false);
  if (!fields.is_object()) return damaged("fields");
  for (const auto& [name, value] : fields.items()) {
    if (value.is_null()) row.fields[name] = std::nullopt;
    else if (value.is_string()) row.fields[name] = value.get<std::string>();
    else return damaged("fields");
  }
  row.effective_raw = r.text(i, 6);
  row.effective_at_ms = r.integer(i, 7);
  row.due_at_ms = r.integer(i, 8);
  row.source_file = r.text(i, 9);
  auto state = parse_event_state(r.text(i, 10));
  if (!state) return damaged("state");
  row.state = *state;
  row.reason = r.text(i, 11);
  row.attempts = static_cast<int>(r.integer(i, 12));
  row.approved = r.boolean(i, 13);
  row.rules_version = r.text(i, 14);
  row.result = r.text(i, 15);
  row.received_at_ms = r.integer(i, 16);
  row.updated_at_ms = r.integer(i, 17);
  row.claim_owner = r.text(i, 18);
  row.claim_token = r.text(i, 19);
  row.claimed_at_ms = r.integer(i, 20);
  row.lease_until_ms = r.integer(i, 21);
  row.rescued_from = r.text(i, 22);
  row.rescues = static_cast<int>(r.integer(i, 23));
  return row;
}

Result<std::vector<EventRow>> pg_read_events(const pg::Rows& r) {
  std::vector<EventRow> rows;
  for (int i = 0; i < r.size(); ++i) rows.push_back(H2R_TRY(pg_read_event(r, i)));
  return rows;
}

Result<std::vector<EventRow>> PgStore::select_due(pg::Conn& c, long long now_ms, int limit) {
  auto r = H2R_TRY(c.exec(fmt::format("SELECT {} FROM events AS e WHERE e.state IN ('pending', 'waiting') "
                                      "AND e.due_at_ms <= $1 AND (e.claim_token = '' OR e.lease_until_ms <= $1) "
                                      "AND " H2R_PG_NO_EARLIER_OPEN " ORDER BY e.due_at_ms, e.id LIMIT $2",
                                      k_pg_event_columns),
                          limit_param(pg::Params().integer(now_ms), limit)));
  return pg_read_events(r);
}

Result<std::vector<EventRow>> PgStore::due_events(long long now_ms, int limit) {
  return with_conn("list the due events", [&](pg::Conn& c) { return select_due(c, now_ms, limit); });
}

// One transaction. First, an expired claim on an event that is not its employee's head (an earlier
// event arrived after it was claimed) is cleared: nobody can take it over, and it would block the
// head. Then one statement picks the due heads (a CTE, so the LIMIT bounds the rows locked; SKIP
// LOCKED passes over rows another claimer or writer holds) and claims them. Under READ COMMITTED a row
// another transaction changed meanwhile is re-checked against its newest version (state, due, claim
// and lease), so a row claimed and committed by someone else is not taken; the per-employee check
// reads the statement's snapshot, and the unique index on claimed employees catches what it misses.
Result<std::vector<EventRow>> PgStore::claim_once(pg::Conn& c, const ClaimRequest& request) {
  auto tx = H2R_TRY(pg::Tx::begin(c));
  H2R_TRY(c.exec("UPDATE events AS e SET " H2R_PG_NO_CLAIM " WHERE e.claim_token <> '' AND e.lease_until_ms <= $1 "
                 "AND NOT " H2R_PG_NO_EARLIER_OPEN,
                 pg::Params().integer(request.now_ms)));
  auto r = H2R_TRY(c.exec(
      fmt::format(
          "WITH due AS (SELECT e.id FROM events AS e WHERE e.state IN ('pending', 'waiting') AND e.due_at_ms <= $1 "
          "  AND (e.claim_token = '' OR e.lease_until_ms <= $1) AND " H2R_PG_NO_EARLIER_OPEN
          "  AND NOT EXISTS (SELECT 1 FROM events AS c WHERE c.employee_id = e.employee_id AND c.claim_token <> '' "
          "    AND c.id <> e.id) "
          "  ORDER BY e.due_at_ms, e.id LIMIT $2 FOR UPDATE OF e SKIP LOCKED) "
          "UPDATE events AS e SET claim_owner = $3, claim_token = replace(gen_random_uuid()::text, '-', ''), "
          "  claimed_at_ms = $1, lease_until_ms = $1::bigint + $4::bigint, "
          "  rescued_from = CASE WHEN e.claim_token <> '' THEN e.claim_owner ELSE '' END, "
          "  rescues = e.rescues + CASE WHEN e.claim_token <> '' THEN 1 ELSE 0 END "
          "FROM due WHERE e.id = due.id RETURNING {}",
          [] {
            std::string cols;
            for (std::string_view rest = k_pg_event_columns; !rest.empty();) {
              auto comma = rest.find(',');
              auto col = rest.substr(0, comma);
              while (col.starts_with(' ')) col.remove_prefix(1);
              cols += fmt::format("{}e.{}", cols.empty() ? "" : ", ", col);
              rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            }
            return cols;
          }()),
      limit_param(pg::Params().integer(request.now_ms), request.limit).text(request.owner).integer(request.lease_ms)));
  auto rows = H2R_TRY(pg_read_events(r));
  H2R_TRY(tx.commit());
  std::sort(rows.begin(), rows.end(), [](const EventRow& a, const EventRow& b) {
    return std::pair(a.due_at_ms, a.id) < std::pair(b.due_at_ms, b.id);
  });
  return rows;
}

Result<std::vector<EventRow>> PgStore::claim_due_events(const ClaimRequest& request) {
  return with_conn("claim the due events", [&](pg::Conn& c) -> Result<std::vector<EventRow>> {
    if (request.owner.empty()) return fail(ErrorKind::invalid, "a claim needs an owner");
    if (request.lease_ms <= 0) return fail(ErrorKind::invalid, "a claim needs a lease longer than 0 ms");
    if (request.limit == 0) return std::vector<EventRow>();
    for (int attempt = 1;; ++attempt) {
      auto claimed = claim_once(c, request);
      if (claimed || claimed.error().kind != ErrorKind::conflict) return claimed;
      if (attempt == k_claim_attempts) return std::vector<EventRow>(); // others hold them: fewer events
    }
  });
}

Result<void> PgStore::claim_lost(pg::Conn& c, long long id) {
  auto r = H2R_TRY(c.exec("SELECT state, claim_owner FROM events WHERE id = $1", pg::Params().integer(id)));
  if (r.empty()) return fail(ErrorKind::not_found, "no event has that id");
  const std::string owner = r.text(0, 1);
  return fail(ErrorKind::conflict,
              fmt::format("lost claim: the event is now {}{} (an operator's reject, approve or retry, or another "
                          "claimer, came first); nothing written",
                          r.text(0, 0), owner.empty() ? "" : ", claimed by " + owner));
}

Result<void> PgStore::release_claim(long long id, const std::string& claim_token) {
  return with_conn(fmt::format("release the claim on event {}", id), [&](pg::Conn& c) -> Result<void> {
    auto r = H2R_TRY(c.exec("UPDATE events SET " H2R_PG_NO_CLAIM " WHERE id = $1 AND claim_token = $2 AND claim_token <> ''",
                            pg::Params().integer(id).text(claim_token)));
    if (r.affected() == 0) return claim_lost(c, id);
    return {};
  });
}

Result<bool> PgStore::claim_holds(long long id, const std::string& claim_token) {
  return with_conn(fmt::format("check the claim on event {}", id), [&](pg::Conn& c) -> Result<bool> {
    auto r = H2R_TRY(c.exec("SELECT 1 FROM events WHERE id = $1 AND claim_token = $2 AND claim_token <> '' "
                            "AND state IN ('pending', 'waiting')",
                            pg::Params().integer(id).text(claim_token)));
    return !r.empty();
  });
}

Result<int> PgStore::release_claims(const std::string& owner) {
  return with_conn("release the claims", [&](pg::Conn& c) -> Result<int> {
    auto r = H2R_TRY(c.exec("UPDATE events SET " H2R_PG_NO_CLAIM " WHERE claim_token <> '' AND ($1 = '' OR claim_owner = $1)",
                            pg::Params().text(owner)));
    return static_cast<int>(r.affected());
  });
}

Result<std::optional<long long>> PgStore::next_due_at() {
  return with_conn("find the next due event", [&](pg::Conn& c) -> Result<std::optional<long long>> {
    auto r = H2R_TRY(c.exec("SELECT min(due_at_ms) FROM events WHERE state IN ('pending', 'waiting')"));
    if (r.empty() || r.is_null(0, 0)) return std::optional<long long>();
    return std::optional<long long>(r.integer(0, 0));
  });
}

Result<std::optional<EventRow>> PgStore::get_event(long long id) {
  return with_conn(fmt::format("read event {}", id), [&](pg::Conn& c) -> Result<std::optional<EventRow>> {
    auto r = H2R_TRY(c.exec(fmt::format("SELECT {} FROM events WHERE id = $1", k_pg_event_columns), pg::Params().integer(id)));
    if (r.empty()) return std::optional<EventRow>();
    return std::optional<EventRow>(H2R_TRY(pg_read_event(r, 0)));
  });
}

Result<std::optional<EventRow>> PgStore::find_event(const std::string& event_id) {
  return with_conn(fmt::format("find event {}", event_id), [&](pg::Conn& c) -> Result<std::optional<EventRow>> {
    auto r = H2R_TRY(c.exec(fmt::format("SELECT {} FROM events WHERE event_id = $1", k_pg_event_columns),
                            pg::Params().text(event_id)));
    if (r.empty()) return std::optional<EventRow>();
    return std::optional<EventRow>(H2R_TRY(pg_read_event(r, 0)));
  });
}

Result<std::vector<EventRow>> PgStore::list_events(const EventFilter& filter) {
  return with_conn("list events", [&](pg::Conn& c) -> Result<std::vector<EventRow>> {
    std::string where = "true";
    pg::Params params;
    auto next = [&] { return fmt::format("${}", params.size()); }; // the parameter just added
    if (filter.state) where += " AND state = " + (params.text(to_string(*filter.state)), next());
    if (filter.employee_id) where += " AND employee_id = " + (params.text(*filter.employee_id), next());
    if (filter.type) where += " AND type = " + (params.text(to_string(*filter.type)), next());
    if (filter.effective_from_ms) where += " AND effective_at_ms >= " + (params.integer(*filter.effective_from_ms), next());
    if (filter.effective_before_ms) where += " AND effective_at_ms < " + (params.integer(*filter.effective_before_ms), next());
    if (filter.source_file) {
      const std::string p = (params.text(*filter.source_file), next());
      where += fmt::format(" AND (source_file = {0} OR (length(source_file) > length({0}) AND "
                           "right(source_file, length({0}) + 1) = '/' || {0}))", p);
    }
    if (filter.before_id) where += " AND id < " + (params.integer(*filter.before_id), next());
    const std::string limit = (limit_param(params, filter.limit), next());
    auto r = H2R_TRY(c.exec(fmt::format("SELECT {} FROM events WHERE {} ORDER BY id DESC LIMIT {}", k_pg_event_columns,
                                        where, limit),
                            params));
    return pg_read_events(r);
  });
}

Result<std::map<EventState, long long>> PgStore::count_events_by_state() {
  return with_conn("count events", [&](pg::Conn& c) -> Result<std::map<EventState, long long>> {
    auto r = H2R_TRY(c.exec("SELECT state, count(*) FROM events GROUP BY state"));
    std::map<EventState, long long> counts;
    for (int i = 0; i < r.size(); ++i) {
      auto state = parse_event_state(r.text(i, 0));
      if (!state) return fail(ErrorKind::permanent, fmt::format("an event has the unknown state '{}'", r.text(i, 0)));
      counts[*state] = r.integer(i, 1);
    }
    return counts;
  });
}

Result<std::string> PgStore::lock_state(pg::Conn& c, long long id) {
  auto r = H2R_TRY(c.exec("SELECT state FROM events WHERE id = $1 FOR UPDATE", pg::Params().integer(id)));
  return r.empty() ? std::string() : r.text(0, 0);
}

Result<void> PgStore::write_history(pg::Conn& c, long long id, std::string_view from, std::string_view to,
                                    const std::string& reason, long long now_ms) {
  pg::Params params;
  params.integer(id).integer(now_ms);
  if (from.empty()) params.null();
  else params.text(from);
  params.text(to).text(actor()).text(reason);
  H2R_TRY(c.exec("INSERT INTO event_history (event, at_ms, from_state, to_state, actor, reason) "
                 "VALUES ($1, $2, $3, $4, $5, $6)", params));
  return {};
}

Result<void> PgStore::record_outcome(const EventOutcome& o, long long now_ms) {
  return with_conn(fmt::format("record the outcome of event {}", o.id), [&](pg::Conn& c) -> Result<void> {
    auto tx = H2R_TRY(pg::Tx::begin(c));
    const std::string from = H2R_TRY(lock_state(c, o.id));
    auto r = H2R_TRY(c.exec(
        "UPDATE events SET state = $2, reason = $3, rules_version = $4, result = $5, attempts = $6, "
        "due_at_ms = CASE WHEN $2 IN ('pending', 'waiting') THEN $7::bigint ELSE due_at_ms END, updated_at_ms = $8, "
        "rescues = 0, " H2R_PG_NO_CLAIM
        " WHERE id = $1 AND claim_token = $9 AND claim_token <> '' AND state IN ('pending', 'waiting')",
        pg::Params().integer(o.id).text(to_string(o.state)).text(o.reason).text(o.rules_version).text(o.result)
            .integer(o.attempts).integer(o.next_attempt_at_ms).integer(now_ms).text(o.claim_token)));
    if (r.affected() == 0) return claim_lost(c, o.id);
    H2R_TRY(write_history(c, o.id, from, to_string(o.state), o.reason, now_ms));
    if (o.employee) H2R_TRY(write_employee(c, *o.employee));
    for (const auto& link : o.links_upsert) H2R_TRY(write_link(c, link));
    for (const auto& [connection, employee_id] : o.links_remove)
    {
      H2R_TRY(c.exec("DELETE FROM links WHERE connection = $1 AND employee_id = $2",
                     pg::Params().text(connection).text(employee_id)));
      H2R_TRY(c.exec("DELETE FROM user_names WHERE connection = $1 AND employee_id = $2",
                     pg::Params().text(connection).text(employee_id)));
    }
    return tx.commit();
  });
}

Result<void> PgStore::hold_event(long long id, const std::string& claim_token, const std::string& reason,
                                 long long now_ms) {
  return with_conn(fmt::format("hold event {}", id), [&](pg::Conn& c) -> Result<void> {
    auto tx = H2R_TRY(pg::Tx::begin(c));
    const std::string from = H2R_TRY(lock_state(c, id));
    auto r = H2R_TRY(c.exec("UPDATE events SET state = 'held', reason = $3, updated_at_ms = $2, " H2R_PG_NO_CLAIM
                            " WHERE id = $1 AND claim_token = $4 AND claim_token <> '' AND state IN ('pending', 'waiting')",
                            pg::Params().integer(id).integer(now_ms).text(reason).text(claim_token)));
    if (r.affected() == 0) return claim_lost(c, id);
    H2R_TRY(write_history(c, id, from, "held", reason, now_ms));
    return tx.commit();
  });
}

Result<int> PgStore::approve_event(long long id, long long now_ms) {
  return with_conn(fmt::format("approve event {}", id), [&](pg::Conn& c) -> Result<int> {
    auto tx = H2R_TRY(pg::Tx::begin(c));
    auto r = H2R_TRY(c.exec("UPDATE events SET state = 'pending', approved = true, reason = '', due_at_ms = $1, "
                            "updated_at_ms = $1, " H2R_PG_NO_CLAIM " WHERE id = $2 AND state = 'held'",
                            pg::Params().integer(now_ms).integer(id)));
    if (r.affected() == 0) return fail(ErrorKind::not_found, "no held event has that id");
    H2R_TRY(write_history(c, id, "held", "pending", "approved", now_ms));
    H2R_TRY(tx.commit());
    return static_cast<int>(r.affected());
  });
}

Result<int> PgStore::move_all_to_pending(pg::Conn& c, std::string_view from, const std::string& set_sql,
                                         const std::string& reason, long long now_ms) {
  // One statement: the moved rows and their history rows commit together.
  auto r = H2R_TRY(c.exec("WITH moved AS (UPDATE events SET " + set_sql + " WHERE state = $2 RETURNING id) "
                          "INSERT INTO event_history (event, at_ms, from_state, to_state, actor, reason) "
                          "SELECT id, $1, $2, 'pending', $3, $4 FROM moved ORDER BY id",
                          pg::Params().integer(now_ms).text(from).text(actor()).text(reason)));
  return static_cast<int>(r.affected());
}

Result<int> PgStore::approve_all_held(long long now_ms) {
  return with_conn("approve the held events", [&](pg::Conn& c) {
    return move_all_to_pending(c, "held", "state = 'pending', approved = true, reason = '', due_at_ms = $1, "
                               "updated_at_ms = $1, " H2R_PG_NO_CLAIM, "approved (all held events)", now_ms);
  });
}

Result<void> PgStore::reject_event(long long id, const std::string& reason, long long now_ms) {
  return with_conn(fmt::format("reject event {}", id), [&](pg::Conn& c) -> Result<void> {
    auto tx = H2R_TRY(pg::Tx::begin(c));
    const std::string from = H2R_TRY(lock_state(c, id));
    auto r = H2R_TRY(c.exec("UPDATE events SET state = 'rejected', reason = $3, updated_at_ms = $2, " H2R_PG_NO_CLAIM
                            " WHERE id = $1 AND state IN ('pending', 'waiting', 'held')",
                            pg::Params().integer(id).integer(now_ms).text(reason)));
    if (r.affected() == 0) return fail(ErrorKind::not_found, "no pending, waiting or held event has that id");
    H2R_TRY(write_history(c, id, from, "rejected", reason, now_ms));
    // The logins the employee holds where no Zoom user is linked to it are given up (Store::reject_event).
    H2R_TRY(c.exec(k_release_unlinked_names_pg, pg::Params().integer(id)));
    return tx.commit();
  });
}

Result<int> PgStore::retry_event(long long id, long long now_ms) {
  return with_conn(fmt::format("retry event {}", id), [&](pg::Conn& c) -> Result<int> {
    auto tx = H2R_TRY(pg::Tx::begin(c));
    auto r = H2R_TRY(c.exec("UPDATE events SET state = 'pending', attempts = 0, reason = '', due_at_ms = $1, "
                            "updated_at_ms = $1, " H2R_PG_NO_CLAIM " WHERE id = $2 AND state = 'failed'",
                            pg::Params().integer(now_ms).integer(id)));
    if (r.affected() > 0) {
      H2R_TRY(write_history(c, id, "failed", "pending", "retry", now_ms));
      H2R_TRY(tx.commit());
      return static_cast<int>(r.affected());
    }
    // A pending event waiting out its backoff after a transient error, not in flight: due now.
    auto soon = H2R_TRY(c.exec("UPDATE events SET due_at_ms = $1, updated_at_ms = $1 WHERE id = $2 AND "
                               "state = 'pending' AND attempts > 0 AND due_at_ms > $1 AND claim_token = ''",
                               pg::Params().integer(now_ms).integer(id)));
    if (soon.affected() > 0) {
      H2R_TRY(write_history(c, id, "pending", "pending", "retry now", now_ms));
      H2R_TRY(tx.commit());
      return static_cast<int>(soon.affected());
    }
    auto exists = H2R_TRY(c.exec("SELECT 1 FROM events WHERE id = $1", pg::Params().integer(id)));
    if (exists.empty()) return fail(ErrorKind::not_found, "no event has that id");
    return 0;
  });
}

Result<int> PgStore::retry_all_failed(long long now_ms) {
  return with_conn("retry the failed events", [&](pg::Conn& c) {
    return move_all_to_pending(c, "failed", "state = 'pending', attempts = 0, reason = '', due_at_ms = $1, "
                               "updated_at_ms = $1, " H2R_PG_NO_CLAIM, "retry (all failed events)", now_ms);
  });
}

Result<int> PgStore::promote_waiting(long long now_ms) {
  return with_conn("promote the waiting events", [&](pg::Conn& c) -> Result<int> {
    auto r = H2R_TRY(c.exec("WITH moved AS (UPDATE events SET state = 'pending', updated_at_ms = $1 "
                            "  WHERE state = 'waiting' AND due_at_ms <= $1 RETURNING id) "
                            "INSERT INTO event_history (event, at_ms, from_state, to_state, actor, reason) "
                            "SELECT id, $1, 'waiting', 'pending', $2, 'due' FROM moved ORDER BY id",
                            pg::Params().integer(now_ms).text(actor())));
    return static_cast<int>(r.affected());
  });
}

Result<void> PgStore::note_event(long long id, const std::string& reason, long long now_ms) {
  return with_conn(fmt::format("note on event {}", id), [&](pg::Conn& c) -> Result<void> {
    auto tx = H2R_TRY(pg::Tx::begin(c));
    const std::string state = H2R_TRY(lock_state(c, id));
    if (state.empty()) return fail(ErrorKind::not_found, "no event has that id");
    H2R_TRY(write_history(c, id, state, state, reason, now_ms));
    return tx.commit();
  });
}

Result<std::vector<HourlyOutcomes>> PgStore::outcomes_by_hour(long long since_ms) {
  return with_conn("count the outcomes by hour", [&](pg::Conn& c) -> Result<std::vector<HourlyOutcomes>> {
    auto r = H2R_TRY(c.exec(fmt::format(k_outcomes_by_hour_sql, "$1"), pg::Params().integer(since_ms)));
    std::vector<HourlyOutcomes> rows;
    for (int i = 0; i < r.size(); ++i) {
      auto state = parse_event_state(r.text(i, 1));
      if (!state) return fail(ErrorKind::permanent, "a history row has a damaged state");
      rows.push_back({r.integer(i, 0), *state, r.integer(i, 2)});
    }
    return rows;
  });
}

Result<std::vector<EventHistoryRow>> PgStore::event_history(long long id) {
  return with_conn(fmt::format("read the history of event {}", id), [&](pg::Conn& c) -> Result<std::vector<EventHistoryRow>> {
    auto r = H2R_TRY(c.exec("SELECT at_ms, from_state, to_state, actor, reason FROM event_history WHERE event = $1 "
                            "ORDER BY seq", pg::Params().integer(id)));
    std::vector<EventHistoryRow> rows;
    for (int i = 0; i < r.size(); ++i) {
      EventHistoryRow row;
      row.event = id;
      row.at_ms = r.integer(i, 0);
      if (!r.is_null(i, 1)) {
        row.from = parse_event_state(r.text(i, 1));
        if (!row.from) return fail(ErrorKind::permanent, fmt::format("event {} has a damaged history row", id));
      }
      auto to = parse_event_state(r.text(i, 2));
      if (!to) return fail(ErrorKind::permanent, fmt::format("event {} has a damaged history row", id));
      row.to = *to;
      row.actor = r.text(i, 3);
      row.reason = r.text(i, 4);
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

Result<std::vector<long long>> PgStore::reschedule_events(const std::vector<EventReschedule>& changes,
                                                          long long now_ms) {
  return with_conn("reschedule the waiting events", [&](pg::Conn& c) -> Result<std::vector<long long>> {
    std::vector<long long> changed;
    if (changes.empty()) return changed;
    auto tx = H2R_TRY(pg::Tx::begin(c));
    for (const auto& change : changes) {
      auto r = H2R_TRY(c.exec("UPDATE events SET effective_at_ms = $2, due_at_ms = $3, state = $4, updated_at_ms = $5 "
                              "WHERE id = $1 AND state = 'waiting' AND claim_token = '' "
                              "AND (effective_at_ms <> $2 OR due_at_ms <> $3)",
                              pg::Params().integer(change.id).integer(change.effective_at_ms).integer(change.due_at_ms)
                                  .text(to_string(change.state)).integer(now_ms)));
      if (r.affected() == 0) continue;
      H2R_TRY(write_history(c, change.id, "waiting", to_string(change.state), change.reason, now_ms));
      changed.push_back(change.id);
    }
    H2R_TRY(tx.commit());
    return changed;
  });
}

} // namespace h2r
