#include "store/store.hpp"

#include "core/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace h2r {

std::string_view to_string(PauseKind kind) {
  switch (kind) {
  case PauseKind::none: return "";
  case PauseKind::daily_limit: return "daily_limit";
  case PauseKind::circuit_open: return "circuit_open";
  case PauseKind::unhealthy: return "unhealthy";
  }
  return "";
}

PauseKind parse_pause_kind(std::string_view text) {
  for (auto k : {PauseKind::daily_limit, PauseKind::circuit_open, PauseKind::unhealthy})
    if (to_string(k) == text) return k;
  return PauseKind::none;
}

std::string_view to_string(EventState state) {
  switch (state) {
  case EventState::pending: return "pending";
  case EventState::waiting: return "waiting";
  case EventState::done: return "done";
  case EventState::skipped: return "skipped";
  case EventState::failed: return "failed";
  case EventState::held: return "held";
  case EventState::rejected: return "rejected";
  case EventState::superseded: return "superseded";
  }
  return "unknown";
}

std::optional<EventState> parse_event_state(std::string_view text) {
  for (auto s : k_event_states)
    if (to_string(s) == text) return s;
  return std::nullopt;
}

bool is_final(EventState state) {
  switch (state) {
  case EventState::done:
  case EventState::skipped:
  case EventState::superseded:
  case EventState::failed:
  case EventState::rejected: return true;
  case EventState::pending:
  case EventState::waiting:
  case EventState::held: return false;
  }
  return false;
}

std::string_view to_string(HrStatus status) {
  switch (status) {
  case HrStatus::unknown: return "unknown";
  case HrStatus::active: return "active";
  case HrStatus::on_leave: return "on_leave";
  case HrStatus::terminated: return "terminated";
  }
  return "unknown";
}

std::optional<HrStatus> parse_hr_status(std::string_view text) {
  for (auto s : {HrStatus::unknown, HrStatus::active, HrStatus::on_leave, HrStatus::terminated})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

Result<IngestResult> Store::ingest(const std::string& source_file, const std::vector<NewEvent>& events,
                                   long long now_ms) {
  auto batch = H2R_TRY(begin_ingest(source_file, now_ms));
  const auto repeated = H2R_TRY(batch->add(events));
  auto result = H2R_TRY(batch->commit());
  for (const auto& r : repeated) { // a second one in `events`: a duplicate too
    ++result.duplicate_count;
    if (result.duplicates.size() < k_max_duplicates_listed) result.duplicates.push_back(events[r.index].event.event_id);
  }
  return result;
}

bool waits_to_retry(const EventRow& e) {
  return e.state == EventState::pending && e.attempts > 0 && e.claim_token.empty();
}

std::string event_action_refusal(std::string_view action, const EventRow& e) {
  const auto state = to_string(e.state);
  if (action == "retry" && e.state != EventState::failed && !waits_to_retry(e))
    return fmt::format("event {} is {}; only failed events, or pending ones waiting to try again, can be retried",
                       e.id, e.state == EventState::pending && e.attempts > 0 ? "in flight" : state);
  if (action == "approve" && e.state != EventState::held)
    return fmt::format("event {} is {}; only held events can be approved", e.id, state);
  if (action == "reject" && is_final(e.state))
    return fmt::format("event {} is {}; only pending, waiting or held events can be rejected", e.id, state);
  return "";
}

Result<void> check_resync_events(const std::vector<NewEvent>& events) {
  for (const auto& e : events) {
    if (e.event.type != EventType::resync)
      return fail(ErrorKind::invalid, fmt::format("event {} is a {}, not a resync", e.event.event_id,
                                                  to_string(e.event.type)));
    if (e.state != EventState::pending && e.state != EventState::waiting)
      return fail(ErrorKind::invalid, fmt::format("event {} arrives as {}; only pending or waiting may",
                                                  e.event.event_id, to_string(e.state)));
  }
  return {};
}

std::vector<Result<void>> Store::record_outcomes(const std::vector<const EventOutcome*>& outcomes, long long now_ms) {
  std::vector<Result<void>> results;
  results.reserve(outcomes.size());
  for (const EventOutcome* outcome : outcomes) {
    auto r = record_outcome(*outcome, now_ms);
    const bool go_on = r || r.error().kind == ErrorKind::conflict || r.error().kind == ErrorKind::not_found;
    results.push_back(std::move(r));
    if (!go_on) break;
  }
  while (results.size() < outcomes.size()) results.push_back(unexpected(results.back().error()));
  return results;
}

Result<std::vector<PlanInputs>> Store::plan_inputs(const std::vector<std::string>& employee_ids,
                                                   const std::vector<std::string>& connections) {
  std::vector<PlanInputs> inputs;
  inputs.reserve(employee_ids.size());
  for (const auto& employee_id : employee_ids) {
    PlanInputs& in = inputs.emplace_back();
    in.employee = H2R_TRY(get_employee(employee_id));
    for (const auto& connection : connections)
      if (auto link = H2R_TRY(get_link(connection, employee_id))) in.links.push_back(std::move(*link));
  }
  return inputs;
}

std::vector<LinkRow> links_in_order(std::vector<LinkRow> links, const std::vector<std::string>& connections) {
  std::vector<LinkRow> out;
  out.reserve(links.size());
  for (const auto& connection : connections)
    for (auto& link : links)
      if (link.connection == connection) out.push_back(std::move(link));
  return out;
}

Unexpected<Error> link_taken(const LinkRow& row) {
  return fail(ErrorKind::conflict,
              fmt::format("Zoom user '{}' ({}) in connection '{}' is linked to another employee; it cannot be linked "
                          "to employee {} too",
                          row.zoom_user_id, row.user_name, row.connection, row.employee_id));
}

Result<std::vector<LinkRow>> Store::links_to_zoom_user(const std::string& connection, const std::string& zoom_user_id,
                                                      const std::string& user_name) {
  std::vector<LinkRow> out;
  const std::string name = ascii_lower(user_name);
  for (auto& link : H2R_TRY(list_links(connection)))
    if ((!zoom_user_id.empty() && link.zoom_user_id == zoom_user_id) ||
        (!name.empty() && ascii_lower(link.user_name) == name))
      out.push_back(std::move(link));
  return out;
}

// Defaults for stores that do not implement several daemons yet (replaced per store).
Result<int> Store::heartbeat(const DaemonRow&, long long, long long) {
  return fail(ErrorKind::permanent, "this store does not support daemon heartbeats");
}
Result<std::vector<DaemonRow>> Store::list_daemons(long long, long long) {
  return fail(ErrorKind::permanent, "this store does not list daemons");
}
Result<void> Store::remove_daemon(const std::string&) {
  return fail(ErrorKind::permanent, "this store does not list daemons");
}
Result<bool> Store::try_lead(const std::string&, long long, long long) {
  return fail(ErrorKind::permanent, "this store does not elect a leader");
}
Result<PaceGrant> Store::take_pace_grant(const std::string&, long long, long long, int) {
  return fail(ErrorKind::permanent, "this store does not share pacing among daemons");
}
Result<GuardAnswer> Store::reserve_guard(const GuardRequest&) {
  return fail(ErrorKind::permanent, "this store does not count the guard's budget");
}

Result<void> check_guard_request(const GuardRequest& request) {
  if (request.set.empty() || request.set.size() > 8192)
    return fail(ErrorKind::invalid, "a guard request names its set (1 to 8192 bytes)");
  if (request.count < 0 || request.max < 0) return fail(ErrorKind::invalid, "guard counts cannot be negative");
  if (request.per_ms <= 0) return fail(ErrorKind::invalid, "the guard's window must be longer than 0 ms");
  return {};
}

Result<void> check_user_name_claim(const UserNameClaim& claim) {
  const std::pair<const char*, const std::string*> fields[] = {
      {"connection", &claim.connection}, {"key", &claim.key}, {"user_name", &claim.user_name},
      {"employee_id", &claim.employee_id}};
  for (const auto& [name, value] : fields)
    if (value->empty() || value->size() > 1024)
      return fail(ErrorKind::invalid, std::string("a userName reservation needs its ") + name + " (1 to 1024 bytes)");
  return {};
}

GuardDecision decide_guard(const GuardRequest& request, const std::optional<GuardSetRow>& mine, long long others) {
  GuardDecision d;
  d.answer.counted = static_cast<int>(std::min<long long>(others, 1'000'000'000));
  d.answer.decided_before = mine.has_value();
  d.answer.decided_at_ms = mine ? mine->at_ms : request.now_ms;
  d.at_ms = std::max(request.now_ms, request.last_due_ms);
  if (request.approved) {   // counted, never refused
    d.write = true;
    d.answer.granted = true;
    d.at_ms = std::max(d.at_ms, mine ? mine->at_ms : 0);
    d.count = request.count + (mine && !mine->refused ? mine->count : 0);
    d.answer.decided_at_ms = d.at_ms;
    return d;
  }
  if (mine && mine->refused) return d;   // a refusal stands
  // A grant stands while what it reserved still fits under max (a lower max refuses the rest) and the
  // set asks for no more than it reserved; asking for more reserves the difference when that fits.
  const int reserved = mine ? mine->count : 0;
  const int wanted = std::max(reserved, request.count);
  const bool fits = others + wanted <= request.max;
  if (mine && fits && request.count <= reserved) {
    d.answer.granted = true;
    return d;
  }
  d.write = true;
  d.answer.granted = fits;
  d.at_ms = std::max(d.at_ms, mine ? mine->at_ms : 0);
  d.answer.decided_at_ms = d.at_ms;
  // Refused: nothing more is reserved; what an earlier grant reserved stays counted.
  d.count = fits ? wanted : reserved;
  return d;
}

Result<std::map<std::string, std::string>> Store::list_meta() {
  return fail(ErrorKind::permanent, "this store does not list its meta data");
}
Result<std::unique_ptr<ImportBatch>> Store::begin_import() {
  return fail(ErrorKind::permanent, "this store cannot import a deployment");
}

Result<void> check_pace_request(const std::string& connection, long long from_us, long long interval_us, int count) {
  if (connection.empty() || connection.size() > k_max_pace_name)
    return fail(ErrorKind::invalid, fmt::format("pace grant: the connection name must be 1 to {} bytes", k_max_pace_name));
  if (from_us <= 0 || from_us > k_max_pace_time_us)
    return fail(ErrorKind::invalid, fmt::format("pace grant: from_us {} is not a time between 1970 and 9999", from_us));
  if (interval_us < 1 || interval_us > k_max_pace_interval_us)
    return fail(ErrorKind::invalid, fmt::format("pace grant: interval_us {} is outside 1..{}", interval_us, k_max_pace_interval_us));
  if (count < 0 || count > k_max_pace_grant)
    return fail(ErrorKind::invalid, fmt::format("pace grant: count {} is outside 0..{}", count, k_max_pace_grant));
  return {};
}

} // namespace h2r
