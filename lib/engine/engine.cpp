#include "engine/engine.hpp"

#include "core/time.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

namespace h2r {

Engine::Engine(Store& store, ConnectionRegistry& connections, RulesSource rules, EngineOptions options,
               const Clock& clock)
    : m_store(store), m_connections(connections), m_rules(std::move(rules)), m_options(std::move(options)),
      m_clock(clock) {}

Result<void> Engine::ingest(const std::string& file_name, const std::vector<HrEvent>& events) {
  const SystemTime now = m_clock.now();
  RulesPtr rules = m_rules();
  const int lead_days = rules ? rules->lifecycle().hire_lead_days : 0;
  std::vector<NewEvent> rows;
  rows.reserve(events.size());
  for (const auto& e : events) {
    SystemTime effective = now;
    if (!e.effective_date.empty()) {
      auto parsed = parse_effective_date(e.effective_date, m_options.time_zone);
      if (!parsed)
        return fail(ErrorKind::invalid, "record " + std::to_string(e.record) + ": effective_date: " + parsed.error().message);
      effective = *parsed;
    }
    SystemTime due = effective;
    if (e.type == EventType::hire && lead_days > 0) due = minus_days_in_zone(effective, lead_days, m_options.time_zone);
    NewEvent row{e, to_unix_ms(effective), to_unix_ms(due), due > now ? EventState::waiting : EventState::pending};
    rows.push_back(std::move(row));
  }
  auto result = m_store.ingest(file_name, rows, to_unix_ms(now));
  if (!result) return unexpected(std::move(result).error());
  for (const auto& id : result->duplicates)
    spdlog::info("event.duplicate event_id={} file={} action=ignored", id, file_name);
  spdlog::info("inbox.ingested file={} events={} duplicates={}", file_name, result->inserted, result->duplicates.size());
  return {};
}

std::chrono::milliseconds Engine::backoff(int attempt) {
  double cap = static_cast<double>(m_options.retry_base.count()) * std::pow(2.0, std::max(0, attempt - 1));
  cap = std::min(cap, static_cast<double>(m_options.retry_max.count()));
  std::lock_guard lock(m_rng_mutex);
  std::uniform_real_distribution<double> dist(0.0, cap);
  // A floor keeps a retry from landing in the same instant, never above the cap.
  const long long floor_ms = std::min<long long>(k_min_backoff.count(), static_cast<long long>(cap));
  return std::chrono::milliseconds(std::max<long long>(floor_ms, static_cast<long long>(dist(m_rng))));
}

std::vector<LinkRow> Engine::links_of(const std::string& employee_id, const std::vector<ConnectionRow>& connections) {
  std::vector<LinkRow> links;
  for (const auto& c : connections) {
    auto link = m_store.get_link(c.name, employee_id);
    if (link && *link) links.push_back(**link);
  }
  return links;
}

void Engine::fail_or_retry(EventOutcome& outcome, const EventRow& event, const Error& error) {
  const SystemTime now = m_clock.now();
  if (error.kind == ErrorKind::transient) {
    outcome.attempts = event.attempts + 1;
    if (outcome.attempts < m_options.max_attempts) {
      SystemTime next = now + backoff(outcome.attempts);
      if (error.retry_at && *error.retry_at > next) next = *error.retry_at;
      outcome.state = EventState::pending;
      outcome.next_attempt_at_ms = to_unix_ms(next);
      outcome.reason = "retrying (attempt " + std::to_string(outcome.attempts) + " of " +
                       std::to_string(m_options.max_attempts) + "): " + error.message;
      spdlog::warn("event.retry id={} event_id={} attempt={} next={} error=\"{}\"", event.id, event.event_id,
                   outcome.attempts, format_utc(next), error.message);
      return;
    }
    outcome.state = EventState::failed;
    outcome.reason = "failed after " + std::to_string(outcome.attempts) + " attempts: " + error.message;
  } else {
    outcome.attempts = event.attempts + 1;
    outcome.state = EventState::failed;
    outcome.reason = error.message;
  }
  spdlog::error("event.failed id={} event_id={} employee={} reason=\"{}\"", event.id, event.event_id,
                event.employee_id, outcome.reason);
}

namespace {

bool token_refused(const Error& e) {
  return e.code == "invalid_client" || e.code == "unsupported_grant_type" || e.code == "4711";
}

// Errors that say "not now" about a whole connection rather than anything about this event: waiting
// for them consumes no attempt.
bool is_deferral(const Error& e) {
  return e.code == "connection_unusable" || e.code == "paused" || e.code == "daily_limit" || token_refused(e);
}

// Which of two errors decides the event's outcome: something about this event (permanent) beats a
// transient failure, which beats a deferral.
int severity(const Error& e) {
  if (is_deferral(e)) return 0;
  return e.kind == ErrorKind::transient ? 1 : 2;
}

} // namespace

void Engine::defer(EventOutcome& outcome, const EventRow& event, const Error& error) {
  const SystemTime now = m_clock.now();
  // `run --once` cannot wait for a person (unhealthy) or for tomorrow (daily limit): it fails them.
  if (m_options.once && (error.code == "connection_unusable" || token_refused(error) || error.daily_limit)) {
    outcome.attempts = event.attempts + 1;
    outcome.state = EventState::failed;
    outcome.reason = error.message;
    spdlog::error("event.failed id={} event_id={} employee={} reason=\"{}\"", event.id, event.event_id,
                  event.employee_id, outcome.reason);
    return;
  }
  SystemTime next = error.retry_at.value_or(now + m_options.unhealthy_recheck);
  if (next <= now) next = now + std::chrono::milliseconds(100);
  if (token_refused(error)) next = now + m_options.unhealthy_recheck;
  outcome.attempts = event.attempts;   // waiting is not an attempt
  outcome.state = EventState::pending;
  outcome.next_attempt_at_ms = to_unix_ms(next);
  outcome.reason = "waiting: " + error.message;
}

EventOutcome Engine::process(const Work& work, const std::string& rules_version) {
  const EventRow& event = work.event;
  EventOutcome outcome;
  outcome.id = event.id;
  outcome.rules_version = rules_version;
  outcome.attempts = event.attempts;
  nlohmann::json actions = nlohmann::json::array();

  // Each target connection is independent: one that is down or paused does not hold up the others
  // (their links are recorded now, so a later attempt finds their work done).
  std::optional<Error> error;
  auto note_error = [&error](Error e) {
    if (!error || severity(e) > severity(*error)) error = std::move(e);
  };
  for (const auto& intent : work.plan.intents) {
    auto verdict = m_connections.verdict(intent.connection);
    if (!verdict.usable) {
      Error e = Error::transient(verdict.reason);
      e.code = "connection_unusable";
      e.retry_at = verdict.until;
      e.daily_limit = verdict.daily_limit;
      note_error(std::move(e));
      continue;
    }
    auto client = m_connections.client(intent.connection);
    if (!client) {
      note_error(std::move(client).error());
      continue;
    }
    Provisioner provisioner(**client, false, to_unix_ms(m_clock.now()));
    auto report = provisioner.carry_out(intent, event.employee_id);
    if (!report) {
      m_connections.record_failure(intent.connection, report.error());
      note_error(std::move(report).error());
      continue;
    }
    m_connections.record_success(intent.connection);
    if (report->link) outcome.links_upsert.push_back(*report->link);
    if (report->remove_link && !report->link) outcome.links_remove.emplace_back(intent.connection, event.employee_id);
    actions.push_back(report->to_json());
    spdlog::info("event.action id={} employee={} connection={} action={} user_id={}", event.id, event.employee_id,
                 report->connection, report->action, report->user_id);
  }
  nlohmann::json targets = nlohmann::json::array();   // the role each target matched, for `events show`
  for (const auto& intent : work.plan.intents)
    targets.push_back({{"connection", intent.connection}, {"role", intent.desired ? intent.desired->role : ""}});
  outcome.result = nlohmann::json{{"why", work.plan.intents.empty() ? work.plan.note : work.plan.intents.front().why},
                                  {"targets", targets}, {"actions", actions}}.dump();
  if (!error) {
    // Nothing to do, or nothing found to act on (deprovisioning someone Zoom never had): skipped, with why.
    const bool nothing_found = std::all_of(actions.begin(), actions.end(),
                                           [](const nlohmann::json& a) { return a["action"] == "absent"; });
    outcome.state = nothing_found ? EventState::skipped : EventState::done;
    outcome.reason = work.plan.intents.empty() ? work.plan.note
                     : nothing_found ? work.plan.intents.front().why + "; no Zoom user to act on"
                                     : "";
    outcome.employee = work.plan.employee;
    outcome.employee->updated_at_ms = to_unix_ms(m_clock.now());
    return outcome;
  }
  if (is_deferral(*error))
    defer(outcome, event, *error);
  else
    fail_or_retry(outcome, event, *error);
  if (outcome.state == EventState::failed) {
    outcome.employee = work.plan.employee;   // HR's record is still the latest truth
    outcome.employee->updated_at_ms = to_unix_ms(m_clock.now());
  }
  return outcome;
}

CycleReport Engine::run_cycle() {
  CycleReport report;
  RulesPtr rules = m_rules();
  if (!rules) {
    spdlog::error("cycle.skipped reason=\"no valid rules loaded\"");
    return report;
  }
  int deactivations = 0;
  const int guard_max = rules->lifecycle().max_deactivations_per_cycle;
  auto stopping = [this] { return m_options.stop_requested && m_options.stop_requested(); };
  for (;;) {
    if (stopping()) break;
    const SystemTime now = m_clock.now();
    if (auto r = m_store.promote_waiting(to_unix_ms(now)); !r)
      spdlog::error("store.failed what=promote_waiting error=\"{}\"", r.error().message);
    auto due = m_store.due_events(to_unix_ms(now), m_options.batch);
    if (!due) {
      spdlog::error("store.failed what=due_events error=\"{}\"", due.error().message);
      break;
    }
    if (due->empty()) break;

    // The connection list, read once per batch rather than once per event.
    auto connections = m_store.list_connections();
    if (!connections) {
      spdlog::error("store.failed what=list_connections error=\"{}\"", connections.error().message);
      break;
    }
    std::vector<Work> work;
    std::vector<std::size_t> deactivating;
    for (auto& event : *due) {
      auto employee = m_store.get_employee(event.employee_id);
      std::optional<EmployeeRow> before = employee ? *employee : std::nullopt;
      Work w{event, plan_event(event, before, links_of(event.employee_id, *connections), *rules)};
      if (!event.approved && rules->lifecycle().supervised.count(event.type)) {
        std::string reason = "supervised: " + std::string(to_string(event.type)) + " waits for `h2rd events approve " +
                             std::to_string(event.id) + "`";
        (void)m_store.hold_event(event.id, reason, to_unix_ms(now));
        spdlog::warn("event.held id={} event_id={} reason=\"{}\"", event.id, event.event_id, reason);
        ++report.held;
        continue;
      }
      if (!event.approved && w.plan.deactivates()) deactivating.push_back(work.size());
      work.push_back(std::move(w));
    }
    if (deactivations + static_cast<int>(deactivating.size()) > guard_max && !deactivating.empty()) {
      std::string reason = "guard: " + std::to_string(deactivations + static_cast<int>(deactivating.size())) +
                           " deactivations in one cycle exceed lifecycle.guard.max_deactivations_per_cycle (" +
                           std::to_string(guard_max) + "); approve with `h2rd events approve --all`";
      spdlog::critical("guard.held count={} max={} action=\"all held for approval\"", deactivating.size(), guard_max);
      for (auto idx : deactivating) {
        (void)m_store.hold_event(work[idx].event.id, reason, to_unix_ms(now));
        ++report.held;
      }
      if (m_options.on_guard_held) m_options.on_guard_held(static_cast<int>(deactivating.size()), guard_max);
      std::vector<Work> rest;
      for (std::size_t i = 0; i < work.size(); ++i)
        if (std::find(deactivating.begin(), deactivating.end(), i) == deactivating.end()) rest.push_back(std::move(work[i]));
      work = std::move(rest);
    } else {
      deactivations += static_cast<int>(deactivating.size());
    }
    if (work.empty()) continue;

    std::atomic<std::size_t> next{0};
    std::mutex report_mutex;
    auto worker = [&] {
      for (std::size_t i; !stopping() && (i = next.fetch_add(1)) < work.size();) {
        EventOutcome outcome = process(work[i], rules->version());
        if (auto r = m_store.record_outcome(outcome, to_unix_ms(m_clock.now())); !r)
          spdlog::error("store.failed what=record_outcome id={} error=\"{}\"", outcome.id, r.error().message);
        else if (m_options.on_outcome)
          m_options.on_outcome(work[i].event, outcome);
        std::lock_guard lock(report_mutex);
        ++report.processed;
        switch (outcome.state) {
        case EventState::done: ++report.done; break;
        case EventState::skipped: ++report.skipped; break;
        case EventState::failed: ++report.failed; break;
        case EventState::pending: {
          ++report.retrying;
          SystemTime at = from_unix_ms(outcome.next_attempt_at_ms);
          if (!report.next_retry || at < *report.next_retry) report.next_retry = at;
          break;
        }
        default: break;
        }
      }
    };
    const std::size_t threads = std::min<std::size_t>(std::max(1, m_options.workers), work.size());
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
  }
  // Retries scheduled by earlier cycles count too (`run --once` waits for them; the daemon wakes for
  // them). Only future ones: a pending event that is due but blocked behind a held one is not a retry.
  EventFilter filter;
  filter.state = EventState::pending;
  filter.limit = k_retry_scan_limit;
  if (auto pending = m_store.list_events(filter)) {
    const long long now_ms = to_unix_ms(m_clock.now());
    for (const auto& e : *pending) {
      if (e.due_at_ms <= now_ms) continue;
      const SystemTime at = from_unix_ms(e.due_at_ms);
      if (!report.next_retry || at < *report.next_retry) report.next_retry = at;
    }
  }
  return report;
}

} // namespace h2r
