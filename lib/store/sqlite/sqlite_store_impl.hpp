// SqliteStore: the Store on one SQLite connection. Private to lib/store; others use sqlite_store.hpp.
#pragma once

#include "core/mutex.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

#include <fmt/format.h>

namespace h2r {

// One connection's health row: `replace` an existing one (put_connection_health) or insert it new (an
// import); the columns in one place (sqlite_store.cpp). The caller holds the store's mutex.
Result<void> sqlite_write_connection_health(sqlite::Db& db, const ConnectionHealth& health, bool replace);

class SqliteStore final : public Store {
public:
  explicit SqliteStore(std::unique_ptr<sqlite::Db> db) : m_db(std::move(db)) {}

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
  std::vector<Result<void>> record_outcomes(const std::vector<const EventOutcome*>& outcomes,
                                            long long now_ms) override;
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
  Result<std::vector<LinkRow>> links_to_zoom_user(const std::string& connection, const std::string& zoom_user_id,
                                                  const std::string& user_name) override;
  Result<std::string> reserve_user_name(const UserNameClaim& claim) override;
  Result<std::set<std::string>> seen_fields() override;
  Result<std::vector<PlanInputs>> plan_inputs(const std::vector<std::string>& employee_ids,
                                              const std::vector<std::string>& connections) override;

  // Several daemons on one file (sqlite_store_daemons.cpp); shared() stays false: `h2rd run` holds
  // the single-instance lock, but the methods work so two stores on one file act like two daemons.
  Result<int> heartbeat(const DaemonRow& row, long long now_ms, long long lease_ms) override;
  Result<std::vector<DaemonRow>> list_daemons(long long now_ms, long long stale_ms) override;
  Result<void> remove_daemon(const std::string& owner) override;
  Result<bool> try_lead(const std::string& owner, long long now_ms, long long lease_ms) override;
  Result<GuardAnswer> reserve_guard(const GuardRequest& request) override;
  Result<PaceGrant> take_pace_grant(const std::string& connection, long long from_us, long long interval_us,
                                    int count) override;

  Result<std::optional<std::string>> get_meta(const std::string& key) override;
  Result<void> set_meta(const std::string& key, const std::string& value) override;
  Result<std::map<std::string, std::string>> list_meta() override;          // sqlite_store_import.cpp
  Result<std::unique_ptr<ImportBatch>> begin_import() override;

private:
  // Runs `body` under the mutex; an error gets "database FILE: cannot WHAT: " in front.
  template <class Body>
  auto locked(std::string_view what, Body&& body) -> decltype(body()) {
    MutexLock lock(m_mutex);
    auto result = body();
    if (!result) result.error().message = fmt::format("database {}: cannot {}: {}", m_db->path(), what,
                                                      result.error().message);
    return result;
  }

  // Helpers called with the mutex held, inside a transaction where one is needed.
  Result<void> write_employee(const EmployeeRow& row) H2R_REQUIRES(m_mutex);
  // record_outcome's writes (fenced UPDATE, history, employee, links), inside the caller's transaction.
  Result<void> write_outcome(const EventOutcome& outcome, long long now_ms) H2R_REQUIRES(m_mutex);
  // `importing`: h2rd migrate's copy, which keeps the row's `shared` mark on a new row (else never set).
  Result<void> write_link(const LinkRow& row, bool importing = false) H2R_REQUIRES(m_mutex);
  // Runs an UPDATE of events with ?1 = now_ms and ?2 = id (when given); returns the rows changed.
  Result<int> transition(const std::string& sql, long long now_ms, std::optional<long long> id = std::nullopt)
      H2R_REQUIRES(m_mutex);
  // The due query of due_events, run with the mutex held.
  // for_claim: also skip employees with another event claimed under a running lease (due_events lists
  // the head all the same, as the PostgreSQL store does).
  Result<std::vector<EventRow>> select_due(long long now_ms, int limit, bool for_claim) H2R_REQUIRES(m_mutex);
  // Ends the expired claims (id, employee) of employees with an event in `claimed` other than that event.
  Result<void> drop_expired_claims(const std::vector<std::pair<long long, std::string>>& expired,
                                   const std::vector<EventRow>& claimed, long long now_ms) H2R_REQUIRES(m_mutex);
  // A fresh claim token: 16 random bytes (SQLite's generator) in lower-case hex.
  static std::string random_token();
  // After a fenced UPDATE changed no row: not_found when no event has `id`, else conflict "lost claim".
  Result<void> claim_lost(long long id) H2R_REQUIRES(m_mutex);
  // History (sqlite_store_history.cpp): the state of event `id` now ("" when absent), and one row of
  // its history by m_actor; `from` "" means the event arrived.
  Result<std::string> state_of(long long id) H2R_REQUIRES(m_mutex);
  Result<std::vector<long long>> ids_in_state(std::string_view state) H2R_REQUIRES(m_mutex);
  // One transaction: `update_sql` (?1 = now_ms) moves every event in `from` to pending, and each moved
  // event gets a history row with `reason`. Returns how many changed. Run with the mutex held.
  Result<int> move_all_to_pending(std::string_view from, const std::string& update_sql, const std::string& reason,
                                  long long now_ms) H2R_REQUIRES(m_mutex);
  Result<void> write_history(long long id, std::string_view from, std::string_view to, const std::string& reason,
                             long long now_ms) H2R_REQUIRES(m_mutex);

  friend class SqliteImportBatch; // sqlite_store_import.cpp: the same
  friend class SqliteIngestBatch; // sqlite_store_ingest.cpp: holds m_mutex for its lifetime

  Mutex m_mutex;
  std::unique_ptr<sqlite::Db> m_db H2R_PT_GUARDED_BY(m_mutex);
  std::string m_actor H2R_GUARDED_BY(m_mutex) = "h2rd";
};

} // namespace h2r
