// Resync: which linked employees a rules edit changes (diff_rules), what it would change, how their
// resync events plan, and how they are queued (one open resync per employee).
#include "engine/resync.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace h2r;
using nlohmann::json;

namespace {

const std::string k_license = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User";

// Engineering (Licensed + zoomOneBizPlus, or `eng_licenses`), staff (Basic) for full/part time.
std::string rules_text(const std::string& eng_departments = "[Engineering]",
                       const std::string& eng_zoom = "user_type: Licensed, licenses: { zoomOneBizPlus: true }",
                       const std::string& extra = "") {
  return "version: 1\n"
         "targets:\n  - connection: zoom-main\n"
         "roles:\n"
         "  - name: engineering\n"
         "    when: { field: department, in: " + eng_departments + " }\n"
         "    zoom: { " + eng_zoom + " }\n"
         "  - name: staff\n"
         "    when: { field: employment_type, in: [full_time, part_time] }\n"
         "    zoom: { user_type: Basic }\n"
         "on_no_role: deprovision\n"
         "attributes:\n  userName: \"{email}\"\n  title: \"{job_title}\"\n" + extra;
}

RulesPtr load(const std::string& text) {
  auto rules = load_rules_text(text, "rules.yaml");
  if (!rules) {
    std::string all;
    for (const auto& d : rules.error()) all += d.to_string() + "\n";
    throw std::runtime_error("rules did not load: " + all);
  }
  return *rules;
}

struct Rig {
  h2r::test::TempDir dir;
  std::unique_ptr<Store> store = open_sqlite_store((dir.path() / "h2r.db").string()).value();
  RulesPtr rules = load(rules_text());

  Rig() {
    ConnectionRow c;
    c.name = "zoom-main";
    REQUIRE(store->add_connection(c));
  }

  // An employee Zoom agrees with under `pushed_under` (the link's digest is its desired state).
  void add(const std::string& id, const std::string& department, HrStatus status = HrStatus::active,
           bool linked = true, const Rules* pushed_under = nullptr) {
    EmployeeRow e{id, {{"employee_id", id}, {"email", id + "@example.com"}, {"department", department},
                       {"employment_type", "full_time"}, {"job_title", "Engineer"}}, status, 1};
    REQUIRE(store->put_employee(e));
    if (!linked) return;
    const Rules& under = pushed_under ? *pushed_under : *rules;
    auto decisions = under.decide(e.record);
    REQUIRE(decisions.size() == 1);
    LinkRow link{"zoom-main", id, "zu-" + id, id + "@example.com",
                 desired_digest(*decisions[0].desired, status == HrStatus::active), status == HrStatus::active, 1};
    REQUIRE(store->put_link(link));
  }
};

const ResyncChange& only_change(const ResyncDiff& diff, const std::string& employee) {
  for (const auto& item : diff.items)
    if (item.employee_id == employee) {
      REQUIRE(item.changes.size() == 1);
      return item.changes[0];
    }
  throw std::runtime_error("no change for " + employee);
}

} // namespace

TEST_CASE("resync diff: unchanged rules change nobody") {
  Rig rig;
  rig.add("E1", "Engineering");
  rig.add("E2", "Sales");
  auto diff = diff_rules(*rig.store, rig.rules.get(), *rig.rules);
  REQUIRE(diff);
  CHECK(diff->items.empty());
  CHECK(diff->totals.employees == 0);
}

TEST_CASE("resync diff: a license taken from a role turns it off for that role's employees only") {
  Rig rig;
  rig.add("E1", "Engineering");
  rig.add("E2", "Engineering");
  rig.add("E3", "Sales");
  auto edited = load(rules_text("[Engineering]", "user_type: Licensed, licenses: { zoomOneBizPlus: false }"));
  auto diff = diff_rules(*rig.store, rig.rules.get(), *edited);
  REQUIRE(diff);
  REQUIRE(diff->items.size() == 2);
  CHECK(diff->items[0].employee_id == "E1");
  CHECK(diff->items[1].employee_id == "E2");
  const auto& c = only_change(*diff, "E1");
  CHECK(c.action == "update");
  REQUIRE(c.changes.size() == 1);
  CHECK(c.changes[0].path == k_license + ".zoomOneBizPlus");
  CHECK(c.changes[0].before == true);
  CHECK(c.changes[0].after == false);
  CHECK(diff->totals.licenses_off == 2);
  CHECK(diff->totals.licenses_on == 0);
  CHECK(diff->totals.role_moves == 0);
}

TEST_CASE("resync diff: a license the role no longer names at all is cleared to false (old -> new rules)") {
  Rig rig;
  rig.add("E1", "Engineering");
  auto edited = load(rules_text("[Engineering]", "user_type: Licensed"));
  auto diff = diff_rules(*rig.store, rig.rules.get(), *edited);
  REQUIRE(diff);
  const auto& c = only_change(*diff, "E1");
  REQUIRE(c.changes.size() == 1);
  CHECK(c.changes[0].path == k_license + ".zoomOneBizPlus");
  CHECK(c.changes[0].after == false);
  // The resync event carries the old rules' user, so its plan clears the license at Zoom.
  EventRow event;
  event.type = EventType::resync;
  event.employee_id = "E1";
  event.fields[std::string(k_resync_base_field)] = resync_clearing_base_text(diff->items[0].base);
  auto employee = rig.store->get_employee("E1").value();
  auto link = rig.store->get_link("zoom-main", "E1").value();
  auto plan = plan_event(event, employee, {*link}, *edited);
  REQUIRE(plan.intents.size() == 1);
  CHECK(plan.intents[0].kind == IntentKind::provision);
  CHECK(plan.intents[0].cleared.at(k_license + ".zoomOneBizPlus") == false);
  CHECK(plan.employee.record == employee->record);   // the base is never merged into the record
}

TEST_CASE("resync diff: a department moved to another role is a role move with the user type old -> new") {
  Rig rig;
  rig.add("E1", "Sales");
  rig.add("E2", "Engineering");
  auto edited = load(rules_text("[Engineering, Sales]"));
  auto diff = diff_rules(*rig.store, rig.rules.get(), *edited);
  REQUIRE(diff);
  REQUIRE(diff->items.size() == 1);
  const auto& c = only_change(*diff, "E1");
  CHECK(c.role_before == "staff");
  CHECK(c.role_after == "engineering");
  bool user_type = false;
  for (const auto& ch : c.changes)
    if (ch.path == "userType") user_type = ch.before == "Basic" && ch.after == "Licensed";
  CHECK(user_type);
  CHECK(diff->totals.role_moves == 1);
  CHECK(diff->totals.licenses_on == 1);
  CHECK(diff->totals.attributes == 1);
}

TEST_CASE("resync diff: no role any more is a deprovision, while unlinked, terminated and already-inactive are left alone") {
  Rig rig;
  rig.add("E1", "Sales");
  rig.add("E2", "Sales", HrStatus::active, /*linked=*/false);
  rig.add("E3", "Sales", HrStatus::terminated);
  rig.add("E4", "Engineering");
  // Only engineering remains: staff employees match no role (on_no_role: deprovision).
  auto edited = load("version: 1\ntargets:\n  - connection: zoom-main\nroles:\n  - name: engineering\n"
                     "    when: { field: department, in: [Engineering] }\n"
                     "    zoom: { user_type: Licensed, licenses: { zoomOneBizPlus: true } }\n"
                     "on_no_role: deprovision\nattributes:\n  userName: \"{email}\"\n  title: \"{job_title}\"\n");
  auto diff = diff_rules(*rig.store, rig.rules.get(), *edited);
  REQUIRE(diff);
  REQUIRE(diff->items.size() == 1);
  const auto& c = only_change(*diff, "E1");
  CHECK(c.action == "deprovision");
  CHECK(diff->totals.deprovisions == 1);
  CHECK(diff->totals.employees == 1);
}

TEST_CASE("resync diff: a link pushed under other rules than the old ones still shows up (digest, not the old rules)") {
  Rig rig;
  auto older = load(rules_text("[Engineering]", "user_type: Licensed, licenses: { zoomOneBizPlus: true }",
                               "  displayName: \"{email}\"\n"));
  rig.add("E1", "Engineering", HrStatus::active, true, older.get());
  auto diff = diff_rules(*rig.store, rig.rules.get(), *rig.rules);
  REQUIRE(diff);
  REQUIRE(diff->items.size() == 1);
  CHECK(only_change(*diff, "E1").action == "update");
}

TEST_CASE("resync queue: event ids name the rules version, one open resync per employee") {
  Rig rig;
  rig.add("E1", "Engineering");
  rig.add("E2", "Engineering");
  auto edited = load(rules_text("[Engineering]", "user_type: Licensed, licenses: { zoomOneBizPlus: false }"));
  auto diff = diff_rules(*rig.store, rig.rules.get(), *edited);
  REQUIRE(diff);
  auto queued = queue_resyncs(*rig.store, *diff, 1000);
  REQUIRE(queued);
  CHECK(queued->queued == 2);
  CHECK(queued->already_open == 0);
  auto e1 = rig.store->find_event(resync_event_id(edited->version(), "E1")).value();
  REQUIRE(e1);
  CHECK(e1->type == EventType::resync);
  CHECK(e1->state == EventState::pending);
  CHECK(e1->source_file == "rules:" + edited->version());
  CHECK(e1->effective_at_ms == 1000);
  CHECK(resync_clearing_base(*e1).at("zoom-main").role == "engineering");
  auto history = rig.store->event_history(e1->id).value();
  REQUIRE(history.size() == 1);
  CHECK(history[0].reason.find("rules changed") != std::string::npos);

  // Another edit while those are open: nothing new is queued for E1 and E2.
  auto again = load(rules_text("[Engineering]", "user_type: Basic"));
  auto diff2 = diff_rules(*rig.store, edited.get(), *again);
  REQUIRE(diff2);
  REQUIRE(diff2->items.size() == 2);
  auto queued2 = queue_resyncs(*rig.store, *diff2, 2000);
  REQUIRE(queued2);
  CHECK(queued2->queued == 0);
  CHECK(queued2->already_open == 2);
  CHECK_FALSE(rig.store->find_event(resync_event_id(again->version(), "E1")).value());

  // Once E1's resync is final, the next edit queues one again.
  REQUIRE(rig.store->reject_event(e1->id, "test", 3000));
  auto queued3 = queue_resyncs(*rig.store, *diff2, 4000);
  REQUIRE(queued3);
  CHECK(queued3->queued == 1);
  CHECK(rig.store->find_event(resync_event_id(again->version(), "E1")).value());
}

TEST_CASE("resync events come only from h2r: an HR file cannot carry the type") {
  CHECK(parse_event_type("resync") == EventType::resync);
  CHECK_FALSE(parse_hr_event_type("resync"));
  CHECK(parse_hr_event_type("hire") == EventType::hire);
}
