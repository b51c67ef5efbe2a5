#include "views/event_actions.hpp"

#include "core/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace h2r {
namespace {

bool applies(std::string_view verb, const EventRow& e) { return event_action_refusal(verb, e).empty(); }

bool reason_holds(const EventRow& e, const std::string& lowered_text) {
  return lowered_text.empty() || ascii_lower(e.reason).find(lowered_text) != std::string::npos;
}

// The events `selection` means now, oldest first; an error text when it cannot be read.
Result<std::vector<long long>> selected(Store& store, std::string_view verb, const EventSelection& selection,
                                        long long now_ms) {
  EventFilter filter;
  if (verb == "approve") filter.state = EventState::held;
  if (verb == "retry") filter.state = selection.waiting_retries ? EventState::pending : EventState::failed;
  if (!selection.source_file.empty()) filter.source_file = selection.source_file;
  filter.limit = static_cast<int>(k_max_selected_events) + 1;
  auto rows = H2R_TRY(store.list_events(filter));
  const std::string text = ascii_lower(selection.reason_contains);
  std::vector<long long> ids;
  // A pending row that retry applies to waits to retry already (event_action_refusal); only one not
  // yet due is made due by it.
  for (const auto& e : rows)
    if (applies(verb, e) && reason_holds(e, text) && (!selection.waiting_retries || e.due_at_ms > now_ms))
      ids.push_back(e.id);
  std::reverse(ids.begin(), ids.end());   // list_events is newest first; act in arrival order
  return ids;
}

} // namespace

std::string describe_selection(std::string_view verb, const EventSelection& selection) {
  std::string out = verb == "approve"             ? "held"
                    : selection.waiting_retries ? "pending waiting to try again"
                    : verb == "retry"           ? "failed"
                                                : "pending, waiting or held";
  if (!selection.reason_contains.empty()) out += " whose reason holds '" + selection.reason_contains + "'";
  if (!selection.source_file.empty()) out += " from " + selection.source_file;
  return out;
}

EventActionOutcome act_on_events(Store& store, std::string_view verb, const EventSelection& selection,
                                 const std::string& reject_reason, long long now_ms) {
  EventActionOutcome out;
  const auto refuse = [&](int status, std::string error) {
    out.status = status;
    out.error = std::move(error);
    return out;
  };
  if (selection.all) {
    if (verb == "reject" && selection.source_file.empty())
      return refuse(400, "rejecting a selection needs its source file: every open event at once is never one action");
    auto ids = selected(store, verb, selection, now_ms);
    if (!ids) return refuse(500, "cannot read the store: " + ids.error().message);
    out.count = static_cast<long long>(ids->size());
    if (selection.expect_count >= 0 && out.count != selection.expect_count)
      return refuse(409, fmt::format("{} events are {} now, not {}: nothing was changed (reload and look again)", out.count,
                                     describe_selection(verb, selection), selection.expect_count));
    out.ids = std::move(*ids);
  } else {
    for (long long id : selection.ids) {
      auto row = store.get_event(id);
      if (!row) return refuse(500, "cannot read the store: " + row.error().message);
      if (!*row) return refuse(404, fmt::format("no event has the id {}: nothing was changed", id));
      if (auto why = event_action_refusal(verb, **row); !why.empty()) out.refusals.push_back(why);
    }
    if (!out.refusals.empty())
      return refuse(409, out.refusals.front() +
                             (out.refusals.size() > 1 ? fmt::format(" (and {} more)", out.refusals.size() - 1) : "") +
                             ": nothing was changed");
    out.ids = selection.ids;
  }
  for (long long id : out.ids) {
    Result<int> one = 0;
    if (verb == "approve") one = store.approve_event(id, now_ms);
    else if (verb == "retry") one = store.retry_event(id, now_ms);
    else if (auto rejected = store.reject_event(id, reject_reason, now_ms); !rejected) one = unexpected(rejected.error());
    else one = 1;
    // Between the check and here the daemon or another operator may have moved the event on: say which.
    if (!one) out.errors.emplace_back(id, one.error().message);
    else out.changed += *one;
  }
  return out;
}

} // namespace h2r
