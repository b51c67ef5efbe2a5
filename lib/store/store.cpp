#include "store/store.hpp"

namespace h2r {

std::string_view to_string(EventState state) {
  switch (state) {
  case EventState::pending: return "pending";
  case EventState::waiting: return "waiting";
  case EventState::done: return "done";
  case EventState::skipped: return "skipped";
  case EventState::failed: return "failed";
  case EventState::held: return "held";
  case EventState::rejected: return "rejected";
  }
  return "unknown";
}

std::optional<EventState> parse_event_state(std::string_view text) {
  for (auto s : {EventState::pending, EventState::waiting, EventState::done, EventState::skipped,
                 EventState::failed, EventState::held, EventState::rejected})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

bool is_final(EventState state) {
  switch (state) {
  case EventState::done:
  case EventState::skipped:
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

} // namespace h2r
