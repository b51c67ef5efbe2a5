// Engine: what several daemons on one database add to a cycle — events taken over from a dead daemon
// (rescues, and the poison pill that fails an event rescued too often), and the guard counted across
// daemons.
#include "engine/engine.hpp"

#include "core/text.hpp"
#include "core/time.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

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

bool Engine::reserve_guard(int count, int max) {
  if (count == 0) return true;
  const long long window_ms = std::max<long long>(1, m_options.guard_window.count());
  const long long now_ms = to_unix_ms(m_clock.now());
  const long long window_start = now_ms / window_ms * window_ms;
  auto reserved = m_store.reserve_deactivations(window_start, count, max);
  if (!reserved) {
    // Never run past the guard on a store that cannot count: hold.
    spdlog::error("store.failed what=reserve_deactivations error=\"{}\" action=\"deactivations held\"",
                  escape_for_log(reserved.error().message));
    return false;
  }
  return *reserved;
}

} // namespace h2r
