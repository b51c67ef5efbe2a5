// FaultyStore: a Store that delegates to a real one (a SqliteStore in tests) and fails chosen methods
// on demand — LevelDB's SpecialEnv for h2r's store. A fault names the method ("get_employee",
// "record_outcome", ...), how many of its next calls fail (or every call) and with which ErrorKind;
// the failing call never reaches the real store. Every call is counted. Thread-safe.
#pragma once

#include "store/store.hpp"

#include <map>
#include <mutex>

namespace h2r::test {

class FaultyStore final : public Store {
public:
  static constexpr int k_always = -1;

  explicit FaultyStore(Store& inner) : m_inner(inner) {}

  // The next `times` calls of `method` fail (k_always: every call until heal) with `kind`.
  void fail(const std::string& method, int times = k_always, ErrorKind kind = ErrorKind::transient);
  void heal();
  // Calls of `method` so far, failed ones included.
  int calls(const std::string& method) const;

  Result<void> add_connection(const ConnectionRow& row) override;
  Result<void> update_connection(const ConnectionRow& row) override;
  Result<void> remove_connection(const std::string& name) override;
  Result<std::optional<ConnectionRow>> get_connection(const std::string& name) override;
  Result<std::vector<ConnectionRow>> list_connections() override;
  Result<void> put_connection_health(const ConnectionHealth& health) override;
  Result<std::optional<ConnectionHealth>> get_connection_health(const std::string& name) override;

  Result<IngestResult> ingest(const std::string& source_file, const std::vector<NewEvent>& events,
                              long long now_ms) override;
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

  Result<std::optional<EmployeeRow>> get_employee(const std::string& employee_id) override;
  Result<void> put_employee(const EmployeeRow& row) override;
  Result<std::vector<EmployeeRow>> list_employees() override;
  Result<std::optional<LinkRow>> get_link(const std::string& connection, const std::string& employee_id) override;
  Result<void> put_link(const LinkRow& row) override;
  Result<std::vector<LinkRow>> list_links(const std::string& connection) override;
  Result<std::set<std::string>> seen_fields() override;

  Result<std::optional<std::string>> get_meta(const std::string& key) override;
  Result<void> set_meta(const std::string& key, const std::string& value) override;

  // set_shared(true): the store says several daemons use it (as PostgreSQL does).
  bool shared() const override { return m_shared || m_inner.shared(); }
  void set_shared(bool shared) { m_shared = shared; }
  // The `limit` of every claim_due_events call so far, in order.
  std::vector<int> claim_limits() const {
    std::lock_guard lock(m_limits_mutex);
    return m_claim_limits;
  }
  Result<int> heartbeat(const DaemonRow& row, long long now_ms, long long lease_ms) override;
  Result<std::vector<DaemonRow>> list_daemons(long long now_ms, long long stale_ms) override;
  Result<void> remove_daemon(const std::string& owner) override;
  Result<bool> try_lead(const std::string& owner, long long now_ms, long long lease_ms) override;
  Result<GuardAnswer> reserve_guard(const GuardRequest& request) override;
  Result<std::string> reserve_user_name(const UserNameClaim& claim) override;
  Result<PaceGrant> take_pace_grant(const std::string& connection, long long from_us, long long interval_us,
                                    int count) override;

  void set_actor(const std::string& actor) override { m_inner.set_actor(actor); }
  Result<std::vector<EventHistoryRow>> event_history(long long id) override;
  Result<std::vector<HourlyOutcomes>> outcomes_by_hour(long long since_ms) override {
    return m_inner.outcomes_by_hour(since_ms);
  }
  Result<void> note_event(long long id, const std::string& reason, long long now_ms) override {
    return m_inner.note_event(id, reason, now_ms);
  }

private:
  mutable std::mutex m_limits_mutex;
  std::vector<int> m_claim_limits;
  struct Fault {
    int times = 0;
    ErrorKind kind = ErrorKind::transient;
  };
  // Counts the call; the error to return when a fault is armed for `method`.
  std::optional<Error> fault(const char* method);

  Store& m_inner;
  bool m_shared = false;
  mutable std::mutex m_mutex;
  std::map<std::string, Fault> m_faults;
  std::map<std::string, int> m_calls;
};

} // namespace h2r::test
