// PgStore: the Store on PostgreSQL through a small pool of libpq connections. Private to lib/store;
// others use pg_store.hpp. Every method takes one connection from the pool for its duration (one
// transaction where it writes more than one row); an IngestBatch keeps its own until it ends.
#pragma once

#include "core/mutex.hpp"
#include "store/pg/pg_db.hpp"
#include "store/pg/pg_store.hpp"

#include <fmt/format.h>


namespace h2r {

// Event columns in the order pg::read_event reads them.
inline constexpr const char* k_pg_event_columns =
    "id, event_id, type, leave_type, employee_id, fields, effective_raw, effective_at_ms, due_at_ms, "
    "source_file, state, reason, attempts, approved, rules_version, result, received_at_ms, updated_at_ms, "
    "claim_owner, claim_token, claimed_at_ms, lease_until_ms, rescued_from, rescues";
Result<EventRow> pg_read_event(const pg::Rows& rows, int row);
Result<std::vector<EventRow>> pg_read_events(const pg::Rows& rows);
// One connection's health row: `replace` an existing one (put_connection_health) or insert it new
// (an import); the columns in one place (pg_store_rows.cpp).
Result<pg::Rows> pg_write_connection_health(pg::Conn& conn, const ConnectionHealth& health, bool replace);

namespace pg {
// pg_migrations.cpp: brings the schema of `conn` (search_path already set) to `target` (-1 = latest).
Result<void> migrate(Conn& conn, int target = -1);
int schema_version();
} // namespace pg

class PgStore final : public Store {
public:
  PgStore(PgOptions options, std::string conninfo, std::string password, std::string label)
      : m_options(std::move(options)), m_conninfo(std::move(conninfo)), m_password(std::move(password)),
        m_label(std::move(label)) {}

  // A connection from the pool; back to it on destruction unless broken.
  class Lease {
  public:
    Lease(PgStore& store, std::unique_ptr<pg::Conn> conn) : m_store(&store), m_conn(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() { if (m_conn) m_store->give_back(std::move(m_conn)); }
    pg::Conn& operator*() const { return *m_conn; }
    pg::Conn* operator->() const { return m_conn.get(); }

  private:
    PgStore* m_store;
    std::unique_ptr<pg::Conn> m_conn;
  };
  Result<Lease> acquire();
  // A new connection with the search_path set.
  Result<std::unique_ptr<pg::Conn>> connect();
  const std::string& label() const { return m_label; }
  // Only before the store is shared between threads (open_pg_store).
  void set_label(std::string label) { m_label = std::move(label); }
  std::string actor() const;

  Result<void> add_connection(const ConnectionRow& row) override;
  Result<void> update_connection(const ConnectionRow& row) override;
  Result<void> remove_connection(const std::string& name) override;
  Result<std::optional<ConnectionRow>> get_connection(const std::string& name) override;
  Result<std::vector<ConnectionRow>> list_connections() override;
  Result<void> put_connection_health(const ConnectionHealth& health) override;
  Result<std::optional<ConnectionHealth>> get_connection_health(const std::string& name) override;

  Result<IngestResult> queue_resyncs(const std::string& source, const std::vector<NewEvent>& events,
                                     long long now_ms) override;
  Result<std::unique_ptr<IngestBatch>> begin_ingest(const std::string& source_file, long long now_ms) override;
  Result<std::vector<EventRow>> due_events(long long now_ms, int limit) override;
  Result<std::vector<EventRow>> claim_due_events(const ClaimRequest& request) override;
  Result<void> release_claim(long long id, const std::string& claim_token) override;
  Result<int> release_claims(const std::string& owner) override;
  Result<bool> claim_holds(long long id, const std::string& claim_token) override;
  Result<std::optional<long long>> next_due_at() override;
  Result<std::optional<EventRow>> get_event(long long id) override;
  Result<std::optional<EventRow>> find_event(const std::string& event_id) override;
  Result<std::vector<EventRow>> list_events(const EventFilter& filter) override;
  Result<std::map<EventState, long long>> count_events_by_state() override;
  Result<void> record_outcome(const EventOutcome& outcome, long long now_ms) override;
  Result<void> hold_event(long long id, const std::string& claim_token, const std::string& reason,
                          long long now_ms) override;
  Result<int> approve_event(long long id, long long now_ms) override;
  Result<int> approve_all_held(long long now_ms) override;
  Result<void> reject_event(long long id, const std::string& reason, long long now_ms) override;
  Result<int> retry_event(long long id, long long now_ms) override;
  Result<int> retry_all_failed(long long now_ms) override;
  Result<int> promote_waiting(long long now_ms) override;
  Result<std::vector<long long>> reschedule_events(const std::vector<EventReschedule>& changes,
                                                   long long now_ms) override;
  void set_actor(const std::string& actor) override;
  Result<std::vector<EventHistoryRow>> event_history(long long id) override;
  Result<std::vector<HourlyOutcomes>> outcomes_by_hour(long long since_ms) override;
  Result<void> note_event(long long id, const std::string& reason, long long now_ms) override;

  Result<std::optional<EmployeeRow>> get_employee(const std::string& employee_id) override;
  Result<void> put_employee(const EmployeeRow& row) override;
  Result<std::vector<EmployeeRow>> list_employees() override;
  Result<std::optional<LinkRow>> get_link(const std::string& connection, const std::string& employee_id) override;
  Result<void> put_link(const LinkRow& row) override;
  Result<std::vector<LinkRow>> list_links(const std::string& connection) override;
  Result<std::vector<PlanInputs>> plan_inputs(const std::vector<std::string>& employee_ids,
                                              const std::vector<std::string>& connections) override;
  Result<std::vector<LinkRow>> links_to_zoom_user(const std::string& connection, const std::string& zoom_user_id,
                                                  const std::string& user_name) override;
  Result<std::string> reserve_user_name(const UserNameClaim& claim) override;
  Result<std::set<std::string>> seen_fields() override;

  bool shared() const override { return true; }
  Result<int> heartbeat(const DaemonRow& row, long long now_ms, long long lease_ms) override;
  Result<std::vector<DaemonRow>> list_daemons(long long now_ms, long long stale_ms) override;
  Result<void> remove_daemon(const std::string& owner) override;
  Result<bool> try_lead(const std::string& owner, long long now_ms, long long lease_ms) override;
  Result<GuardAnswer> reserve_guard(const GuardRequest& request) override;
  Result<PaceGrant> take_pace_grant(const std::string& connection, long long from_us, long long interval_us,
                                    int count) override;

  Result<std::optional<std::string>> get_meta(const std::string& key) override;
  Result<void> set_meta(const std::string& key, const std::string& value) override;
  Result<std::map<std::string, std::string>> list_meta() override;          // pg_store_import.cpp
  Result<std::unique_ptr<ImportBatch>> begin_import() override;

private:
  friend class Lease;
  friend class PgImportBatch;   // pg_store_import.cpp: write_employee, write_link on its connection
  void give_back(std::unique_ptr<pg::Conn> conn);

  // Runs `body(conn)` on a pooled connection; an error gets "postgresql SERVER: cannot WHAT: " in front.
  template <class Body>
  auto with_conn(std::string_view what, Body&& body) -> decltype(body(std::declval<pg::Conn&>())) {
    using R = decltype(body(std::declval<pg::Conn&>()));
    auto annotate = [&](R result) {
      if (!result) result.error().message = fmt::format("{}: cannot {}: {}", m_label, what, result.error().message);
      return result;
    };
    auto lease = acquire();
    if (!lease) return annotate(R(unexpected(std::move(lease).error())));
    return annotate(body(**lease));
  }

  // Helpers that run on the caller's connection, inside its transaction.
  Result<void> write_employee(pg::Conn& conn, const EmployeeRow& row);
  // `importing`: h2rd migrate's copy, which keeps the row's `shared` mark on a new row (else never set).
  Result<void> write_link(pg::Conn& conn, const LinkRow& row, bool importing = false);
  Result<void> write_history(pg::Conn& conn, long long id, std::string_view from, std::string_view to,
                             const std::string& reason, long long now_ms);
  // The state of event `id`, its row locked until the transaction ends ("" when absent).
  Result<std::string> lock_state(pg::Conn& conn, long long id);
  // After a fenced UPDATE changed no row: not_found when no event has `id`, else conflict "lost claim".
  Result<void> claim_lost(pg::Conn& conn, long long id);
  Result<std::vector<EventRow>> select_due(pg::Conn& conn, long long now_ms, int limit);
  Result<std::vector<EventRow>> claim_once(pg::Conn& conn, const ClaimRequest& request);
  // One transaction: every event in `from` moves to pending (`set_sql` is the SET list, $1 = now_ms),
  // each with a history row. Returns how many moved.
  Result<int> move_all_to_pending(pg::Conn& conn, std::string_view from, const std::string& set_sql,
                                  const std::string& reason, long long now_ms);

  PgOptions m_options;
  std::string m_conninfo;
  std::string m_password;
  std::string m_label;   // "postgresql host H port P database D" (never a password); fixed once open

  mutable Mutex m_mutex;
  CondVar m_freed;
  std::vector<std::unique_ptr<pg::Conn>> m_idle H2R_GUARDED_BY(m_mutex);
  int m_open H2R_GUARDED_BY(m_mutex) = 0;              // connections out or idle
  std::string m_actor H2R_GUARDED_BY(m_mutex) = "h2rd";
};

} // namespace h2r
