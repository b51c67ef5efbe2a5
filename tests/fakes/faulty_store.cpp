#include "fakes/faulty_store.hpp"

namespace h2r::test {

void FaultyStore::fail(const std::string& method, int times, ErrorKind kind) {
  std::lock_guard lock(m_mutex);
  m_faults[method] = Fault{times, kind};
}

void FaultyStore::heal() {
  std::lock_guard lock(m_mutex);
  m_faults.clear();
}

int FaultyStore::calls(const std::string& method) const {
  std::lock_guard lock(m_mutex);
  auto it = m_calls.find(method);
  return it == m_calls.end() ? 0 : it->second;
}

std::optional<Error> FaultyStore::fault(const char* method) {
  std::lock_guard lock(m_mutex);
  ++m_calls[method];
  auto it = m_faults.find(method);
  if (it == m_faults.end() || it->second.times == 0) return std::nullopt;
  if (it->second.times > 0) --it->second.times;
  return Error{it->second.kind, std::string("injected fault: database is locked (") + method + ")"};
}

// Each method: count, maybe fail, else delegate.
#define H2R_FAULT_POINT(method)                                                                                 \
  if (auto injected = fault(#method)) return unexpected(std::move(*injected))


Result<void> FaultyStore::add_connection(const ConnectionRow& row) {
  H2R_FAULT_POINT(add_connection);
  return m_inner.add_connection(row);
}

Result<void> FaultyStore::update_connection(const ConnectionRow& row) {
  H2R_FAULT_POINT(update_connection);
  return m_inner.update_connection(row);
}

Result<void> FaultyStore::remove_connection(const std::string& name) {
  H2R_FAULT_POINT(remove_connection);
  return m_inner.remove_connection(name);
}

Result<std::optional<ConnectionRow>> FaultyStore::get_connection(const std::string& name) {
  H2R_FAULT_POINT(get_connection);
  return m_inner.get_connection(name);
}

Result<std::vector<ConnectionRow>> FaultyStore::list_connections() {
  H2R_FAULT_POINT(list_connections);
  return m_inner.list_connections();
}

Result<void> FaultyStore::put_connection_health(const ConnectionHealth& health) {
  H2R_FAULT_POINT(put_connection_health);
  return m_inner.put_connection_health(health);
}

Result<std::optional<ConnectionHealth>> FaultyStore::get_connection_health(const std::string& name) {
  H2R_FAULT_POINT(get_connection_health);
  return m_inner.get_connection_health(name);
}

Result<IngestResult> FaultyStore::ingest(const std::string& source_file, const std::vector<NewEvent>& events, long long now_ms) {
  H2R_FAULT_POINT(ingest);
  return m_inner.ingest(source_file, events, now_ms);
}

Result<IngestResult> FaultyStore::queue_resyncs(const std::string& source, const std::vector<NewEvent>& events,
                                              long long now_ms) {
  H2R_FAULT_POINT(queue_resyncs);
  return m_inner.queue_resyncs(source, events, now_ms);
}

Result<std::unique_ptr<IngestBatch>> FaultyStore::begin_ingest(const std::string& source_file, long long now_ms) {
  H2R_FAULT_POINT(begin_ingest);
  return m_inner.begin_ingest(source_file, now_ms);
}

Result<std::vector<EventRow>> FaultyStore::due_events(long long now_ms, int limit) {
  H2R_FAULT_POINT(due_events);
  return m_inner.due_events(now_ms, limit);
}

Result<std::vector<EventRow>> FaultyStore::claim_due_events(const ClaimRequest& request) {
  H2R_FAULT_POINT(claim_due_events);
  {
    std::lock_guard lock(m_limits_mutex);
    m_claim_limits.push_back(request.limit);
  }
  return m_inner.claim_due_events(request);
}

Result<void> FaultyStore::release_claim(long long id, const std::string& claim_token) {
  H2R_FAULT_POINT(release_claim);
  return m_inner.release_claim(id, claim_token);
}

Result<bool> FaultyStore::claim_holds(long long id, const std::string& claim_token) {
  return m_inner.claim_holds(id, claim_token);
}

Result<int> FaultyStore::release_claims(const std::string& owner) {
  H2R_FAULT_POINT(release_claims);
  return m_inner.release_claims(owner);
}

Result<std::optional<long long>> FaultyStore::next_due_at() {
  H2R_FAULT_POINT(next_due_at);
  return m_inner.next_due_at();
}

Result<std::optional<EventRow>> FaultyStore::get_event(long long id) {
  H2R_FAULT_POINT(get_event);
  return m_inner.get_event(id);
}

Result<std::optional<EventRow>> FaultyStore::find_event(const std::string& event_id) {
  H2R_FAULT_POINT(find_event);
  return m_inner.find_event(event_id);
}

Result<std::vector<EventRow>> FaultyStore::list_events(const EventFilter& filter) {
  H2R_FAULT_POINT(list_events);
  return m_inner.list_events(filter);
}

Result<std::map<EventState, long long>> FaultyStore::count_events_by_state() {
  H2R_FAULT_POINT(count_events_by_state);
  return m_inner.count_events_by_state();
}

Result<void> FaultyStore::record_outcome(const EventOutcome& outcome, long long now_ms) {
  H2R_FAULT_POINT(record_outcome);
  return m_inner.record_outcome(outcome, now_ms);
}

Result<void> FaultyStore::hold_event(long long id, const std::string& claim_token, const std::string& reason, long long now_ms) {
  H2R_FAULT_POINT(hold_event);
  return m_inner.hold_event(id, claim_token, reason, now_ms);
}

Result<int> FaultyStore::approve_event(long long id, long long now_ms) {
  H2R_FAULT_POINT(approve_event);
  return m_inner.approve_event(id, now_ms);
}

Result<int> FaultyStore::approve_all_held(long long now_ms) {
  H2R_FAULT_POINT(approve_all_held);
  return m_inner.approve_all_held(now_ms);
}

Result<void> FaultyStore::reject_event(long long id, const std::string& reason, long long now_ms) {
  H2R_FAULT_POINT(reject_event);
  return m_inner.reject_event(id, reason, now_ms);
}

Result<int> FaultyStore::retry_event(long long id, long long now_ms) {
  H2R_FAULT_POINT(retry_event);
  return m_inner.retry_event(id, now_ms);
}

Result<int> FaultyStore::retry_all_failed(long long now_ms) {
  H2R_FAULT_POINT(retry_all_failed);
  return m_inner.retry_all_failed(now_ms);
}

Result<int> FaultyStore::promote_waiting(long long now_ms) {
  H2R_FAULT_POINT(promote_waiting);
  return m_inner.promote_waiting(now_ms);
}

Result<std::vector<long long>> FaultyStore::reschedule_events(const std::vector<EventReschedule>& changes,
                                                              long long now_ms) {
  H2R_FAULT_POINT(reschedule_events);
  return m_inner.reschedule_events(changes, now_ms);
}

Result<std::optional<EmployeeRow>> FaultyStore::get_employee(const std::string& employee_id) {
  H2R_FAULT_POINT(get_employee);
  return m_inner.get_employee(employee_id);
}

Result<void> FaultyStore::put_employee(const EmployeeRow& row) {
  H2R_FAULT_POINT(put_employee);
  return m_inner.put_employee(row);
}

Result<std::vector<EmployeeRow>> FaultyStore::list_employees() {
  H2R_FAULT_POINT(list_employees);
  return m_inner.list_employees();
}

Result<std::optional<LinkRow>> FaultyStore::get_link(const std::string& connection, const std::string& employee_id) {
  H2R_FAULT_POINT(get_link);
  return m_inner.get_link(connection, employee_id);
}

Result<void> FaultyStore::put_link(const LinkRow& row) {
  H2R_FAULT_POINT(put_link);
  return m_inner.put_link(row);
}

Result<std::vector<LinkRow>> FaultyStore::list_links(const std::string& connection) {
  H2R_FAULT_POINT(list_links);
  return m_inner.list_links(connection);
}

Result<std::set<std::string>> FaultyStore::seen_fields() {
  H2R_FAULT_POINT(seen_fields);
  return m_inner.seen_fields();
}

Result<std::optional<std::string>> FaultyStore::get_meta(const std::string& key) {
  H2R_FAULT_POINT(get_meta);
  return m_inner.get_meta(key);
}

Result<void> FaultyStore::set_meta(const std::string& key, const std::string& value) {
  H2R_FAULT_POINT(set_meta);
  return m_inner.set_meta(key, value);
}

Result<std::vector<EventHistoryRow>> FaultyStore::event_history(long long id) {
  H2R_FAULT_POINT(event_history);
  return m_inner.event_history(id);
}

Result<int> FaultyStore::heartbeat(const DaemonRow& row, long long now_ms, long long lease_ms) {
  H2R_FAULT_POINT(heartbeat);
  return m_inner.heartbeat(row, now_ms, lease_ms);
}

Result<std::vector<DaemonRow>> FaultyStore::list_daemons(long long now_ms, long long stale_ms) {
  H2R_FAULT_POINT(list_daemons);
  return m_inner.list_daemons(now_ms, stale_ms);
}

Result<void> FaultyStore::remove_daemon(const std::string& owner) {
  H2R_FAULT_POINT(remove_daemon);
  return m_inner.remove_daemon(owner);
}

Result<bool> FaultyStore::try_lead(const std::string& owner, long long now_ms, long long lease_ms) {
  H2R_FAULT_POINT(try_lead);
  return m_inner.try_lead(owner, now_ms, lease_ms);
}

Result<std::string> FaultyStore::reserve_user_name(const UserNameClaim& claim) {
  H2R_FAULT_POINT(reserve_user_name);
  return m_inner.reserve_user_name(claim);
}

Result<GuardAnswer> FaultyStore::reserve_guard(const GuardRequest& request) {
  H2R_FAULT_POINT(reserve_guard);
  return m_inner.reserve_guard(request);
}

Result<PaceGrant> FaultyStore::take_pace_grant(const std::string& connection, long long from_us, long long interval_us,
                                               int count) {
  H2R_FAULT_POINT(take_pace_grant);
  return m_inner.take_pace_grant(connection, from_us, interval_us, count);
}

} // namespace h2r::test
