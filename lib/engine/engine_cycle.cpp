// Engine: one cycle — claim, plan, supervise, guard, run, record — each step a method of its own.
#include "engine/engine.hpp"

#include "engine/schedule.hpp"
#include "engine/date_order.hpp"

#include "core/text.hpp"
#include "core/time.hpp"
#include "rules/text_fold.hpp"
#include "engine/dispatcher.hpp"
#include "engine/outcome_batcher.hpp"
#include "zoom/call_fence.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace h2r {
namespace {

// Group commit of outcomes (engine/outcome_batcher.hpp): at most this many in one transaction, and a
// worker waits at most this long for others to hand theirs in (never while it is the only one working).
constexpr std::size_t k_outcome_batch = 64;
// On a shared store (several daemons), a claim takes at most this many seconds of this daemon's work
// at its paced rates, and never fewer than k_shared_claim_min events.
constexpr double k_shared_claim_seconds = 5.0;
constexpr int k_shared_claim_min = 16;
constexpr std::chrono::microseconds k_outcome_gather{2000};

} // namespace

CycleReport Engine::run_cycle() {
  RulesPtr rules = m_rules();
  if (!rules) {
    spdlog::error("cycle.skipped reason=\"no valid rules loaded\"");
    return {};
  }
  Cycle cycle(*rules);
  // Between cycles this engine holds no claim; one left from a release that failed is given back now.
  if (auto r = m_store.release_claims(m_options.owner); r && *r > 0)
    spdlog::warn("claims.released owner={} count={} note=\"left by a failed release\"", m_options.owner, *r);
  auto stopping = [this] { return m_options.stop_requested && m_options.stop_requested(); };
  // Each pass claims what is due now; events recorded as retries are due later, so the loop ends.
  // A store failure ends it too: an event given back must not be taken again in the same cycle.
  while (!stopping() && !cycle.store_failed) {
    adopt_options();   // a reload's settings apply from this batch on, never inside one
    auto claimed = claim_batch(cycle);
    if (!claimed || claimed->empty()) break;
    std::vector<Work> work = plan_batch(*claimed, cycle);
    defer_same_address(work);
    hold_supervised(work, cycle);
    apply_guard(work, cycle);
    run_workers(work, cycle);
  }
  scan_retries(cycle);
  MutexLock lock(cycle.mutex);   // no worker runs now: taken for the analysis (core/mutex.hpp)
  cycle.report.store_failed = cycle.store_failed;
  return cycle.report;
}

int Engine::claim_limit() {
  if (!m_store.shared()) return m_options.batch;   // the only daemon: take all that is due
  // Several daemons: take what this one can start within k_shared_claim_seconds at its share of every
  // account's rate limit (one call per event at most), so the others get the rest instead of waiting
  // for a daemon that paces at rate / N through a backlog it took alone.
  auto connections = m_store.list_connections();
  if (!connections) return k_shared_claim_min;
  double per_second = 0;
  for (const auto& c : *connections) per_second += (c.rate_limit > 0 ? c.rate_limit : k_default_rate_limit);
  per_second /= std::max(1, m_connections.share());
  const double limit = std::ceil(per_second * k_shared_claim_seconds);
  return static_cast<int>(std::clamp(limit, static_cast<double>(k_shared_claim_min), static_cast<double>(m_options.batch)));
}

std::optional<std::vector<EventRow>> Engine::claim_batch(Cycle& cycle) {
  const long long now_ms = to_unix_ms(m_clock.now());
  cycle.checked_ms = now_ms;
  if (!may_start_calls()) {   // a heartbeat too old: claim nothing (the claims may not hold)
    spdlog::warn("claims.paused owner={} reason=\"heartbeat older than half the claim lease\"", m_options.owner);
    return std::vector<EventRow>();
  }
  if (auto r = m_store.promote_waiting(now_ms); !r)
    spdlog::error("store.failed what=promote_waiting error=\"{}\"", escape_for_log(r.error().message));
  ClaimRequest request{m_options.owner, now_ms, claim_limit(), m_options.claim_lease.count()};
  auto claimed = m_store.claim_due_events(request);
  if (!claimed) {
    spdlog::error("store.failed what=claim_due_events error=\"{}\"", escape_for_log(claimed.error().message));
    cycle.store_failed = true;
    return std::nullopt;
  }
  take_over(*claimed, cycle);
  return std::move(claimed).value();
}

std::vector<Engine::Work> Engine::plan_batch(std::vector<EventRow>& claimed, Cycle& cycle) {
  std::vector<Work> work;
  // A read that fails gives the whole batch back as it was (no attempt used) and ends the cycle.
  const auto give_back = [&](std::string_view what, const std::string& error) {
    spdlog::error("store.read_failed what={} count={} error=\"{}\" action=\"claims given back\"", what, claimed.size(),
                  escape_for_log(error));
    for (const auto& event : claimed) release(event);
    MutexLock lock(cycle.mutex);
    cycle.report.deferred += static_cast<int>(claimed.size());
    cycle.store_failed = true;
    return std::vector<Work>();
  };
  // The connection list, read once per batch rather than once per event.
  auto connections = m_store.list_connections();
  if (!connections) return give_back("list_connections", connections.error().message);
  // The employees and links of the whole batch, read at once (SQLite: one read transaction). A read that
  // fails is not "no data": planning on it would treat a known employee as new and write that partial
  // record back. The events are given back as they were (no attempt used).
  std::vector<std::string> employee_ids, connection_names;
  employee_ids.reserve(claimed.size());
  for (const auto& event : claimed) employee_ids.push_back(event.employee_id);
  for (const auto& c : *connections) connection_names.push_back(c.name);
  auto inputs = m_store.plan_inputs(employee_ids, connection_names);
  if (!inputs || inputs->size() != claimed.size())
    return give_back("employees", inputs ? "the store returned a short batch" : inputs.error().message);
  // Each event is folded under the employee's later-dated events that have ended (engine/date_order.hpp).
  std::vector<std::vector<EventRow>> later(claimed.size());
  for (std::size_t i = 0; i < claimed.size(); ++i) {
    auto rows = later_final_events(m_store, claimed[i]);
    if (!rows) return give_back("later_events", rows.error().message);
    later[i] = std::move(rows).value();
  }
  work.reserve(claimed.size());
  for (std::size_t i = 0; i < claimed.size(); ++i) {
    EventPlan plan = plan_in_date_order(claimed[i], (*inputs)[i].employee, (*inputs)[i].links, cycle.rules, later[i]);
    work.push_back(Work{std::move(claimed[i]), std::move(plan)});
  }
  return work;
}

void Engine::defer_same_address(std::vector<Work>& work) {
  // Two events that address one userName would both search Zoom before either's link is recorded, and
  // the second would take the first one's new user for its own (h2r-events(5), Conflicts).
  std::set<std::pair<std::string, std::string>> addressed;   // (connection, userName folded)
  std::erase_if(work, [&](const Work& w) {
    std::vector<std::pair<std::string, std::string>> keys;
    for (const auto& intent : w.plan.intents)
      if (!intent.user_name.empty()) keys.emplace_back(intent.connection, fold_case(intent.user_name));
    const bool taken = std::any_of(keys.begin(), keys.end(), [&](const auto& k) { return addressed.count(k) > 0; });
    if (taken) {
      spdlog::info("event.deferred id={} event_id=\"{}\" reason=\"another event of this batch addresses the same "
                   "Zoom user; runs in the next batch\"",
                   w.event.id, escape_for_log(w.event.event_id));
      release(w.event);
      return true;
    }
    addressed.insert(keys.begin(), keys.end());
    return false;
  });
}

void Engine::hold_supervised(std::vector<Work>& work, Cycle& cycle) {
  const long long now_ms = to_unix_ms(m_clock.now());
  std::erase_if(work, [&](const Work& w) {
    const EventRow& event = w.event;
    if (cycle.store_failed) {   // a hold failed: the rest of the batch is given back unworked
      release(event);
      return true;
    }
    const std::string reason = hold_before_calls(event, w.plan, cycle.rules.lifecycle(), [this](const LinkRow& link) {
      return m_store.links_to_zoom_user(link.connection, link.zoom_user_id, "");
    });
    if (reason.empty()) return false;
    if (auto r = m_store.hold_event(event.id, event.claim_token, reason, now_ms); !r) {
      note_write_failure(event, "hold_event", r.error(), cycle);
      return true;
    }
    note_write_success();
    spdlog::warn("event.held id={} event_id=\"{}\" reason=\"{}\"", event.id, escape_for_log(event.event_id),
                 escape_for_log(reason));
    if (reason.starts_with(k_conflict_prefix) && m_options.on_conflict) m_options.on_conflict(event, reason);
    MutexLock lock(cycle.mutex);
    ++cycle.report.held;
    return true;
  });
}

void Engine::apply_guard(std::vector<Work>& work, Cycle& cycle) {
  reserve_approved(work, cycle);
  auto guarded = [](const Work& w) { return guard_counts(w.event, w.plan); };
  std::map<std::string, GuardVerdict> verdicts;   // by set; only those that do not run
  std::set<std::string> decided;
  for (const auto& w : work) {
    const std::string set = guard_set(w.event);
    if (!guarded(w) || !decided.insert(set).second) continue;
    GuardVerdict v = reserve_guard(w.event, work, cycle);
    if (!v.counted || !v.hold.empty()) verdicts.emplace(set, std::move(v));
  }
  if (verdicts.empty()) return;
  const long long now_ms = to_unix_ms(m_clock.now());
  std::map<std::string, int> held_now;   // set → how many of this batch were held
  std::vector<EventRow> members;          // one of each set held
  std::erase_if(work, [&](const Work& w) {
    if (!guarded(w)) return false;
    auto it = verdicts.find(guard_set(w.event));
    if (it == verdicts.end()) return false;
    // Not counted: given back as it was, and the cycle ends (claimed again, it would be counted again
    // at once). A hold that fails leaves the event unrun all the same: never run past the guard.
    if (cycle.store_failed || !it->second.counted) {
      release(w.event);
      cycle.store_failed = cycle.store_failed || !it->second.counted;
      MutexLock lock(cycle.mutex);   // the cycle's thread alone: no worker runs yet
      ++cycle.report.deferred;
      return true;
    }
    if (auto r = m_store.hold_event(w.event.id, w.event.claim_token, it->second.hold, now_ms); !r) {
      note_write_failure(w.event, "hold_event", r.error(), cycle);
    } else {
      note_write_success();
      {
        MutexLock lock(cycle.mutex);
        ++cycle.report.held;
      }
      if (held_now[it->first]++ == 0) members.push_back(w.event);
    }
    return true;
  });
  for (const auto& member : members) {
    const std::string set = guard_set(member);
    const GuardVerdict& v = verdicts[set];
    // The refusal is logged and alerted once, by the daemon that made it; its later batches quietly.
    if (v.new_refusal) {
      spdlog::critical("guard.held file=\"{}\" held={} max={} per={} reason=\"{}\"", escape_for_log(member.source_file),
                       held_now[set], cycle.rules.lifecycle().guard_max,
                       format_duration(cycle.rules.lifecycle().guard_per), escape_for_log(v.hold));
      if (m_options.on_guard_held) m_options.on_guard_held(member, held_now[set], v.hold);
    } else {
      spdlog::info("guard.held file=\"{}\" held={} note=\"more of a file the guard refused\"",
                   escape_for_log(member.source_file), held_now[set]);
    }
  }
}

void Engine::run_workers(std::vector<Work>& work, Cycle& cycle) {
  if (work.empty()) return;
  auto stopping = [this, &cycle] {
    return cycle.store_failed || (m_options.stop_requested && m_options.stop_requested());
  };
  const std::string rules_version = cycle.rules.version();
  // Read once per batch, so a live change of the options applies from the next batch on.
  const int floor = m_options.workers;
  const int max = m_options.max_connection_workers;
  // An event runs in the lane of its first target: one claim, one outcome, so one thread carries it
  // through all its targets (process() takes them in turn; each is still paced by its own limiter).
  std::vector<LaneRunner::Lane> lanes;
  std::map<std::string, std::size_t> lane_of;
  for (std::size_t i = 0; i < work.size(); ++i) {
    const std::string key = work[i].plan.intents.empty() ? "" : work[i].plan.intents.front().connection;
    auto [it, added] = lane_of.try_emplace(key, lanes.size());
    if (added) lanes.push_back({key, {}});
    lanes[it->second].items.push_back(i);
  }
  auto target = [this, floor, max](const std::string& connection) {
    if (connection.empty()) return std::max(1, floor);   // no Zoom call: the store is the limit
    auto pace = m_connections.pace(connection);
    if (!(pace.rate > 0)) {
      // No limiter yet: building the client reads the stored rate (an error shows again in process()).
      (void)m_connections.client(connection);
      pace = m_connections.pace(connection);
    }
    return connection_concurrency(pace.rate, pace.latency, floor, max);
  };
  OutcomeBatcher outcomes(
      [this](const std::vector<const EventOutcome*>& batch) {
        return m_store.record_outcomes(batch, to_unix_ms(m_clock.now()));
      },
      k_outcome_batch, k_outcome_gather);
  cycle.outcomes = &outcomes;
  if (!m_fibers) m_fibers = std::make_unique<FiberPool>(m_options.threads);
  LaneRunner runner(*m_fibers, std::move(lanes), target, [&](std::size_t i) {
    if (!may_start_calls()) {   // the heartbeat is too old: this claim may no longer hold
      release(work[i].event);
      MutexLock lock(cycle.mutex);
      ++cycle.report.deferred;
      return;
    }
    outcomes.started();
    // Each SCIM call that changes something proves first that the event is still this daemon's: an
    // operator's decision or another daemon's rescue stops the calls not yet sent (zoom/call_fence.hpp).
    // The store's answer alone is not enough: it may come late (a stalled connection, a frozen daemon)
    // and was true only when the database read it. So the heartbeat must be young when the question
    // is sent (no other daemon may take the claim over until half a lease later), and the answer must
    // come back within a quarter of the lease by the monotonic clock: the other quarter is the margin
    // for clock rates (docs/operations.md "Fencing").
    CallFenceScope fence([this, &event = work[i].event]() -> Result<void> {
      const auto asked = std::chrono::steady_clock::now();
      const bool young = may_start_calls();
      auto held = young ? m_store.claim_holds(event.id, event.claim_token) : Result<bool>(false);
      const bool prompt = std::chrono::steady_clock::now() - asked < m_options.claim_lease / 4;
      if (young && held && *held && prompt) return {};
      const char* why = !young ? "heartbeat too old" : !held ? "store unreadable" : !*held ? "claim lost" : "answer too late";
      Error error = Error::transient(
          !young  ? fmt::format("event {}: this daemon's last heartbeat is too old to prove its claim (another daemon "
                                "may take it over)", event.id)
          : !held ? fmt::format("cannot tell whether event {} is still this daemon's: {}", event.id, held.error().message)
          : !*held ? fmt::format("event {} is no longer this daemon's to act on (an operator decided on it, or another "
                                 "daemon took it over)", event.id)
                   : fmt::format("event {}: the database's answer that the claim holds came too late to prove it "
                                 "still does", event.id));
      error.reason = ErrorReason::fenced;
      spdlog::warn("call.fenced id={} owner={} why=\"{}\"", event.id, escape_for_log(m_options.owner), why);
      return unexpected(std::move(error));
    });
    EventOutcome outcome = process(work[i], rules_version);
    if (!finish(work[i], outcome, cycle) && !fence.sent().empty()) note_sent_before_decision(work[i].event, fence.sent());
  }, stopping);
  runner.run();
  cycle.outcomes = nullptr;
  for (const auto& [connection, threads] : runner.peak_fibers())
    spdlog::debug("dispatch.lane connection=\"{}\" peak_fibers={}", escape_for_log(connection), threads);
  // Work no lane took (shutdown, or a failed write ended the cycle) is given back, due as it was.
  for (std::size_t i : runner.untaken()) release(work[i].event);
}

bool Engine::finish(const Work& work, EventOutcome& outcome, Cycle& cycle) {
  auto recorded = cycle.outcomes ? cycle.outcomes->record(outcome)
                                 : m_store.record_outcome(outcome, to_unix_ms(m_clock.now()));
  if (auto& r = recorded; !r) {
    note_write_failure(work.event, "record_outcome", r.error(), cycle);
    return false;
  }
  note_write_success();
  if (m_options.on_outcome) m_options.on_outcome(work.event, outcome);
  if (outcome.state == EventState::held && outcome.reason.starts_with(k_conflict_prefix) && m_options.on_conflict)
    m_options.on_conflict(work.event, outcome.reason);
  MutexLock lock(cycle.mutex);
  CycleReport& report = cycle.report;
  ++report.processed;
  switch (outcome.state) {
  case EventState::done: ++report.done; break;
  case EventState::skipped: ++report.skipped; break;
  case EventState::superseded: ++report.superseded; break;
  case EventState::failed: ++report.failed; break;
  case EventState::held: ++report.held; break;
  case EventState::pending: {
    ++report.retrying;
    SystemTime at = from_unix_ms(outcome.next_attempt_at_ms);
    if (!report.next_retry || at < *report.next_retry) report.next_retry = at;
    break;
  }
  default: break;
  }
  return true;
}

void Engine::note_sent_before_decision(const EventRow& event, const std::vector<std::string>& sent) {
  // The outcome was refused (an operator decided, or another daemon took the event over), but these
  // calls had passed the fence and left: the event's history says so, never "nothing was changed".
  std::string text = std::string(k_sent_before_decision);
  for (std::size_t i = 0; i < sent.size(); ++i) text += (i ? "; " : "") + sent[i];
  spdlog::warn("event.sent_before_decision id={} event_id=\"{}\" calls={}", event.id, escape_for_log(event.event_id),
               sent.size());
  if (auto r = m_store.note_event(event.id, text, to_unix_ms(m_clock.now())); !r)
    spdlog::error("store.write_failed what=note_event id={} error=\"{}\" calls=\"{}\"", event.id,
                  escape_for_log(r.error().message), escape_for_log(text));
}

void Engine::release(const EventRow& event) {
  if (auto r = m_store.release_claim(event.id, event.claim_token); !r && r.error().kind != ErrorKind::conflict)
    spdlog::error("store.write_failed what=release_claim id={} error=\"{}\" note=\"claimable again when the lease "
                  "ends or the daemon restarts\"",
                  event.id, escape_for_log(r.error().message));
}

void Engine::note_write_failure(const EventRow& event, std::string_view what, const Error& error, Cycle& cycle) {
  // conflict: the claim was lost (an operator's reject/approve/retry, or another claimer). That is the
  // store working, not failing: the operator's decision stands and nothing of this attempt is kept.
  if (error.kind == ErrorKind::conflict) {
    spdlog::warn("event.lost_claim id={} event_id=\"{}\" what={} detail=\"{}\"", event.id,
                 escape_for_log(event.event_id), what, escape_for_log(error.message));
    if (m_options.on_lost_claim) m_options.on_lost_claim();
    MutexLock lock(cycle.mutex);
    ++cycle.report.lost_claims;
    return;
  }
  long long expected = 0;
  m_writes_failing_since_ms.compare_exchange_strong(expected, std::max<long long>(1, to_unix_ms(m_clock.now())));
  spdlog::critical("store.write_failed what={} id={} event_id=\"{}\" error=\"{}\" action=\"cycle ended, claim given "
                   "back; the Zoom calls of this attempt are not repeated in this cycle\"",
                   what, event.id, escape_for_log(event.event_id), escape_for_log(error.message));
  cycle.store_failed = true;
  release(event);
  if (m_options.on_store_write_failed) m_options.on_store_write_failed(what);
}

void Engine::note_write_success() { m_writes_failing_since_ms.store(0); }

void Engine::scan_retries(Cycle& cycle) {
  // Retries scheduled by earlier cycles count too (`run --once` waits for them; the daemon wakes for
  // them). Only those that were not yet due when the last claim looked: one that was due then but not
  // taken is blocked behind a held one, not a retry. (Not "due after now": a retry that fell due
  // while the last batch ran would be missed, and `run --once` would stop before it.)
  EventFilter filter;
  filter.state = EventState::pending;
  filter.limit = k_retry_scan_limit;
  auto pending = m_store.list_events(filter);
  if (!pending) return;
  const long long checked_ms = cycle.checked_ms ? cycle.checked_ms : to_unix_ms(m_clock.now());
  MutexLock lock(cycle.mutex);
  CycleReport& report = cycle.report;
  for (const auto& e : *pending) {
    if (e.due_at_ms <= checked_ms) continue;
    const SystemTime at = from_unix_ms(e.due_at_ms);
    if (!report.next_retry || at < *report.next_retry) report.next_retry = at;
  }
}

} // namespace h2r
