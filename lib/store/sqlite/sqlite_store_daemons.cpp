// SqliteStore: the daemons table, the leader lease and the guard's budget (several daemons on one
// database). SQLite serves one `h2rd run` at a time (the instance lock), but two stores on one file
// behave like two daemons, which is how the engine's multi-daemon behaviour is tested.
#include "store/sqlite/sqlite_store_impl.hpp"

#include "store/gone_daemons.hpp"

namespace h2r {

Result<int> SqliteStore::heartbeat(const DaemonRow& row, long long now_ms, long long lease_ms) {
  return locked("record the daemon's heartbeat", [&]() H2R_REQUIRES(m_mutex) -> Result<int> {
    if (row.owner.empty()) return fail(ErrorKind::invalid, "a heartbeat needs an owner");
    if (lease_ms <= 0) return fail(ErrorKind::invalid, "a heartbeat needs a lease longer than 0 ms");
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    {
      auto q = H2R_TRY(m_db->query(
          "INSERT INTO daemons(owner, host, pid, version, started_at_ms, heartbeat_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
          "ON CONFLICT(owner) DO UPDATE SET heartbeat_at_ms = excluded.heartbeat_at_ms"));
      q.bind_text(1, row.owner).bind_text(2, row.host).bind_int(3, row.pid).bind_text(4, row.version);
      H2R_TRY(q.bind_int(5, row.started_at_ms).bind_int(6, now_ms).run());
    }
    {
      auto q = H2R_TRY(m_db->query("DELETE FROM daemons WHERE heartbeat_at_ms < ?1"));
      H2R_TRY(q.bind_int(1, now_ms - k_gone_daemon_kept_ms).run());
    }
    auto q = H2R_TRY(m_db->query("UPDATE events SET lease_until_ms = ?2 WHERE claim_token IS NOT NULL AND claim_owner = ?1"));
    H2R_TRY(q.bind_text(1, row.owner).bind_int(2, now_ms + lease_ms).run());
    const int extended = static_cast<int>(m_db->changes());
    H2R_TRY(tx.commit());
    return extended;
  });
}

Result<std::vector<DaemonRow>> SqliteStore::list_daemons(long long now_ms, long long stale_ms) {
  return locked("list the daemons", [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<DaemonRow>> {
    // The claim count repeats the partial index's WHERE (events_claimed) so SQLite uses it.
    auto q = H2R_TRY(m_db->query(
        "SELECT d.owner, d.host, d.pid, d.version, d.started_at_ms, d.heartbeat_at_ms, "
        "(SELECT COUNT(*) FROM events WHERE claim_token IS NOT NULL AND claim_owner = d.owner), "
        "EXISTS (SELECT 1 FROM leader AS l WHERE l.id = 1 AND l.owner = d.owner AND l.lease_until_ms > ?1), "
        "(SELECT COALESCE(MAX(lease_until_ms), 0) FROM events WHERE claim_token IS NOT NULL AND claim_owner = d.owner) "
        "FROM daemons AS d WHERE d.heartbeat_at_ms > ?1 - ?2 ORDER BY d.owner"));
    q.bind_int(1, now_ms).bind_int(2, stale_ms);
    std::vector<DaemonRow> rows;
    while (H2R_TRY(q.step())) {
      DaemonRow row;
      row.owner = q.text_at(0);
      row.host = q.text_at(1);
      row.pid = q.int_at(2);
      row.version = q.text_at(3);
      row.started_at_ms = q.int_at(4);
      row.heartbeat_at_ms = q.int_at(5);
      row.claims = static_cast<int>(q.int_at(6));
      row.leader = q.int_at(7) != 0;
      row.claims_until_ms = q.int_at(8);
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

Result<void> SqliteStore::remove_daemon(const std::string& owner) {
  return locked("forget the daemon", [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    for (const char* sql : {"DELETE FROM daemons WHERE owner = ?1", "DELETE FROM leader WHERE owner = ?1"}) {
      auto q = H2R_TRY(m_db->query(sql));
      H2R_TRY(q.bind_text(1, owner).run());
    }
    return tx.commit();
  });
}

Result<bool> SqliteStore::try_lead(const std::string& owner, long long now_ms, long long lease_ms) {
  return locked("take the leader lease", [&]() H2R_REQUIRES(m_mutex) -> Result<bool> {
    if (owner.empty()) return fail(ErrorKind::invalid, "the leader lease needs an owner");
    if (lease_ms <= 0) return fail(ErrorKind::invalid, "the leader lease needs a lease longer than 0 ms");
    // One statement: taken when free, renewed by its holder, taken over once it expired.
    auto q = H2R_TRY(m_db->query(
        "INSERT INTO leader(id, owner, lease_until_ms) VALUES (1, ?1, ?3) "
        "ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, lease_until_ms = excluded.lease_until_ms "
        "WHERE leader.owner = excluded.owner OR leader.lease_until_ms <= ?2"));
    H2R_TRY(q.bind_text(1, owner).bind_int(2, now_ms).bind_int(3, now_ms + lease_ms).run());
    return m_db->changes() > 0;
  });
}

Result<GuardAnswer> SqliteStore::reserve_guard(const GuardRequest& request) {
  return locked("reserve the guard's budget", [&]() H2R_REQUIRES(m_mutex) -> Result<GuardAnswer> {
    H2R_TRY(check_guard_request(request));
    // BEGIN IMMEDIATE: another store on the file reads and writes the budget before or after this one.
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    const long long since = request.now_ms - request.per_ms;
    {
      auto q = H2R_TRY(m_db->query("DELETE FROM guard_sets WHERE at_ms < ?1 AND (refused = 0 OR at_ms < ?2)"));
      H2R_TRY(q.bind_int(1, request.now_ms - k_guard_memory_ms).bind_int(2, request.now_ms - k_guard_refusal_memory_ms).run());
    }
    std::optional<GuardSetRow> mine;
    {
      auto q = H2R_TRY(m_db->query("SELECT at_ms, count, refused FROM guard_sets WHERE set_key = ?1 AND (at_ms > ?2 OR refused <> 0)"));
      if (H2R_TRY(q.bind_text(1, request.set).bind_int(2, since).step()))
        mine = GuardSetRow{q.int_at(0), static_cast<int>(q.int_at(1)), q.int_at(2) != 0};
    }
    long long others = 0;
    {
      auto q = H2R_TRY(m_db->query("SELECT coalesce(sum(count), 0) FROM guard_sets WHERE at_ms > ?1 AND set_key <> ?2"));
      if (H2R_TRY(q.bind_int(1, since).bind_text(2, request.set).step())) others = q.int_at(0);
    }
    const GuardDecision d = decide_guard(request, mine, others);
    if (d.write) {
      auto q = H2R_TRY(m_db->query("INSERT INTO guard_sets(set_key, at_ms, count, refused) VALUES (?1, ?2, ?3, ?4) "
                                   "ON CONFLICT(set_key) DO UPDATE SET at_ms = excluded.at_ms, count = excluded.count, "
                                   "refused = excluded.refused"));
      q.bind_text(1, request.set).bind_int(2, d.at_ms).bind_int(3, d.count).bind_int(4, d.answer.granted ? 0 : 1);
      H2R_TRY(q.run());
    }
    H2R_TRY(tx.commit());
    return d.answer;
  });
}

Result<PaceGrant> SqliteStore::take_pace_grant(const std::string& connection, long long from_us, long long interval_us,
                                               int count) {
  return locked("take a pace grant", [&]() H2R_REQUIRES(m_mutex) -> Result<PaceGrant> {
    H2R_TRY(check_pace_request(connection, from_us, interval_us, count));
    // One statement under the write lock: another store on the file sees the schedule before or after it.
    auto q = H2R_TRY(m_db->query("INSERT INTO pace(connection, tat_us) VALUES (?1, ?2 + ?3 * ?4) "
                                 "ON CONFLICT(connection) DO UPDATE SET tat_us = max(pace.tat_us, ?2) + ?3 * ?4 "
                                 "RETURNING tat_us"));
    q.bind_text(1, connection).bind_int(2, from_us).bind_int(3, interval_us).bind_int(4, count);
    if (!H2R_TRY(q.step())) return fail(ErrorKind::transient, "the pace row was not returned");
    const long long tat_us = q.int_at(0);
    H2R_TRY(q.step());   // runs the statement to its end
    return PaceGrant{tat_us - interval_us * count, count, interval_us};
  });
}

} // namespace h2r
