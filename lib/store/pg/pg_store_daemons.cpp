// PgStore: several daemons on one database — heartbeats, the daemon list, the leader lease and the
// deactivation guard's shared window counter. Each is one statement (or one transaction), so
// concurrent daemons see each other's writes in a consistent order.
#include "store/pg/pg_store_impl.hpp"

namespace h2r {

namespace {

// Windows of the deactivation guard older than this before the one being counted are forgotten.
constexpr long long k_window_keep_ms = 60LL * 60 * 1000;

} // namespace

Result<int> PgStore::heartbeat(const DaemonRow& row, long long now_ms, long long lease_ms) {
  return with_conn(fmt::format("record the heartbeat of daemon {}", row.owner), [&](pg::Conn& c) -> Result<int> {
    if (row.owner.empty()) return fail(ErrorKind::invalid, "a heartbeat needs an owner");
    if (lease_ms <= 0) return fail(ErrorKind::invalid, "a heartbeat needs a lease longer than 0 ms");
    auto tx = H2R_TRY(pg::Tx::begin(c));
    H2R_TRY(c.exec("INSERT INTO daemons (owner, host, pid, version, started_at_ms, heartbeat_at_ms) "
                   "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (owner) DO UPDATE SET heartbeat_at_ms = excluded.heartbeat_at_ms",
                   pg::Params().text(row.owner).text(row.host).integer(row.pid).text(row.version)
                       .integer(row.started_at_ms).integer(now_ms)));
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
        "  EXISTS (SELECT 1 FROM leader AS l WHERE l.owner = d.owner AND l.lease_until_ms > $1) "
        "FROM daemons AS d WHERE d.heartbeat_at_ms > $1::bigint - $2::bigint ORDER BY d.owner COLLATE \"C\"",
        pg::Params().integer(now_ms).integer(stale_ms)));
    std::vector<DaemonRow> rows;
    for (int i = 0; i < r.size(); ++i)
      rows.push_back(DaemonRow{r.text(i, 0), r.text(i, 1), r.integer(i, 2), r.text(i, 3), r.integer(i, 4),
                               r.integer(i, 5), static_cast<int>(r.integer(i, 6)), r.boolean(i, 7)});
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

// One statement: adds `count` to the window only when the sum stays <= max (the conflicting row is
// locked and the sum re-checked on its newest version, so concurrent callers never pass max).
Result<bool> PgStore::reserve_deactivations(long long window_start_ms, int count, int max) {
  return with_conn("count deactivations", [&](pg::Conn& c) -> Result<bool> {
    if (count < 0 || max < 0) return fail(ErrorKind::invalid, "deactivation counts cannot be negative");
    auto tx = H2R_TRY(pg::Tx::begin(c));
    // Old windows go; rows another caller is deleting are skipped, not waited for (no lock-order waits).
    H2R_TRY(c.exec("DELETE FROM deactivation_windows WHERE window_start_ms IN (SELECT window_start_ms "
                   "FROM deactivation_windows WHERE window_start_ms < $1::bigint - $2::bigint FOR UPDATE SKIP LOCKED)",
                   pg::Params().integer(window_start_ms).integer(k_window_keep_ms)));
    auto r = H2R_TRY(c.exec("INSERT INTO deactivation_windows (window_start_ms, count) "
                            "SELECT $1, $2 WHERE $2::integer <= $3::integer "
                            "ON CONFLICT (window_start_ms) DO UPDATE SET count = deactivation_windows.count + excluded.count "
                            "WHERE deactivation_windows.count + excluded.count <= $3 RETURNING count",
                            pg::Params().integer(window_start_ms).integer(count).integer(max)));
    H2R_TRY(tx.commit());
    return !r.empty();
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
