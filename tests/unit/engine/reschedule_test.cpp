// Rescheduling waiting events when timezone or lifecycle.hire.lead_days change (engine/reschedule.hpp):
// the times ingest would give them now, under the same rule (schedule_event), once.
#include "core/time.hpp"
#include "engine/reschedule.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace h2r;

namespace {

SystemTime at(const std::string& text) { return *parse_effective_date(text, "UTC"); }

HrEvent event(const std::string& event_id, EventType type, const std::string& employee, const std::string& date) {
  HrEvent e;
  e.event_id = event_id;
  e.type = type;
  e.employee_id = employee;
  e.fields = {{"employee_id", employee}};
  e.effective_date = date;
  return e;
}

EventRow stored(Store& store, const std::string& event_id) {
  auto row = store.find_event(event_id);
  REQUIRE((row && row->has_value()));
  return **row;
}

} // namespace

TEST_CASE("reschedule: a waiting hire gets the due time the new lead days and time zone make, as ingest would") {
  const SystemTime now = at("2026-12-02T10:00:00Z");
  const ScheduleOptions before{"UTC", 1095, 14};
  const ScheduleOptions after{"Europe/Berlin", 1095, 3};
  auto made = schedule_event(event("h", EventType::hire, "E1", "2026-12-30"), before, now);
  REQUIRE(made);
  CHECK(made->due_at_ms == to_unix_ms(at("2026-12-16T00:00:00Z")));
  EventRow row;
  row.id = 7;
  row.type = EventType::hire;
  row.effective_raw = "2026-12-30";
  row.effective_at_ms = made->effective_at_ms;
  row.due_at_ms = made->due_at_ms;
  row.state = EventState::waiting;

  auto change = reschedule_event(row, after, now, "rescheduled");
  REQUIRE(change);
  const auto fresh = schedule_event(event("h", EventType::hire, "E1", "2026-12-30"), after, now);
  CHECK(change->effective_at_ms == fresh->effective_at_ms);   // the one rule: what ingest gives it now
  CHECK(change->due_at_ms == fresh->due_at_ms);
  CHECK(change->due_at_ms == to_unix_ms(at("2026-12-26T23:00:00Z")));
  CHECK(change->state == EventState::waiting);
  CHECK(change->reason == "rescheduled; due 2026-12-26T23:00:00Z (was 2026-12-16T00:00:00Z)");

  // Recomputing what was recomputed changes nothing.
  row.effective_at_ms = change->effective_at_ms;
  row.due_at_ms = change->due_at_ms;
  CHECK_FALSE(reschedule_event(row, after, now, "again"));
  // A due time that moves into the past makes the event due now.
  CHECK(reschedule_event(row, ScheduleOptions{"Europe/Berlin", 1095, 30}, now, "r")->state == EventState::pending);
  // Claimed, not waiting, or without an effective date ("now"): left as they are.
  EventRow claimed = row;
  claimed.claim_token = "t";
  CHECK_FALSE(reschedule_event(claimed, before, now, "r"));
  EventRow held = row;
  held.state = EventState::held;
  CHECK_FALSE(reschedule_event(held, before, now, "r"));
  EventRow undated = row;
  undated.effective_raw = "";
  CHECK_FALSE(reschedule_event(undated, before, now, "r"));
}

TEST_CASE("reschedule: reschedule_waiting walks every waiting event in batches, counts earlier and later, once") {
  h2r::test::TempDir dir;
  std::unique_ptr<Store> store = open_sqlite_store((dir.path() / "h2r.db").string()).value();
  const SystemTime now = at("2026-12-02T10:00:00Z");
  const ScheduleOptions before{"UTC", 1095, 14};
  std::vector<NewEvent> rows;
  // More waiting hires than one batch holds, one terminate (no lead days), one hire due already.
  const int hires = k_reschedule_batch + 3;
  for (int i = 0; i < hires; ++i)
    rows.push_back(*schedule_event(event("h" + std::to_string(i), EventType::hire, "E" + std::to_string(i), "2027-01-20"),
                                   before, now));
  rows.push_back(*schedule_event(event("t", EventType::terminate, "T1", "2027-01-20"), before, now));
  rows.push_back(*schedule_event(event("p", EventType::hire, "P1", "2026-12-01"), before, now));
  REQUIRE(store->ingest("f.json", rows, to_unix_ms(now)));

  // Lead days 14 → 3: every waiting hire is due later; the terminate and the pending hire keep theirs.
  auto totals = reschedule_waiting(*store, ScheduleOptions{"UTC", 1095, 3}, now, "lead days");
  REQUIRE(totals);
  CHECK(totals->events == hires);
  CHECK(totals->later == hires);
  CHECK(totals->earlier == 0);
  CHECK(stored(*store, "h0").due_at_ms == to_unix_ms(at("2027-01-17T00:00:00Z")));
  CHECK(stored(*store, "h" + std::to_string(hires - 1)).due_at_ms == to_unix_ms(at("2027-01-17T00:00:00Z")));
  CHECK(stored(*store, "t").due_at_ms == to_unix_ms(at("2027-01-20T00:00:00Z")));
  CHECK(stored(*store, "p").due_at_ms == to_unix_ms(at("2026-11-17T00:00:00Z")));   // pending: due already
  auto history = store->event_history(stored(*store, "h0").id);
  REQUIRE(history);
  CHECK(history->back().reason == "rescheduled: lead days; due 2027-01-17T00:00:00Z (was 2027-01-06T00:00:00Z)");

  // The same settings again (a second daemon's reload): nothing changes.
  totals = reschedule_waiting(*store, ScheduleOptions{"UTC", 1095, 3}, now, "lead days");
  REQUIRE(totals);
  CHECK(totals->events == 0);

  // A time zone east of UTC and lead days 60: effective instants move an hour earlier, every hire is due
  // by now (pending), the terminate waits an hour less.
  totals = reschedule_waiting(*store, ScheduleOptions{"Europe/Berlin", 1095, 60}, now, "zone");
  REQUIRE(totals);
  CHECK(totals->events == hires + 1);
  CHECK(totals->earlier == hires + 1);
  CHECK(totals->due_now == hires);
  CHECK(stored(*store, "h1").state == EventState::pending);
  CHECK(stored(*store, "t").state == EventState::waiting);
  CHECK(stored(*store, "t").effective_at_ms == to_unix_ms(at("2027-01-19T23:00:00Z")));
  // The tzdata release is a setting too: new zone rules move local midnights (a start under an updated
  // tzdata finds another text in the store and reschedules).
  CHECK(schedule_settings(ScheduleOptions{"Europe/Berlin", 1095, 60}) ==
        "timezone=Europe/Berlin lead_days=60 tzdata=" + time_zone_rules_version());
}
