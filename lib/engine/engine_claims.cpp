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
    std::lock_guard lock(cycle.mutex);
    ++cycle.report.processed;
    ++cycle.report.failed;
    return true;
  });
  if (m_options.on_claims) m_options.on_claims(total, rescued);
}

std::optional<int> Engine::set_changes(const EventRow& member, const std::vector<Work>& work, const Rules& rules,
                                      long long until_ms) {
  const std::string set = guard_set(member);
  int count = 0;
  std::set<long long> in_batch;
  for (const auto& w : work) {
    in_batch.insert(w.event.id);
    if (!w.event.approved && takes_away(w.plan) && guard_set(w.event) == set) ++count;
  }
  std::vector<EventRow> others;
  for (EventState state : {EventState::pending, EventState::waiting}) {
    EventFilter filter;
    filter.state = state;
    filter.source_file = member.source_file;
    filter.limit = k_retry_scan_limit;
    auto rows = m_store.list_events(filter);
    if (!rows) {
      spdlog::error("store.read_failed what=list_events error=\"{}\" action=\"the guard holds the set\"",
                    escape_for_log(rows.error().message));
      return std::nullopt;
    }
    for (auto& e : *rows)
      if (!e.approved && e.received_at_ms == member.received_at_ms && e.source_file == member.source_file &&
          e.due_at_ms < until_ms && !in_batch.count(e.id))
        others.push_back(std::move(e));
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
      if (takes_away(plan_event(others[i], (*inputs)[i - from].employee, (*inputs)[i - from].links, rules))) ++count;
  }
  return count;
}

std::string Engine::reserve_guard(const EventRow& member, const std::vector<Work>& work, Cycle& cycle) {
  const Lifecycle& lifecycle = cycle.rules.lifecycle();
  const std::string set = guard_set(member);
  const long long now_ms = to_unix_ms(m_clock.now());
  std::erase_if(m_guard_decided, [&](const auto& d) { return d.second.until_ms <= now_ms; });
  if (auto it = m_guard_decided.find(set); it != m_guard_decided.end()) return it->second.hold;
  // Events of the set due after this window ask in a window of their own, when they come.
  auto count = set_changes(member, work, cycle.rules, now_ms + lifecycle.guard_per.count());
  auto answer = count ? m_store.reserve_guard(GuardRequest{set, now_ms, lifecycle.guard_per.count(), *count,
                                                           lifecycle.guard_max})
                      : Result<GuardAnswer>(fail(ErrorKind::transient, "the set's events could not be read"));
  if (!answer) {
    // Never run past the guard on a store that cannot count: hold (not remembered: asked again next time).
    spdlog::error("store.failed what=reserve_guard error=\"{}\" action=\"held\"", escape_for_log(answer.error().message));
    return std::string(k_guard_prefix) + "the changes of " + member.source_file + " that take something away could not "
           "be counted against lifecycle.guard (the database did not answer: " + answer.error().message +
           "); held so the guard is never passed unseen; approve with `h2rd events approve --all` (or one by one), "
           "or reject";
  }
  std::string hold = answer->granted ? "" : guard_hold(member, *count, answer->counted, lifecycle);
  m_guard_decided[set] = GuardDecided{answer->decided_at_ms + lifecycle.guard_per.count(), hold};
  return hold;
}

} // namespace h2r
