// Planner: pure decisions per event type, against hand-built rules.
#include "engine/planner.hpp"
#include "core/text.hpp"
#include "engine/provisioner.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace h2r;
using nlohmann::json;

namespace {

const std::string k_license = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User";
const std::string k_enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

std::string rules_text(const std::string& on_no_role = "deprovision", const std::string& lifecycle = "") {
  return R"(version: 1
targets:
  - connection: zoom-main
roles:
  - name: engineering
    when:
      all:
        - { field: department, in: [Engineering, Product] }
        - { field: employment_type, equals: full_time }
    zoom:
      user_type: Licensed
      licenses: { zoomOneBizPlus: true }
      role: Member
  - name: staff
    when: { field: employment_type, in: [full_time, part_time] }
    zoom: { user_type: Basic }
on_no_role: )" + on_no_role + R"(
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  displayName: "{first_name} {last_name}"
  title: "{job_title}"
  enterprise.department: "{department}"
  phoneNumbers.work: "{phone}"
  zoom.loginType.sso: true
)" + lifecycle;
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

EventRow event(EventType type, FieldPatch fields, std::optional<LeaveType> leave = std::nullopt) {
  EventRow e;
  e.id = 1;
  e.event_id = "evt-1";
  e.type = type;
  e.leave_type = leave;
  e.employee_id = "E1";
  fields["employee_id"] = "E1";
  e.fields = std::move(fields);
  return e;
}

EmployeeRow engineer(HrStatus status = HrStatus::active) {
  return {"E1",
          {{"employee_id", "E1"}, {"first_name", "Jill"}, {"last_name", "Chill"}, {"email", "jill@example.com"},
           {"department", "Engineering"}, {"employment_type", "full_time"}, {"job_title", "Engineer"},
           {"phone", "+1 555"}},
          status, 0};
}

LinkRow link(bool active = true) { return {"zoom-main", "E1", "u-1", "jill@example.com", "digest", active, 0}; }

FieldPatch hire_fields() {
  FieldPatch f;
  for (const auto& [k, v] : engineer().record) f[k] = v;
  return f;
}

} // namespace

TEST_CASE("planner: hire, rehire and return provision the role's user") {
  auto rules = load(rules_text());
  for (auto type : {EventType::hire, EventType::rehire, EventType::return_to_work}) {
    CAPTURE(to_string(type));
    // A return is for someone h2r knows (on leave); a hire or rehire may introduce the employee.
    const auto before = type == EventType::return_to_work ? std::optional(engineer(HrStatus::on_leave)) : std::nullopt;
    auto plan = plan_event(event(type, hire_fields()), before, {}, *rules);
    REQUIRE(plan.intents.size() == 1);
    const Intent& i = plan.intents[0];
    CHECK(i.kind == IntentKind::provision);
    CHECK(i.connection == "zoom-main");
    REQUIRE(i.desired);
    CHECK(i.desired->role == "engineering");
    CHECK(i.user_name == "jill@example.com");
    CHECK(i.cleared.empty());
    CHECK(plan.employee.status == HrStatus::active);
    CHECK_FALSE(plan.deactivates());
  }
}

TEST_CASE("planner: update merges the record (absent unchanged, null cleared) and clears the attribute") {
  auto rules = load(rules_text());
  FieldPatch patch{{"job_title", "Lead"}, {"phone", std::nullopt}};
  auto plan = plan_event(event(EventType::update, patch), engineer(), {link()}, *rules);
  CHECK(plan.employee.record.at("job_title") == "Lead");
  CHECK(plan.employee.record.at("first_name") == "Jill");   // absent: unchanged
  CHECK(plan.employee.record.count("phone") == 0);          // null: cleared
  REQUIRE(plan.intents.size() == 1);
  const Intent& i = plan.intents[0];
  CHECK(i.kind == IntentKind::provision);
  REQUIRE(i.link);
  CHECK(i.desired->body["title"] == "Lead");
  CHECK(i.cleared == std::map<std::string, json>{{"phoneNumbers", json::array()}});
  auto body = update_body(*i.desired, i.cleared);
  CHECK(body["phoneNumbers"] == json::array());
  CHECK(body["title"] == "Lead");
}

TEST_CASE("planner: a move out of a licensed role turns the license off and clears the Zoom role") {
  auto rules = load(rules_text());
  auto plan = plan_event(event(EventType::update, {{"department", "Sales"}}), engineer(), {link()}, *rules);
  REQUIRE(plan.intents.size() == 1);
  const Intent& i = plan.intents[0];
  REQUIRE(i.desired);
  CHECK(i.desired->role == "staff");
  CHECK(i.cleared.at(k_license + ".zoomOneBizPlus") == false);
  CHECK(i.cleared.at("roles") == json::array());
  CHECK(i.cleared.count("urn:us:zoom:scim:schemas:extension:1.0:ZoomUser.loginType.sso") == 0);   // still set
  auto body = update_body(*i.desired, i.cleared);
  CHECK(body["userType"] == "Basic");
  CHECK(body[k_license]["zoomOneBizPlus"] == false);
  CHECK(body["roles"] == json::array());
  CHECK(body[k_enterprise]["department"] == "Sales");
  auto schemas = body["schemas"];
  CHECK(std::find(schemas.begin(), schemas.end(), json(k_license)) != schemas.end());
  // The digest changes, so the engine pushes.
  auto before = rules->decide(engineer().record)[0].desired;
  CHECK(desired_digest(*before, true) != desired_digest(*i.desired, true));
  CHECK(desired_digest(*before, true) == desired_digest(*before, true));
  CHECK(desired_digest(*before, true) != desired_digest(*before, false));
}

TEST_CASE("planner: no role left follows on_no_role") {
  SUBCASE("deprovision: deactivate the linked user") {
    auto rules = load(rules_text("deprovision"));
    auto plan = plan_event(event(EventType::update, {{"employment_type", "contractor"}}), engineer(), {link()}, *rules);
    REQUIRE(plan.intents.size() == 1);
    CHECK(plan.intents[0].kind == IntentKind::deactivate);
    CHECK(plan.intents[0].why.find("on_no_role") != std::string::npos);
    CHECK(plan.deactivates());
  }
  SUBCASE("deprovision without a link: nothing to do, said why") {
    auto rules = load(rules_text("deprovision"));
    auto plan = plan_event(event(EventType::update, {{"employment_type", "contractor"}}), engineer(), {}, *rules);
    REQUIRE(plan.intents.size() == 1);   // looked up by userName: a user may exist unlinked
    CHECK(plan.intents[0].kind == IntentKind::deactivate);
    CHECK(plan.intents[0].user_name == "jill@example.com");
  }
  SUBCASE("keep: nothing happens") {
    auto rules = load(rules_text("keep"));
    auto plan = plan_event(event(EventType::update, {{"employment_type", "contractor"}}), engineer(), {link()}, *rules);
    CHECK(plan.intents.empty());
    CHECK(plan.note.find("on_no_role: keep") != std::string::npos);
  }
}

TEST_CASE("planner: leave kinds follow lifecycle.leave") {
  auto rules = load(rules_text());
  struct Case {
    LeaveType kind;
    bool deactivates;
  };
  for (auto c : {Case{LeaveType::long_term, true}, Case{LeaveType::security, true}, Case{LeaveType::fmla, false},
                 Case{LeaveType::legal, false}}) {
    CAPTURE(to_string(c.kind));
    auto plan = plan_event(event(EventType::leave, {}, c.kind), engineer(), {link()}, *rules);
    CHECK(plan.employee.status == HrStatus::on_leave);
    CHECK(plan.deactivates() == c.deactivates);
    if (c.deactivates) {
      REQUIRE(plan.intents.size() == 1);
      CHECK(plan.intents[0].kind == IntentKind::deactivate);
      CHECK(plan.intents[0].link);
    } else {
      CHECK(plan.intents.empty());
      CHECK(plan.note.find("keeps the Zoom user") != std::string::npos);
    }
  }
  // A rules file can turn fmla into a deactivation.
  auto strict = load(rules_text("deprovision", "lifecycle:\n  leave: { fmla: deactivate }\n"));
  CHECK(plan_event(event(EventType::leave, {}, LeaveType::fmla), engineer(), {link()}, *strict).deactivates());
}

TEST_CASE("planner: terminate deactivates, or deletes with terminate.action delete") {
  auto deactivate = load(rules_text());
  auto plan = plan_event(event(EventType::terminate, {}), engineer(), {link()}, *deactivate);
  REQUIRE(plan.intents.size() == 1);
  CHECK(plan.intents[0].kind == IntentKind::deactivate);
  CHECK(plan.employee.status == HrStatus::terminated);
  auto remove = load(rules_text("deprovision", "lifecycle:\n  terminate: { action: delete }\n"));
  plan = plan_event(event(EventType::terminate, {}), engineer(), {link()}, *remove);
  REQUIRE(plan.intents.size() == 1);
  CHECK(plan.intents[0].kind == IntentKind::remove);
  CHECK(plan.deactivates());
}

TEST_CASE("planner: updates of an employee who is not active leave Zoom alone") {
  auto rules = load(rules_text());
  for (auto status : {HrStatus::on_leave, HrStatus::terminated}) {
    auto plan = plan_event(event(EventType::update, {{"job_title", "X"}}), engineer(status), {link(false)}, *rules);
    CHECK(plan.intents.empty());
    CHECK(plan.employee.record.at("job_title") == "X");
    CHECK(plan.employee.status == status);
    CHECK_FALSE(plan.note.empty());
  }
  // Known but never seen hired: update an existing user, never create one.
  auto plan = plan_event(event(EventType::update, hire_fields()), engineer(HrStatus::unknown), {}, *rules);
  REQUIRE(plan.intents.size() == 1);
  CHECK(plan.intents[0].kind == IntentKind::update_existing);
}

TEST_CASE("planner: events other than hire and rehire for an unknown employee id do nothing and keep no record") {
  auto rules = load(rules_text());
  for (auto type : {EventType::update, EventType::terminate, EventType::leave, EventType::return_to_work}) {
    CAPTURE(to_string(type));
    auto plan = plan_event(event(type, hire_fields(), LeaveType::long_term), std::nullopt, {}, *rules);
    CHECK(plan.intents.empty());
    CHECK(plan.note.rfind(std::string(k_unknown_employee), 0) == 0);
    CHECK_FALSE(plan.store_employee);
    CHECK(plan.conflict.empty());
  }
}

TEST_CASE("planner: a hire giving a known employee id another name and address is a conflict") {
  auto rules = load(rules_text());
  auto other = hire_fields();
  other["first_name"] = "Dave";
  other["last_name"] = "Smith";
  other["email"] = "dave@example.com";
  for (auto type : {EventType::hire, EventType::rehire}) {
    auto plan = plan_event(event(type, other), engineer(HrStatus::terminated), {link(false)}, *rules);
    CHECK(plan.conflict.rfind(std::string(k_conflict_prefix) + "employee id reused?", 0) == 0);
    CHECK(plan.conflict.find("jill@example.com") != std::string::npos);
    CHECK(plan.conflict.find("dave@example.com") != std::string::npos);
  }
  // The same person: a new address (case aside) or a new last name alone is no conflict.
  auto married = hire_fields();
  married["last_name"] = "Smith";
  married["email"] = "Jill.Smith@example.com";
  CHECK(plan_event(event(EventType::rehire, married), engineer(HrStatus::terminated), {}, *rules).conflict.empty());
  auto shouting = other;
  shouting["email"] = "JILL@EXAMPLE.COM";
  CHECK(plan_event(event(EventType::rehire, shouting), engineer(HrStatus::terminated), {}, *rules).conflict.empty());
  // An update never is: it changes what HR says about the same person.
  CHECK(plan_event(event(EventType::update, other), engineer(), {link()}, *rules).conflict.empty());
}

TEST_CASE("planner: a target that does not take the employee gives a reason") {
  auto rules = load(R"(version: 1
targets:
  - connection: zoom-main
    when: { field: location, equals: NYC }
roles:
  - name: all
    zoom: { user_type: Basic }
attributes:
  userName: "{email}"
)");
  auto plan = plan_event(event(EventType::hire, hire_fields()), std::nullopt, {}, *rules);
  CHECK(plan.intents.empty());
  CHECK(plan.note == "no target matches the employee");
  // Linked but no longer targeted: deprovisioned.
  plan = plan_event(event(EventType::update, {{"job_title", "X"}}), engineer(), {link()}, *rules);
  REQUIRE(plan.intents.size() == 1);
  CHECK(plan.intents[0].kind == IntentKind::deactivate);
}

TEST_CASE("update_body and diff_user") {
  DesiredUser d;
  d.body = {{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}}, {"userName", "a@b.c"}, {"title", "T"}};
  auto body = update_body(d, {{k_enterprise + ".manager.value", ""}, {"name.givenName", ""}});
  CHECK(body[k_enterprise]["manager"]["value"] == "");
  CHECK(body["name"]["givenName"] == "");
  CHECK(body["schemas"] == json::array({"urn:ietf:params:scim:schemas:core:2.0:User", k_enterprise}));
  auto changes = diff_user({{"userName", "a@b.c"}, {"title", "Old"}}, d.body);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].path == "title");
  CHECK(changes[0].before == "Old");
  CHECK(changes[0].after == "T");
}

TEST_CASE("planner: clearing comes from the last pushed body, not the previous record under today's rules") {
  // The role lost a license by a rules edit: the previous record under the edited rules lacks it too,
  // so only the pushed body knows it was turned on.
  auto rules = load(rules_text());
  LinkRow pushed = link();
  pushed.pushed_body = {{"userName", "jill@example.com"},
                        {"title", "Engineer"},
                        {"nickName", "jc"},                 // pushed, no longer given: cleared
                        {"phoneNumbers", json::array()},    // already cleared: nothing more
                        {"active", true},                   // not an attribute
                        {k_license, {{"zoomOneBizPlus", true}, {"zoomWhiteboard", true}, {"zoomUnited", false}}}};
  auto plan = plan_event(event(EventType::update, {{"job_title", "Lead"}}), engineer(), {pushed}, *rules);
  REQUIRE(plan.intents.size() == 1);
  const Intent& i = plan.intents[0];
  CHECK(i.cleared == std::map<std::string, json>{{"nickName", ""}, {k_license + ".zoomWhiteboard", false}});
  auto body = update_body(*i.desired, i.cleared);
  CHECK(body[k_license]["zoomWhiteboard"] == false);
  CHECK(body[k_license]["zoomOneBizPlus"] == true);
  CHECK(body["nickName"] == "");

  // Without a pushed body (a link from before schema version 6): from the previous record, as before.
  plan = plan_event(event(EventType::update, {{"job_title", "Lead"}}), engineer(), {link()}, *rules);
  REQUIRE(plan.intents.size() == 1);
  CHECK(plan.intents[0].cleared.empty());
}

TEST_CASE("diff_flat and known_before: old → new, only the paths that change, Zoom's answer over the pushed body") {
  const json pushed = {{"title", "Lead"}, {"userType", "Basic"}, {k_license, {{"zoomOneBizPlus", true}}}};
  const json zoom = {{"title", "Lead (edited at Zoom)"}, {"userName", "jill@example.com"}};
  const json desired = {{"userName", "jill@example.com"}, {"title", "Director"}, {"userType", "Basic"},
                        {k_license, {{"zoomOneBizPlus", false}}}, {"nickName", "jc"}};
  auto changes = diff_flat(known_before(pushed, zoom), desired);
  std::map<std::string, std::pair<json, json>> by_path;
  for (const auto& c : changes) by_path[c.path] = {c.before, c.after};
  CHECK(by_path.size() == 3);
  CHECK(by_path.at("title") == std::pair<json, json>{"Lead (edited at Zoom)", "Director"});
  CHECK(by_path.at(k_license + ".zoomOneBizPlus") == std::pair<json, json>{true, false});
  CHECK(by_path.at("nickName") == std::pair<json, json>{nullptr, "jc"});   // never pushed: no old value
  CHECK(diff_flat(known_before(nullptr, nullptr), desired).size() == 5);     // nothing known: every path
}

TEST_CASE("planner: desired_digest is the one stored links carry (sha256 of the canonical document's dump)") {
  // Links stored by earlier versions carry this digest: a different text would re-push every user.
  DesiredUser d;
  d.body = json{{"userName", "ann@example.com"}, {"name", {{"givenName", "Ann \"A\"\n"}}}, {"userType", "Basic"},
                {"schemas", json::array({"urn:ietf:params:scim:schemas:core:2.0:User"})}};
  for (const auto& groups : {std::vector<std::string>{}, std::vector<std::string>{"Sales", "Ops é"}}) {
    d.groups = groups;
    for (bool active : {true, false}) {
      json canon = {{"body", d.body}, {"groups", d.groups}, {"active", active}};
      CHECK(desired_digest(d, active) == sha256_hex(canon.dump()));
    }
  }
}
