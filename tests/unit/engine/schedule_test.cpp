// The schedule rules `run` and `plan` share (engine/schedule.hpp), and the short attribute names.
#include "core/time.hpp"
#include "engine/schedule.hpp"
#include "rules/scim_paths.hpp"
#include "rules/short_path.hpp"

#include <doctest/doctest.h>

using namespace h2r;

namespace {

HrEvent hire(const std::string& date) {
  HrEvent e;
  e.event_id = "h-1";
  e.type = EventType::hire;
  e.employee_id = "E1";
  e.effective_date = date;
  e.record = 2;
  e.line = 3;
  return e;
}

SystemTime at(const std::string& text) { return *parse_effective_date(text, "UTC"); }

} // namespace

TEST_CASE("schedule: effective date in the zone, lead days move the due time, waiting until then") {
  const SystemTime now = at("2026-12-02T10:00:00Z");
  ScheduleOptions options{"Europe/Berlin", 1095, 0};
  auto row = schedule_event(hire("2026-12-12"), options, now);
  REQUIRE(row);
  CHECK(row->effective_at_ms == to_unix_ms(at("2026-12-11T23:00:00Z")));
  CHECK(row->due_at_ms == row->effective_at_ms);
  CHECK(row->state == EventState::waiting);
  CHECK(due_reason(EventType::hire, row->effective_at_ms, row->due_at_ms) == "");

  options.hire_lead_days = 3;
  row = schedule_event(hire("2026-12-12"), options, now);
  REQUIRE(row);
  CHECK(row->due_at_ms == to_unix_ms(at("2026-12-08T23:00:00Z")));
  CHECK(due_reason(EventType::hire, row->effective_at_ms, row->due_at_ms) ==
        "3 days of lifecycle.hire.lead_days before the effective date");
  // Lead days apply to hires only; a date in the past or none is due now.
  HrEvent term = hire("2026-12-12");
  term.type = EventType::terminate;
  CHECK(schedule_event(term, options, now)->due_at_ms == to_unix_ms(at("2026-12-11T23:00:00Z")));
  CHECK(schedule_event(hire("2026-12-04"), options, now)->state == EventState::pending);
  auto undated = schedule_event(hire(""), options, now);
  CHECK(undated->effective_at_ms == to_unix_ms(now));
  CHECK(undated->state == EventState::pending);

  auto far = schedule_event(hire("2031-01-01"), options, now);
  REQUIRE_FALSE(far);
  CHECK(far.error().kind == ErrorKind::invalid);
  CHECK(far.error().message.find("record 2 (line 3): field 'effective_date': '2031-01-01'") != std::string::npos);
}

// Debian's zoneinfo lists Australia/Sydney's changes to 2037 and the date library does not read the
// rule after them: a local midnight later than that would take the 2037 offset for good (an hour off
// in half the year), so a date that needs it is refused, naming the field; an exact instant is not.
TEST_CASE("schedule: a date past the zone's listed rules is refused, not put an hour off") {
  const SystemTime now = at("2026-12-02T10:00:00Z");
  ScheduleOptions options{"Australia/Sydney", 36500, 0};
  auto far = schedule_event(hire("2040-06-15"), options, now);
  REQUIRE_FALSE(far);
  CHECK(far.error().kind == ErrorKind::invalid);
  CHECK(far.error().message.find("record 2 (line 3): field 'effective_date': '2040-06-15' is after 2037-") !=
        std::string::npos);
  CHECK(far.error().message.find("zone rules for Australia/Sydney end") != std::string::npos);
  CHECK(schedule_event(hire("2037-06-15"), options, now));   // within the listed rules

  HrEvent term = hire("2040-06-15T09:00:00+10:00");   // an exact instant: no zone needed
  term.type = EventType::terminate;
  auto exact = schedule_event(term, options, now);
  REQUIRE(exact);
  CHECK(exact->effective_at_ms == to_unix_ms(at("2040-06-14T23:00:00Z")));
  // A hire's lead days count local days back from it: the zone is needed again.
  options.hire_lead_days = 3;
  CHECK_FALSE(schedule_event(hire("2040-06-15T09:00:00+10:00"), options, now));
  // A zone whose last offset holds for good has no end.
  CHECK(schedule_event(hire("2120-01-01"), ScheduleOptions{"Asia/Kolkata", 36500, 3}, now));
}

TEST_CASE("schedule: order, supervision and the guard") {
  EventRow a, b;
  a.id = 9;
  a.effective_at_ms = 100;
  b.id = 3;
  b.effective_at_ms = 200;
  CHECK(runs_before(a, b));
  b.effective_at_ms = 100;
  CHECK(runs_before(b, a));   // same instant: arrival order

  Lifecycle lifecycle;
  a.type = EventType::terminate;
  CHECK(supervision_hold(a, lifecycle) == "");
  lifecycle.supervised.insert(EventType::terminate);
  CHECK(supervision_hold(a, lifecycle) == "supervised: terminate waits for `h2rd events approve 9`");
  a.approved = true;
  CHECK(supervision_hold(a, lifecycle) == "");

  EventRow member;
  member.source_file = "/var/lib/h2r/inbox/leavers.jsonl";
  member.received_at_ms = 1700000000000;
  CHECK(guard_set(member) == "/var/lib/h2r/inbox/leavers.jsonl@1700000000000");
  Lifecycle guard;
  guard.guard_max = 2;
  guard.guard_per = std::chrono::minutes(90);
  CHECK(guard_hold(member, 3, 0, guard) ==
        "guard: file /var/lib/h2r/inbox/leavers.jsonl would take away 3 (deactivate, delete, license or user type "
        "down), more than lifecycle.guard.max (2) per 90m. All of this file that takes something away is held; "
        "approve with `h2rd events approve --all` (or one by one), or reject");
  member.source_file = "rules:abc123";
  CHECK(guard_hold(member, 1, 2, guard).find("guard: the resync of rules version abc123 would take away 1 (deactivate, "
                                             "delete, license or user type down) beside 2 reserved in the last 90m "
                                             "across every daemon") == 0);
}

TEST_CASE("scim paths: short names for people") {
  CHECK(short_scim_path(std::string(k_scim_enterprise_urn) + ".department") == "enterprise.department");
  CHECK(short_scim_path(std::string(k_zoom_user_urn) + ".loginType.sso") == "zoom.loginType.sso");
  CHECK(short_scim_path(std::string(k_zoom_license_urn) + ".pronouns") == "zoom.pronouns");
  CHECK(short_scim_path(std::string(k_zoom_license_urn) + ".zoomOneBizPlus") == "zoom.licenses.zoomOneBizPlus");
  CHECK(short_scim_path("name.givenName") == "name.givenName");
  CHECK(short_scim_path(std::string(k_zoom_license_urn)) == std::string(k_zoom_license_urn));
}

TEST_CASE("takes_away: an on-demand push of a Basic type or a license off counts for the guard, whatever was pushed") {
  EventPlan plan;
  Intent intent;
  intent.kind = IntentKind::provision;
  LinkRow link;
  link.pushed_body = {{"userType", "Basic"}};   // what h2r pushed: the same Basic
  intent.link = link;
  DesiredUser desired;
  desired.body = {{"userType", "Basic"}};
  intent.desired = desired;
  plan.intents = {intent};
  CHECK_FALSE(takes_away(plan));                // an ordinary update: nothing changes that h2r knows of
  plan.intents[0].push_anyway = true;           // on demand: Zoom may have a Licensed user by hand
  CHECK(takes_away(plan));
  plan.intents[0].desired->body = {{"userType", "Licensed"},
                                   {"urn:ietf:params:scim:schemas:extension:zoom:1.0:User", {{"zoomPhone", false}}}};
  CHECK(takes_away(plan));                      // a license turned off
  plan.intents[0].desired->body["urn:ietf:params:scim:schemas:extension:zoom:1.0:User"]["zoomPhone"] = true;
  CHECK_FALSE(takes_away(plan));                // nothing taken: counts for nothing
}
