// Engine: what several daemons on one database add to a cycle — events taken over from a dead daemon
// (rescues, and the poison pill that fails an event rescued too often), and the guard's budget counted
// across daemons, one set of changes (an inbox file, a rules edit's resync) at a time.
#include "engine/engine.hpp"

#include "core/text.hpp"
#include "core/time.hpp"
#include "engine/schedule.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

namespace h2r {

void Engine::take_over(std::vector<EventRow>& claimed, Cycle& cycle) {
  const int total = static_cast<int>(claimed.size());
  int rescued = 0;
  std::erase_if(claimed, [&](const EventRow& event) {
    if (event.rescued_from.empty()) return false;
    ++rescued;
    spdlog::warn("claims.rescued id={} event_id=\"{}\" rescued_from=\"{}\" rescues={}", event.id,
                 escape_for_log(event.event_id), escape_for_log(event.rescued_from), event.rescues);
    if (event.rescues <= k_max_rescues) return false;
    // A poison pill: every daemon that took it died. A person looks before it runs again.
    EventOutcome outcome;
    outcome.id = event.id;
    outcome.claim_token = event.claim_token;
    outcome.state = EventState::failed;
    outcome.reason = fmt::format("taken over from a dead daemon {} times (it may crash h2rd): approve a retry after "
                                 "checking",
                                 event.rescues);
    outcome.rules_version = cycle.rules.version();
    outcome.attempts = event.attempts;
    outcome.result = nlohmann::json{{"why", "poison pill"}, {"rescued_from", event.rescued_from}}.dump();
    if (cycle.store_failed) {
      release(event);
      return true;
    }
    if (auto r = m_store.record_outcome(outcome, to_unix_ms(m_clock.now())); !r) {
      note_write_failure(event, "record_outcome", r.error(), cycle);
      return true;
    }
    note_write_success();
    spdlog::error("event.failed id={} event_id=\"{}\" reason=\"{}\"", event.id, escape_for_log(event.event_id),
                  escape_for_log(outcome.reason));
    if (m_options.on_outcome) m_options.on_outcome(event, outcome);
    MutexLock lock(cycle.mutex);
    ++cycle.report.processed;
    ++cycle.report.failed;
    return true;
  });
  if (m_options.on_claims) m_options.on_claims(total, rescued);
}

std::optional<SetChanges> Engine::set_changes(const EventRow& member, const std::vector<Work>& work,
                                              const Rules& rules, long long until_ms) {
  const std::string set = guard_set(member);
  SetChanges out;
  std::set<long long> in_batch;
  for (const auto& w : work) {
    in_batch.insert(w.event.id);
    if (guard_counts(w.event, w.plan) && guard_set(w.event) == set) out.add(w.event);
  }
  std::vector<EventRow> others;
  for (EventState state : {EventState::pending, EventState::waiting}) {
    EventFilter filter;
    filter.state = state;
    filter.source_file = member.source_file;
    filter.limit = k_retry_scan_limit;
    auto rows = m_store.list_events(filter);
    if (!rows) {
      spdlog::error("store.read_failed what=list_events error=\"{}\"", escape_for_log(rows.error().message));
      return std::nullopt;
    }
    // More than the limit with this name: the set cannot be counted whole (never guess low).
    if (rows->size() >= static_cast<std::size_t>(filter.limit)) {
      spdlog::error("guard.uncountable file=\"{}\" note=\"more than {} open events with this name\"",
                    escape_for_log(member.source_file), filter.limit);
      out.count = std::max(out.count, rules.lifecycle().guard_max + 1);
      return out;
    }
    for (auto& e : *rows)
      if (still_to_run_in(e, set, until_ms) && !in_batch.count(e.id)) others.push_back(std::move(e));
  }
  auto connections = m_store.list_connections();
  if (!connections) return std::nullopt;
  std::vector<std::string> names;
  for (const auto& c : *connections) names.push_back(c.name);
  // In slices, so the employees and links of a file of many thousand events are never read at once.
  constexpr std::size_t k_slice = 500;
  for (std::size_t from = 0; from < others.size(); from += k_slice) {
    const std::size_t to = std::min(others.size(), from + k_slice);
    std::vector<std::string> ids;
    for (std::size_t i = from; i < to; ++i) ids.push_back(others[i].employee_id);
    auto inputs = m_store.plan_inputs(ids, names);
    if (!inputs || inputs->size() != ids.size()) return std::nullopt;
    for (std::size_t i = from; i < to; ++i)
      if (guard_counts(others[i], plan_event(others[i], (*inputs)[i - from].employee, (*inputs)[i - from].links, rules)))
        out.add(others[i]);
  }
  return out;
}

Engine::GuardVerdict Engine::reserve_guard(const EventRow& member, const std::vector<Work>& work, Cycle& cycle) {
  const Lifecycle& lifecycle = cycle.rules.lifecycle();
  const std::string set = guard_set(member);
  const long long now_ms = to_unix_ms(m_clock.now());
  std::erase_if(m_guard_decided, [&](const auto& d) { return d.second.until_ms <= now_ms; });
  if (auto it = m_guard_decided.find(set); it != m_guard_decided.end() && it->second.rules_version == cycle.rules.version())
    return GuardVerdict{true, it->second.hold, false};
  // Events of the set due after this window ask in a window of their own, when they come.
  auto changes = set_changes(member, work, cycle.rules, now_ms + lifecycle.guard_per.count());
  Result<GuardAnswer> answer = fail(ErrorKind::transient, "the set's events could not be read");
  if (changes) {
    answer = m_store.reserve_guard(guard_request(member, *changes, now_ms, lifecycle));
  }
  if (!answer) {
    // Never run past the guard on a store that cannot count: the set's events are given back.
    spdlog::error("store.failed what=reserve_guard file=\"{}\" error=\"{}\" action=\"given back, counted again in "
                  "the next cycle\"",
                  escape_for_log(member.source_file), escape_for_log(answer.error().message));
    return GuardVerdict{false, "", false};
  }
  GuardVerdict verdict;
  if (!answer->granted) verdict.hold = guard_hold(member, changes->count, answer->counted, lifecycle);
  verdict.new_refusal = !answer->granted && !answer->decided_before;
  m_guard_decided[set] = GuardDecided{std::min(answer->decided_at_ms, now_ms) + lifecycle.guard_per.count(),
                                      verdict.hold, cycle.rules.version()};
  return verdict;
}

void Engine::reserve_approved(const std::vector<Work>& work, const Cycle& cycle) {
  const Lifecycle& lifecycle = cycle.rules.lifecycle();
  std::map<std::string, GuardRequest> by_set;
  const long long now_ms = to_unix_ms(m_clock.now());
  for (const auto& w : work) {
    if (!w.event.approved || !takes_away(w.plan)) continue;
    auto& request = by_set[guard_set(w.event)];
    request.set = "approved:" + guard_set(w.event);
    request.now_ms = now_ms;
    request.per_ms = lifecycle.guard_per.count();
    request.max = lifecycle.guard_max;
    request.approved = true;
    ++request.count;
  }
  for (const auto& [set, request] : by_set)
    if (auto r = m_store.reserve_guard(request); !r)
      spdlog::error("store.failed what=reserve_guard file=\"{}\" error=\"{}\" note=\"approved changes run uncounted\"",
                    escape_for_log(set), escape_for_log(r.error().message));
}

} // namespace h2r
