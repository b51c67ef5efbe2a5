// PgStore: several daemons on one database — heartbeats, the daemon list, the leader lease and the
// guard's budget shared by every daemon. Each is one statement (or one transaction), so
// concurrent daemons see each other's writes in a consistent order.
#include "store/pg/pg_store_impl.hpp"

#include "store/gone_daemons.hpp"

namespace h2r {

Result<int> PgStore::heartbeat(const DaemonRow& row, long long now_ms, long long lease_ms) {
  return with_conn(fmt::format("record the heartbeat of daemon {}", row.owner), [&](pg::Conn& c) -> Result<int> {
    if (row.owner.empty()) return fail(ErrorKind::invalid, "a heartbeat needs an owner");
    if (lease_ms <= 0) return fail(ErrorKind::invalid, "a heartbeat needs a lease longer than 0 ms");
    auto tx = H2R_TRY(pg::Tx::begin(c));
    H2R_TRY(c.exec("INSERT INTO daemons (owner, host, pid, version, started_at_ms, heartbeat_at_ms) "
                   "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (owner) DO UPDATE SET heartbeat_at_ms = excluded.heartbeat_at_ms",
                   pg::Params().text(row.owner).text(row.host).integer(row.pid).text(row.version)
                       .integer(row.started_at_ms).integer(now_ms)));
    H2R_TRY(c.exec("DELETE FROM daemons WHERE heartbeat_at_ms < $1::bigint - $2::bigint",
                   pg::Params().integer(now_ms).integer(k_gone_daemon_kept_ms)));
    auto r = H2R_TRY(c.exec("UPDATE events SET lease_until_ms = $2::bigint + $3::bigint "
                            "WHERE claim_owner = $1 AND claim_token <> ''",
                            pg::Params().text(row.owner).integer(now_ms).integer(lease_ms)));
    H2R_TRY(tx.commit());
    return static_cast<int>(r.affected());
  });
}

Result<std::vector<DaemonRow>> PgStore::list_daemons(long long now_ms, long long stale_ms) {
  return with_conn("list the daemons", [&](pg::Conn& c) -> Result<std::vector<DaemonRow>> {
    auto r = H2R_TRY(c.exec(
        "SELECT d.owner, d.host, d.pid, d.version, d.started_at_ms, d.heartbeat_at_ms, "
        "  (SELECT count(*) FROM events AS e WHERE e.claim_owner = d.owner AND e.claim_token <> ''), "
        "  EXISTS (SELECT 1 FROM leader AS l WHERE l.owner = d.owner AND l.lease_until_ms > $1), "
        "  (SELECT COALESCE(max(e.lease_until_ms), 0) FROM events AS e WHERE e.claim_owner = d.owner AND e.claim_token <> '') "
        "FROM daemons AS d WHERE d.heartbeat_at_ms > $1::bigint - $2::bigint ORDER BY d.owner COLLATE \"C\"",
        pg::Params().integer(now_ms).integer(stale_ms)));
    std::vector<DaemonRow> rows;
    for (int i = 0; i < r.size(); ++i)
      rows.push_back(DaemonRow{r.text(i, 0), r.text(i, 1), r.integer(i, 2), r.text(i, 3), r.integer(i, 4),
                               r.integer(i, 5), static_cast<int>(r.integer(i, 6)), r.boolean(i, 7), r.integer(i, 8)});
    return rows;
  });
}

Result<void> PgStore::remove_daemon(const std::string& owner) {
  return with_conn(fmt::format("remove daemon {}", owner), [&](pg::Conn& c) -> Result<void> {
    auto tx = H2R_TRY(pg::Tx::begin(c));
    H2R_TRY(c.exec("DELETE FROM daemons WHERE owner = $1", pg::Params().text(owner)));
    H2R_TRY(c.exec("DELETE FROM leader WHERE owner = $1", pg::Params().text(owner)));
    return tx.commit();
  });
}

// One statement: the insert takes a free lease; on conflict the row is locked and the condition
// re-checked against its newest version, so two contenders never both succeed.
Result<bool> PgStore::try_lead(const std::string& owner, long long now_ms, long long lease_ms) {
  return with_conn("take or renew the leader lease", [&](pg::Conn& c) -> Result<bool> {
    if (owner.empty()) return fail(ErrorKind::invalid, "the leader lease needs an owner");
    if (lease_ms <= 0) return fail(ErrorKind::invalid, "the leader lease needs a length longer than 0 ms");
    auto r = H2R_TRY(c.exec("INSERT INTO leader (singleton, owner, lease_until_ms) VALUES (true, $1, $2::bigint + $3::bigint) "
                            "ON CONFLICT (singleton) DO UPDATE SET owner = excluded.owner, "
                            "  lease_until_ms = excluded.lease_until_ms "
                            "WHERE leader.owner = excluded.owner OR leader.lease_until_ms <= $2 RETURNING owner",
                            pg::Params().text(owner).integer(now_ms).integer(lease_ms)));
    return !r.empty();
  });
}

// The table is locked against other writers for the transaction (readers go on): every daemon's
// decision sees the ones made before it.
Result<GuardAnswer> PgStore::reserve_guard(const GuardRequest& request) {
  return with_conn("reserve the guard's budget", [&](pg::Conn& c) -> Result<GuardAnswer> {
    H2R_TRY(check_guard_request(request));
    auto tx = H2R_TRY(pg::Tx::begin(c));
    H2R_TRY(c.exec("LOCK TABLE guard_sets IN EXCLUSIVE MODE"));
    const long long since = request.now_ms - request.per_ms;
    H2R_TRY(c.exec("DELETE FROM guard_sets WHERE at_ms < $1::bigint AND (NOT refused OR at_ms < $2::bigint)",
                   pg::Params().integer(request.now_ms - k_guard_memory_ms).integer(request.now_ms - k_guard_refusal_memory_ms)));
    std::optional<GuardSetRow> mine;
    auto r = H2R_TRY(c.exec("SELECT at_ms, count, refused FROM guard_sets WHERE set_key = $1 AND (at_ms > $2::bigint OR refused)",
                            pg::Params().text(request.set).integer(since)));
    if (!r.empty()) mine = GuardSetRow{r.integer(0, 0), static_cast<int>(r.integer(0, 1)), r.boolean(0, 2)};
    auto sum = H2R_TRY(c.exec("SELECT coalesce(sum(count), 0)::bigint FROM guard_sets WHERE at_ms > $1::bigint "
                              "AND set_key <> $2",
                              pg::Params().integer(since).text(request.set)));
    const GuardDecision d = decide_guard(request, mine, sum.integer(0, 0));
    if (d.write)
      H2R_TRY(c.exec("INSERT INTO guard_sets (set_key, at_ms, count, refused) VALUES ($1, $2::bigint, $3::integer, $4::boolean) "
                     "ON CONFLICT (set_key) DO UPDATE SET at_ms = excluded.at_ms, count = excluded.count, "
                     "refused = excluded.refused",
                     pg::Params().text(request.set).integer(d.at_ms).integer(d.count).boolean(!d.answer.granted)));
    H2R_TRY(tx.commit());
    return d.answer;
  });
}

// One statement: the row is locked by the upsert and the schedule moved on from its newest value, so
// concurrent daemons get disjoint slots.
Result<PaceGrant> PgStore::take_pace_grant(const std::string& connection, long long from_us, long long interval_us,
                                           int count) {
  return with_conn(fmt::format("take a pace grant for connection {}", connection), [&](pg::Conn& c) -> Result<PaceGrant> {
    H2R_TRY(check_pace_request(connection, from_us, interval_us, count));
    auto r = H2R_TRY(c.exec("INSERT INTO pace (connection, tat_us) VALUES ($1, $2::bigint + $3::bigint * $4::bigint) "
                            "ON CONFLICT (connection) DO UPDATE SET "
                            "  tat_us = greatest(pace.tat_us, $2::bigint) + $3::bigint * $4::bigint RETURNING tat_us",
                            pg::Params().text(connection).integer(from_us).integer(interval_us).integer(count)));
    if (r.empty()) return fail(ErrorKind::transient, "the pace row was not returned");
    return PaceGrant{r.integer(0, 0) - interval_us * count, count, interval_us};
  });
}

} // namespace h2r
