// Issue 24, case 5, as a property: for random interleavings of one employee's hire, update, leave,
// return, terminate and rehire events (random effective dates, shuffled arrival, each arrival worked
// before the next comes), the Zoom user ends as the date-ordered fold of those events says — the real
// Engine, a real SQLite file and zoom-sim (tests/e2e/clock_rig.hpp).
#include "clock_rig.hpp"

#include <date/date.h>

#include <algorithm>
#include <random>
#include <set>

using namespace h2r;
using namespace h2r::test;
using nlohmann::json;

namespace {

constexpr int k_rounds = 40;
const std::string k_email = "pat@example.com";

struct Planned {
  HrEvent event;
  int day = 0;   // effective day of 2025 (distinct per event)
};

std::string day_text(int day) {
  const auto date = date::year_month_day{date::sys_days(date::year{2025} / 1 / 1) + date::days(day)};
  return date::format("%F", date);
}

// The status the date-ordered fold gives, and the title, as h2r-events(5) DATE ORDER states them.
std::pair<HrStatus, std::string> fold(std::vector<Planned> events) {
  std::sort(events.begin(), events.end(), [](const Planned& a, const Planned& b) { return a.day < b.day; });
  HrStatus status = HrStatus::unknown;
  std::string title;
  for (const auto& p : events) {
    switch (p.event.type) {
    case EventType::hire:
    case EventType::rehire:
    case EventType::return_to_work: status = HrStatus::active; break;
    case EventType::leave: status = HrStatus::on_leave; break;
    case EventType::terminate: status = HrStatus::terminated; break;
    default: break;
    }
    if (auto it = p.event.fields.find("job_title"); it != p.event.fields.end() && it->second) title = *it->second;
  }
  return {status, title};
}

} // namespace

TEST_CASE("e2e date order property: shuffled arrivals of one employee's events end as their date-ordered fold") {
  std::mt19937 random(20261206);
  const EventType k_types[] = {EventType::update, EventType::leave, EventType::return_to_work, EventType::terminate,
                               EventType::rehire};
  for (int round = 0; round < k_rounds; ++round) {
    CAPTURE(round);
    // The clock stands after every date: each event is due the moment it arrives.
    ClockRig rig("", at("2026-01-01T12:00:00Z"), "UTC");
    const int count = std::uniform_int_distribution<int>(3, 7)(random);
    std::set<int> days;
    while (static_cast<int>(days.size()) < count) days.insert(std::uniform_int_distribution<int>(0, 300)(random));
    std::vector<Planned> events;
    int n = 0;
    for (int day : days) {
      // The first in date order is the hire; the others are drawn.
      const EventType type = n == 0 ? EventType::hire : k_types[std::uniform_int_distribution<int>(0, 4)(random)];
      FieldPatch fields{{"email", k_email}, {"first_name", "Pat"}};
      if (type == EventType::hire || type == EventType::update || std::bernoulli_distribution(0.5)(random))
        fields["job_title"] = "Title " + std::to_string(n);
      HrEvent e = hr_event("evt-" + std::to_string(n), type, "E1", day_text(day), fields);
      if (type == EventType::leave) e.leave_type = LeaveType::long_term;   // deactivates (the default)
      events.push_back({std::move(e), day});
      ++n;
    }
    std::vector<Planned> arrival = events;
    std::shuffle(arrival.begin(), arrival.end(), random);
    std::string story;
    for (const auto& p : arrival) {
      story += std::string(to_string(p.event.type)) + "@" + day_text(p.day) + " ";
      rig.ingest(p.event.event_id + ".json", {p.event});
      const CycleReport report = rig.engine().run_cycle();
      CHECK(report.failed == 0);
      CHECK(report.retrying == 0);
    }
    CAPTURE(story);
    const auto [status, title] = fold(events);
    const auto users = rig.users(k_email);
    if (status == HrStatus::active) {
      REQUIRE(users.size() == 1);
      CHECK(users[0]["active"] == true);
      CHECK(users[0]["title"] == title);
    } else {
      CHECK(users.size() <= 1);
      for (const auto& u : users) CHECK(u["active"] == false);
    }
    auto stored = rig.store().get_employee("E1");
    REQUIRE(stored);
    REQUIRE(stored->has_value());
    CHECK((*stored)->status == status);
    CHECK((*stored)->record.at("job_title") == title);
  }
}
