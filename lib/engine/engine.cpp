#include "engine/engine.hpp"

#include "engine/backoff.hpp"
#include "engine/result_json.hpp"
#include "engine/schedule.hpp"

#include "core/saturating.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "hr/readers.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include <unistd.h>

namespace h2r {

namespace {

// "host:pid:random": unique per process start, readable in `events show` when an event stays claimed.
std::string make_owner() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device random;
  return fmt::format("{}:{}:{:08x}", host[0] ? host : "localhost", ::getpid(), random());
}

} // namespace

Engine::Engine(Store& store, ConnectionRegistry& connections, RulesSource rules, EngineOptions options,
               const Clock& clock)
    : m_store(store), m_connections(connections), m_rules(std::move(rules)), m_options(std::move(options)),
      m_clock(clock) {
  if (m_options.owner.empty()) m_options.owner = make_owner();
}

namespace {

// The options a live config reload may change (Engine::apply_options), copied from `from` to `to`.
void copy_live_options(EngineOptions& to, const EngineOptions& from) {
  static_cast<EngineLiveOptions&>(to) = static_cast<const EngineLiveOptions&>(from);
}

} // namespace

void Engine::apply_options(const EngineOptions& options) {
  MutexLock lock(m_options_mutex);
  m_pending_options = options;
}

EngineOptions Engine::options() const {
  MutexLock lock(m_options_mutex);
  EngineOptions out = m_options;
  // Applied, adopted at the next batch boundary: report what will run.
  if (m_pending_options) copy_live_options(out, *m_pending_options);
  return out;
}

void Engine::adopt_options() {
  MutexLock lock(m_options_mutex);
  if (!m_pending_options) return;
  const EngineOptions& next = *m_pending_options;
  if (static_cast<const EngineLiveOptions&>(next) != static_cast<const EngineLiveOptions&>(m_options))
    spdlog::info("engine.options_applied workers={} retry_base_ms={} retry_max_ms={} max_attempts={} "
                 "max_connection_workers={} timezone=\"{}\" max_future_days={}",
                 next.workers, next.retry_base.count(), next.retry_max.count(), next.max_attempts,
                 next.max_connection_workers, escape_for_log(next.time_zone), next.max_future_days);
  copy_live_options(m_options, next);
  m_pending_options.reset();
}

std::chrono::milliseconds Engine::backoff(int attempt) {
  MutexLock lock(m_rng_mutex);
  return jittered_backoff(attempt, m_options.retry_base, m_options.retry_max, k_min_backoff, m_rng);
}

void Engine::fail_or_retry(EventOutcome& outcome, const EventRow& event, const Error& error) {
  const SystemTime now = m_clock.now();
  if (error.kind == ErrorKind::transient) {
    outcome.attempts = event.attempts + 1;
    if (outcome.attempts < m_options.max_attempts) {
      SystemTime next = add_ms_saturating(now, backoff(outcome.attempts));
      if (error.retry_at && *error.retry_at > next) next = *error.retry_at;
      outcome.state = EventState::pending;
      outcome.next_attempt_at_ms = to_unix_ms(next);
      outcome.reason = "retrying (attempt " + std::to_string(outcome.attempts) + " of " +
                       std::to_string(m_options.max_attempts) + "): " + error.message;
      spdlog::warn("event.retry id={} event_id=\"{}\" attempt={} next={} error=\"{}\"", event.id,
                   escape_for_log(event.event_id), outcome.attempts, format_utc(next), escape_for_log(error.message));
      return;
    }
    outcome.state = EventState::failed;
    outcome.reason = "failed after " + std::to_string(outcome.attempts) + " attempts: " + error.message;
  } else {
    outcome.attempts = event.attempts + 1;
    outcome.state = EventState::failed;
    outcome.reason = error.message;
  }
  spdlog::error("event.failed id={} event_id=\"{}\" employee=\"{}\" reason=\"{}\"", event.id,
                escape_for_log(event.event_id), escape_for_log(event.employee_id), escape_for_log(outcome.reason));
}

namespace {

// Errors that need a person (credentials, scopes) before the connection can be used again.
bool needs_person(const Error& e) {
  return e.reason == ErrorReason::token_refused || e.reason == ErrorReason::connection_unhealthy;
}

// Errors that say "not now" about a whole connection rather than anything about this event: waiting
// for them consumes no attempt.
bool is_deferral(const Error& e) {
  switch (e.reason) {
  case ErrorReason::connection_unhealthy:
  case ErrorReason::connection_paused:
  case ErrorReason::paused:
  case ErrorReason::daily_limit:
  case ErrorReason::token_refused:
  case ErrorReason::fenced: return true;   // not this daemon's (any more): the outcome is refused anyway
  case ErrorReason::none:
  case ErrorReason::unreachable:
  case ErrorReason::no_answer:
  case ErrorReason::tls:
  case ErrorReason::key_missing:
  case ErrorReason::owned_by_another:
  case ErrorReason::rate_limited: return false;
  }
  return false;
}

// Which of two errors decides the event's outcome: a conflict (held for an operator) beats something
// about this event (permanent), which beats a transient failure, which beats a deferral.
int severity(const Error& e) {
  if (e.reason == ErrorReason::owned_by_another) return 3;
  if (is_deferral(e)) return 0;
  return e.kind == ErrorKind::transient ? 1 : 2;
}

} // namespace

void Engine::defer(EventOutcome& outcome, const EventRow& event, const Error& error) {
  const SystemTime now = m_clock.now();
  // `run --once` cannot wait for a person (credentials refused): it fails those. A pause (circuit
  // open, daily limit, pacing) is "not now": the event stays pending with its next attempt time.
  if (m_options.once && needs_person(error)) {
    outcome.attempts = event.attempts + 1;
    outcome.state = EventState::failed;
    outcome.reason = error.message;
    spdlog::error("event.failed id={} event_id=\"{}\" employee=\"{}\" reason=\"{}\"", event.id,
                  escape_for_log(event.event_id), escape_for_log(event.employee_id), escape_for_log(outcome.reason));
    return;
  }
  SystemTime next = error.retry_at.value_or(add_ms_saturating(now, m_options.unhealthy_recheck));
  if (next <= now) next = now + std::chrono::milliseconds(100);
  if (needs_person(error)) next = add_ms_saturating(now, m_options.unhealthy_recheck);
  outcome.attempts = event.attempts;   // waiting is not an attempt
  outcome.state = EventState::pending;
  outcome.next_attempt_at_ms = to_unix_ms(next);
  outcome.reason = "waiting: " + error.message;
}

EventOutcome Engine::process(const Work& work, const std::string& rules_version) {
  const EventRow& event = work.event;
  EventOutcome outcome;
  outcome.id = event.id;
  outcome.claim_token = event.claim_token;
  outcome.rules_version = rules_version;
  outcome.attempts = event.attempts;
  std::vector<ActionReport> actions;

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
      e.reason = verdict.why;
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
    bind_to_store(provisioner, m_store, intent.connection, event.employee_id, [this] { return to_unix_ms(m_clock.now()); });
    auto report = provisioner.carry_out(intent, event.employee_id);
    if (!report) {
      // A conflict is about this event, not the connection: its calls (a lookup) went well.
      if (report.error().reason == ErrorReason::owned_by_another) m_connections.record_success(intent.connection);
      else m_connections.record_failure(intent.connection, report.error());
      note_error(std::move(report).error());
      continue;
    }
    m_connections.record_success(intent.connection);
    if (m_options.on_applied) m_options.on_applied(*report);
    if (report->link) outcome.links_upsert.push_back(std::move(*report->link));   // the result needs no link
    if (report->remove_link && !report->link) outcome.links_remove.emplace_back(intent.connection, event.employee_id);
    spdlog::info("event.action id={} employee=\"{}\" connection={} action={} user_id=\"{}\"", event.id,
                 escape_for_log(event.employee_id), escape_for_log(report->connection), report->action,
                 escape_for_log(report->user_id));
    actions.push_back(std::move(report).value());
  }
  std::vector<ResultTarget> targets;   // the role each target matched, for `events show`
  targets.reserve(work.plan.intents.size());
  for (const auto& intent : work.plan.intents)
    targets.push_back({intent.connection, intent.desired ? intent.desired->role : ""});
  outcome.result = event_result_json(work.plan.intents.empty() ? work.plan.note : work.plan.intents.front().why,
                                     targets, actions);
  if (!error) {
    // Nothing to do, or nothing found to act on (deprovisioning someone Zoom never had): skipped, with why.
    const bool nothing_found = std::all_of(actions.begin(), actions.end(),
                                           [](const ActionReport& a) { return a.action == "absent"; });
    outcome.state = !work.plan.superseded.empty() ? EventState::superseded
                    : nothing_found               ? EventState::skipped
                                                  : EventState::done;
    outcome.reason = work.plan.intents.empty() ? work.plan.note
                     : nothing_found ? work.plan.intents.front().why + "; no Zoom user to act on"
                                     : "";
    if (work.plan.store_employee) {
      outcome.employee = work.plan.employee;
      outcome.employee->updated_at_ms = to_unix_ms(m_clock.now());
    }
    return outcome;
  }
  if (error->reason == ErrorReason::owned_by_another) {
    // A conflict: nothing was changed at this target, the event waits for an operator (approving it
    // checks again). The employee's record stays as it was; links of other targets done are kept.
    outcome.state = EventState::held;
    outcome.reason = error->message;
    spdlog::warn("event.held id={} event_id=\"{}\" reason=\"{}\"", event.id, escape_for_log(event.event_id),
                 escape_for_log(outcome.reason));
    return outcome;
  }
  if (is_deferral(*error))
    defer(outcome, event, *error);
  else
    fail_or_retry(outcome, event, *error);
  if (outcome.state == EventState::failed && work.plan.store_employee) {
    outcome.employee = work.plan.employee;   // HR's record is still the latest truth
    outcome.employee->updated_at_ms = to_unix_ms(m_clock.now());
  }
  return outcome;
}

} // namespace h2r
