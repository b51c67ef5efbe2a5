// The words the console's Review groups and badges held events by (issue 27): hold_kind from the
// engine's own hold reasons, event_effect from the rules' lifecycle.
#include "views/views.hpp"
#include "engine/schedule.hpp"

#include <doctest/doctest.h>

using namespace h2r;

namespace {

EventRow held(EventType type, std::string reason) {
  EventRow e;
  e.id = 7;
  e.type = type;
  e.employee_id = "E1";
  e.source_file = "leavers.csv";
  e.state = EventState::held;
  e.reason = std::move(reason);
  return e;
}

} // namespace

TEST_CASE("hold_kind: each reason the engine holds with, named by its kind") {
  Lifecycle lifecycle;
  lifecycle.supervised = {EventType::terminate};
  const EventRow term = held(EventType::terminate, "");
  CHECK(hold_kind(held(EventType::terminate, supervision_hold(term, lifecycle))) == "supervised");
  CHECK(hold_kind(held(EventType::terminate, guard_hold(term, 40, 0, lifecycle))) == "guard");
  CHECK(hold_kind(held(EventType::update, std::string(k_conflict_prefix) + "Zoom user 'a@example.com' …")) == "conflict");
  CHECK(hold_kind(held(EventType::update, "held for approval")) == "approval");
  EventRow done = held(EventType::terminate, supervision_hold(term, lifecycle));
  done.state = EventState::done;
  CHECK(hold_kind(done) == "");
  // event_json carries it for a held event only.
  CHECK(event_json(held(EventType::terminate, guard_hold(term, 40, 0, lifecycle)), false, 0)["hold"] == "guard");
  CHECK_FALSE(event_json(done, false, 0).contains("hold"));
}

TEST_CASE("event_effect: the badge follows lifecycle.terminate and lifecycle.leave") {
  Lifecycle lifecycle;
  CHECK(event_effect(held(EventType::terminate, ""), lifecycle) == "deactivates");
  lifecycle.terminate = TerminateAction::remove;
  CHECK(event_effect(held(EventType::terminate, ""), lifecycle) == "deletes");
  EventRow leave = held(EventType::leave, "");
  leave.leave_type = LeaveType::long_term;   // deactivates by default
  CHECK(event_effect(leave, lifecycle) == "deactivates");
  leave.leave_type = LeaveType::fmla;        // kept by default
  CHECK(event_effect(leave, lifecycle) == "");
  lifecycle.leave[LeaveType::fmla] = LeaveAction::deactivate;
  CHECK(event_effect(leave, lifecycle) == "deactivates");
  // A guard-held update takes a license or user type away; an ordinary hire takes nothing.
  CHECK(event_effect(held(EventType::update, guard_hold(held(EventType::update, ""), 60, 0, lifecycle)), lifecycle) == "takes away");
  CHECK(event_effect(held(EventType::hire, "held for approval"), lifecycle) == "");
  // A supervised resync says what it would do.
  CHECK(event_effect(held(EventType::resync, std::string(k_supervised_prefix) + "this resync (a rules edit) would delete for employee E1 in z"),
                     lifecycle) == "deletes");
  CHECK(event_effect(held(EventType::resync, std::string(k_supervised_prefix) + "this resync (a rules edit) would deactivate for employee E1 in z"),
                     lifecycle) == "deactivates");
  CHECK(event_effect(held(EventType::resync, std::string(k_supervised_prefix) + "this resync (a rules edit) would make it a Basic user for employee E1"),
                     lifecycle) == "takes away");
}
