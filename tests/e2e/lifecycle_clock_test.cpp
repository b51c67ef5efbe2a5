// Issue 3: effective dates with a fake clock — the real Engine, a real SQLite file and real HTTP to
// zoom-sim, but time moved by the test. Dates are in America/New_York, DST edges included.
#include "clock_rig.hpp"

using namespace h2r;
using namespace h2r::test;
using nlohmann::json;

namespace {

FieldPatch person(const std::string& email) { return {{"email", email}, {"first_name", "Pat"}, {"job_title", "Engineer"}}; }

} // namespace

TEST_CASE("e2e lifecycle clock: a future hire waits and is provisioned at local midnight of its day") {
  ClockRig rig("", at("2026-11-30T12:00:00Z"));
  rig.ingest("hires.json", {hr_event("h-1", EventType::hire, "E1", "2026-12-01", person("pat@example.com"))});
  CHECK(rig.state("h-1") == "waiting");
  rig.engine().run_cycle();
  CHECK(rig.state("h-1") == "waiting");
  CHECK(rig.users("pat@example.com").empty());

  rig.clock().set(at("2026-12-01T04:59:59Z"));   // 23:59:59 EST on Nov 30
  auto report = rig.engine().run_cycle();
  CHECK(report.processed == 0);
  CHECK(rig.users("pat@example.com").empty());

  rig.clock().set(at("2026-12-01T05:00:00Z"));   // midnight EST
  report = rig.engine().run_cycle();
  CHECK(report.done == 1);
  CHECK(rig.state("h-1") == "done");
  REQUIRE(rig.users("pat@example.com").size() == 1);
}

TEST_CASE("e2e lifecycle clock: lead_days provisions before the start date, across the spring DST change") {
  ClockRig rig("lifecycle:\n  hire: { lead_days: 2 }\n", at("2026-03-01T12:00:00Z"));
  // Starts 2026-03-10 (EDT); two days earlier is 2026-03-08, whose midnight is still EST (05:00Z).
  rig.ingest("hires.json", {hr_event("h-1", EventType::hire, "E1", "2026-03-10", person("pat@example.com")),
                            hr_event("t-1", EventType::terminate, "E2", "2026-03-10")});
  auto hire = rig.store().find_event("h-1");
  REQUIRE(hire);
  REQUIRE(*hire);
  CHECK(format_utc(from_unix_ms((*hire)->effective_at_ms)) == "2026-03-10T04:00:00Z");
  CHECK(format_utc(from_unix_ms((*hire)->due_at_ms)) == "2026-03-08T05:00:00Z");
  auto term = rig.store().find_event("t-1");
  REQUIRE(term);
  REQUIRE(*term);
  CHECK((*term)->due_at_ms == (*term)->effective_at_ms);   // lead days are for hires only

  rig.clock().set(at("2026-03-08T04:59:59Z"));
  rig.engine().run_cycle();
  CHECK(rig.state("h-1") == "waiting");
  CHECK(rig.users("pat@example.com").empty());
  rig.clock().set(at("2026-03-08T05:00:00Z"));
  rig.engine().run_cycle();
  CHECK(rig.state("h-1") == "done");
  CHECK(rig.users("pat@example.com").size() == 1);
  CHECK(rig.state("t-1") == "waiting");
}

TEST_CASE("e2e lifecycle clock: a terminate dated on the autumn DST day acts at EDT midnight") {
  ClockRig rig("", at("2026-10-01T12:00:00Z"));
  rig.ingest("hire.json", {hr_event("h-1", EventType::hire, "E1", "", person("pat@example.com"))});
  rig.ingest("term.json", {hr_event("t-1", EventType::terminate, "E1", "2026-11-01")});
  rig.engine().run_cycle();
  CHECK(rig.state("h-1") == "done");
  CHECK(rig.state("t-1") == "waiting");
  rig.clock().set(at("2026-11-01T03:59:59Z"));
  rig.engine().run_cycle();
  CHECK(rig.state("t-1") == "waiting");
  REQUIRE(rig.users("pat@example.com").size() == 1);
  CHECK(rig.users("pat@example.com")[0]["active"] == true);
  rig.clock().set(at("2026-11-01T04:00:00Z"));
  rig.engine().run_cycle();
  CHECK(rig.state("t-1") == "done");
  CHECK(rig.users("pat@example.com")[0]["active"] == false);
}

TEST_CASE("e2e lifecycle clock: a future event of one employee holds back that employee's later events only") {
  ClockRig rig("", at("2026-05-01T12:00:00Z"));
  rig.ingest("hire.json", {hr_event("h-1", EventType::hire, "E1", "2026-06-01", person("one@example.com")),
                           hr_event("h-2", EventType::hire, "E2", "2026-05-01", person("two@example.com"))});
  // E1's update is dated after its hire: it waits for it, even though it arrived due.
  rig.ingest("upd.json", {hr_event("u-1", EventType::update, "E1", "2026-06-02", {{"job_title", "Lead"}}),
                          hr_event("u-2", EventType::update, "E2", "2026-05-01", {{"job_title", "Lead"}})});
  rig.engine().run_cycle();
  CHECK(rig.state("h-2") == "done");
  CHECK(rig.state("u-2") == "done");
  CHECK(rig.users("two@example.com")[0]["title"] == "Lead");
  CHECK(rig.state("h-1") == "waiting");
  CHECK(rig.state("u-1") == "waiting");
  rig.clock().set(at("2026-06-03T12:00:00Z"));
  rig.engine().run_cycle();
  CHECK(rig.state("h-1") == "done");
  CHECK(rig.state("u-1") == "done");
  REQUIRE(rig.users("one@example.com").size() == 1);
  CHECK(rig.users("one@example.com")[0]["title"] == "Lead");
}
