// The Store contract, part 1: connections, health, ingest, employees, links, meta, threads. Written
// against the Store interface only; runs once per implementation in H2R_STORE_IMPLEMENTATIONS.
// Part 2 (the event queue) is store_contract_events_test.cpp.
#include "store_test_util.hpp"

#include <fmt/format.h>

#include <thread>

using namespace h2r;
using namespace h2r::store_test;

namespace {

ConnectionRow make_connection(const std::string& name) {
  ConnectionRow row;
  row.name = name;
  row.account_id = "acct-" + name;
  row.client_id = "client-" + name;
  row.secret_blob = std::string("\x01\x00\xff\x7f blob", 9); // binary, with a NUL byte
  row.oauth_url = "https://zoom.us/oauth/token";
  row.api_url = "https://api.zoom.us/scim2";
  row.rate_limit = 12.5;
  row.created_at_ms = 1000;
  row.updated_at_ms = 1000;
  return row;
}

LinkRow make_link(const std::string& connection, const std::string& employee_id) {
  return LinkRow{connection, employee_id, "zu-" + employee_id, employee_id + "@example.com", "digest", true, 5};
}

// The value of `r`, which must hold one.
template <class T>
T value_of(Result<T> r) {
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  return std::move(r).value();
}

} // namespace

TEST_CASE_TEMPLATE("store contract: connections add, get, list, update, remove", F, H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->add_connection(make_connection("zoom-main")));
  REQUIRE(store->add_connection(make_connection("a-first")));

  auto dup = store->add_connection(make_connection("zoom-main"));
  REQUIRE_FALSE(dup);
  CHECK(dup.error().kind == ErrorKind::conflict);
  CHECK(dup.error().message.find("zoom-main") != std::string::npos);

  auto got = store->get_connection("zoom-main");
  REQUIRE(got);
  REQUIRE(got->has_value());
  const ConnectionRow& row = **got;
  CHECK(row.account_id == "acct-zoom-main");
  CHECK(row.client_id == "client-zoom-main");
  CHECK(row.secret_blob == std::string("\x01\x00\xff\x7f blob", 9));
  CHECK(row.oauth_url == "https://zoom.us/oauth/token");
  CHECK(row.api_url == "https://api.zoom.us/scim2");
  CHECK(row.rate_limit == doctest::Approx(12.5));
  CHECK(row.created_at_ms == 1000);

  auto missing = store->get_connection("nope");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());

  auto list = store->list_connections();
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].name == "a-first");
  CHECK((*list)[1].name == "zoom-main");

  ConnectionRow changed = make_connection("zoom-main");
  changed.secret_blob = "new-blob";
  changed.rate_limit = 3;
  changed.created_at_ms = 99999; // created_at is kept from the first add
  changed.updated_at_ms = 2000;
  CHECK_FALSE((*list)[1].allow_insecure_http);   // off unless asked for
  changed.allow_insecure_http = true;
  REQUIRE(store->update_connection(changed));
  got = store->get_connection("zoom-main");
  REQUIRE((got && got->has_value()));
  CHECK((*got)->allow_insecure_http);
  CHECK((*got)->secret_blob == "new-blob");
  CHECK((*got)->rate_limit == doctest::Approx(3));
  CHECK((*got)->created_at_ms == 1000);
  CHECK((*got)->updated_at_ms == 2000);

  auto update_missing = store->update_connection(make_connection("nope"));
  REQUIRE_FALSE(update_missing);
  CHECK(update_missing.error().kind == ErrorKind::not_found);

  REQUIRE(store->remove_connection("a-first"));
  auto remove_again = store->remove_connection("a-first");
  REQUIRE_FALSE(remove_again);
  CHECK(remove_again.error().kind == ErrorKind::not_found);
  list = store->list_connections();
  REQUIRE(list);
  CHECK(list->size() == 1);
}

TEST_CASE_TEMPLATE("store contract: health, links and the cascade when a connection is removed", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->add_connection(make_connection("zoom-main")));
  REQUIRE(store->add_connection(make_connection("zoom-eu")));

  auto none = store->get_connection_health("zoom-main");
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  ConnectionHealth health{"zoom-main", false, "HTTP 503 from the token endpoint", 10, 5, 20, "rate limit"};
  REQUIRE(store->put_connection_health(health));
  health.last_success_at_ms = 30; // a second put replaces
  REQUIRE(store->put_connection_health(health));
  auto got = store->get_connection_health("zoom-main");
  REQUIRE((got && got->has_value()));
  CHECK_FALSE((*got)->healthy);
  CHECK((*got)->last_error == "HTTP 503 from the token endpoint");
  CHECK((*got)->last_error_at_ms == 10);
  CHECK((*got)->last_success_at_ms == 30);
  CHECK((*got)->paused_until_ms == 20);
  CHECK((*got)->pause_reason == "rate limit");
  auto orphan = store->put_connection_health(ConnectionHealth{"nope"});
  REQUIRE_FALSE(orphan);
  CHECK(orphan.error().kind == ErrorKind::not_found);

  REQUIRE(store->put_link(make_link("zoom-main", "E2")));
  REQUIRE(store->put_link(make_link("zoom-main", "E1")));
  REQUIRE(store->put_link(make_link("zoom-eu", "E1")));
  LinkRow updated = make_link("zoom-main", "E1");
  updated.active = false;
  updated.pushed_digest = "";
  REQUIRE(store->put_link(updated)); // upsert
  auto link = store->get_link("zoom-main", "E1");
  REQUIRE((link && link->has_value()));
  CHECK_FALSE((*link)->active);
  CHECK((*link)->pushed_digest.empty());
  CHECK((*link)->zoom_user_id == "zu-E1");
  CHECK((*link)->user_name == "E1@example.com");
  CHECK((*link)->pushed_body.is_null());   // unknown unless set
  CHECK((*link)->pushed_groups.empty());
  // What h2r last pushed round-trips, through put_link and record_outcome's links_upsert alike.
  updated.pushed_body = {{"userName", "E1@example.com"}, {"title", "Lead"}, {"nickName", ""},
                         {"urn:ietf:params:scim:schemas:extension:zoom:1.0:User", {{"zoomOneBizPlus", false}}}};
  updated.pushed_at_ms = 1234;
  updated.pushed_groups = {{"Engineering", "g-1"}, {"Builders & Co", "g/2"}};
  REQUIRE(store->put_link(updated));
  link = store->get_link("zoom-main", "E1");
  REQUIRE((link && link->has_value()));
  CHECK((*link)->pushed_body == updated.pushed_body);
  CHECK((*link)->pushed_at_ms == 1234);
  CHECK((*link)->pushed_groups == updated.pushed_groups);
  auto links = store->list_links("zoom-main");
  REQUIRE(links);
  REQUIRE(links->size() == 2);
  CHECK((*links)[0].employee_id == "E1");
  CHECK((*links)[0].pushed_body == updated.pushed_body);
  CHECK((*links)[0].pushed_groups == updated.pushed_groups);
  CHECK((*links)[1].employee_id == "E2");
  CHECK((*links)[1].pushed_body.is_null());
  auto orphan_link = store->put_link(make_link("nope", "E1"));
  REQUIRE_FALSE(orphan_link);
  CHECK(orphan_link.error().kind == ErrorKind::not_found);

  REQUIRE(store->remove_connection("zoom-main"));
  links = store->list_links("zoom-main");
  REQUIRE(links);
  CHECK(links->empty());
  auto health_after = store->get_connection_health("zoom-main");
  REQUIRE(health_after);
  CHECK_FALSE(health_after->has_value());
  links = store->list_links("zoom-eu");
  REQUIRE(links);
  CHECK(links->size() == 1); // other connections keep theirs
}

TEST_CASE_TEMPLATE("store contract: a Zoom user is linked to one employee at most, a second link is refused", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->add_connection(make_connection("zoom-main")));
  REQUIRE(store->add_connection(make_connection("zoom-eu")));
  LinkRow anna = make_link("zoom-main", "E1");
  anna.zoom_user_id = "zu-anna";
  anna.user_name = "anna@example.com";
  REQUIRE(store->put_link(anna));
  REQUIRE(store->put_link(anna));   // the same employee again: an upsert

  // E9 to E1's Zoom user: refused, through put_link and through an outcome alike; E1's link stays.
  LinkRow taken = anna;
  taken.employee_id = "E9";
  taken.user_name = "Anna@Example.com";
  auto refused = store->put_link(taken);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(refused.error().message.find("zu-anna") != std::string::npos);
  REQUIRE(store->ingest("f.json", {make_event("evt-1", "E9", 1, 1)}, 1));
  EventOutcome outcome;
  outcome.id = value_of(store->find_event("evt-1"))->id;
  outcome.claim_token = claim(*store, "evt-1");
  outcome.links_upsert = {taken};
  auto recorded = store->record_outcome(outcome, 2);
  REQUIRE_FALSE(recorded);
  CHECK(recorded.error().kind == ErrorKind::conflict);
  CHECK_FALSE(value_of(store->get_link("zoom-main", "E9")).has_value());
  auto kept = value_of(store->get_link("zoom-main", "E1"));
  REQUIRE(kept.has_value());
  CHECK(kept->zoom_user_id == "zu-anna");
  CHECK_FALSE(kept->shared);

  // Per connection: the same id in another account is another user.
  taken.connection = "zoom-eu";
  REQUIRE(store->put_link(taken));

  // Found by Zoom user id, or by userName with its case aside; never by "".
  auto owners = value_of(store->links_to_zoom_user("zoom-main", "zu-anna", ""));
  REQUIRE(owners.size() == 1);
  CHECK(owners[0].employee_id == "E1");
  owners = value_of(store->links_to_zoom_user("zoom-main", "", "ANNA@example.COM"));
  REQUIRE(owners.size() == 1);
  CHECK(owners[0].employee_id == "E1");
  CHECK(value_of(store->links_to_zoom_user("zoom-main", "", "")).empty());
  CHECK(value_of(store->links_to_zoom_user("zoom-main", "zu-other", "bob@example.com")).empty());
  // A link found both ways is listed once; links found one way each come in employee order.
  owners = value_of(store->links_to_zoom_user("zoom-main", "zu-anna", "anna@EXAMPLE.com"));
  REQUIRE(owners.size() == 1);
  CHECK(owners[0].employee_id == "E1");
  LinkRow bob = make_link("zoom-main", "E0");
  bob.zoom_user_id = "zu-bob";
  bob.user_name = "bob@example.com";
  REQUIRE(store->put_link(bob));
  owners = value_of(store->links_to_zoom_user("zoom-main", "zu-anna", "Bob@example.com"));
  REQUIRE(owners.size() == 2);
  CHECK(owners[0].employee_id == "E0");
  CHECK(owners[1].employee_id == "E1");
  CHECK(owners[0].user_name == "bob@example.com");   // whole rows, as get_link reads them
  CHECK(owners[1].zoom_user_id == "zu-anna");

  // Once E1 moves to another Zoom user, the first one is free for E9.
  anna.zoom_user_id = "zu-anna-2";
  REQUIRE(store->put_link(anna));
  taken.connection = "zoom-main";
  REQUIRE(store->put_link(taken));
}

TEST_CASE_TEMPLATE("store contract: a userName is reserved for one employee, across stores on one database", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  auto other = F::open(dir);   // another daemon on the same database
  REQUIRE(store->add_connection(make_connection("zoom-main")));
  REQUIRE(store->add_connection(make_connection("zoom-eu")));
  const auto reserve = [](Store& s, const std::string& connection, const std::string& key, const std::string& employee) {
    return value_of(s.reserve_user_name({connection, key, key, employee, 10}));
  };
  CHECK(reserve(*store, "zoom-main", "zoë@example.com", "E1").empty());
  CHECK(reserve(*store, "zoom-main", "zoë@example.com", "E1").empty());     // again: still E1's
  CHECK(reserve(*other, "zoom-main", "zoë@example.com", "E9") == "E1");     // another employee: refused
  CHECK(reserve(*other, "zoom-eu", "zoë@example.com", "E9").empty());      // per connection

  // An employee holds one login: taking another gives the first up; a refused one keeps it.
  CHECK(reserve(*other, "zoom-main", "zoe@example.com", "E9").empty());
  CHECK(reserve(*other, "zoom-main", "zoë@example.com", "E9") == "E1");
  CHECK(reserve(*store, "zoom-main", "zoe@example.com", "E1") == "E9");     // E9 kept zoe@ through its refusal
  CHECK(reserve(*store, "zoom-main", "zoe.smith@example.com", "E1").empty());
  CHECK(reserve(*other, "zoom-main", "zoë@example.com", "E9").empty());     // E1 moved: zoë@ is free

  // An outcome that removes the employee's link gives its login up.
  REQUIRE(store->ingest("f.json", {make_event("evt-1", "E9", 1, 1)}, 1));
  EventOutcome outcome;
  outcome.id = value_of(store->find_event("evt-1"))->id;
  outcome.claim_token = claim(*store, "evt-1");
  outcome.state = EventState::done;
  outcome.links_remove = {{"zoom-main", "E9"}};
  REQUIRE(store->record_outcome(outcome, 2));
  CHECK(reserve(*store, "zoom-main", "zoë@example.com", "E1").empty());
  CHECK(reserve(*other, "zoom-eu", "zoë@example.com", "E1") == "E9");     // only in that connection

  // Rejecting an event of an employee gives up the logins it holds where it has no link, only those.
  CHECK(reserve(*store, "zoom-eu", "carol@example.com", "E3").empty());
  CHECK(reserve(*store, "zoom-main", "carol@example.com", "E3").empty());
  LinkRow carol{"zoom-main", "E3", "zu-carol", "carol@example.com", "digest", true, 5};
  REQUIRE(store->put_link(carol));
  REQUIRE(store->ingest("g.json", {make_event("evt-3", "E3", 1, 1)}, 1));
  REQUIRE(store->reject_event(value_of(store->find_event("evt-3"))->id, "a bad export", 3));
  CHECK(reserve(*other, "zoom-eu", "carol@example.com", "E9").empty());      // given up
  CHECK(reserve(*other, "zoom-main", "carol@example.com", "E9") == "E3");    // kept: E3 has its user there

  // Bounded and named: an empty field, an unknown connection.
  auto empty = store->reserve_user_name({"zoom-main", "", "x", "E1", 10});
  REQUIRE_FALSE(empty);
  CHECK(empty.error().kind == ErrorKind::invalid);
  CHECK(empty.error().message.find("key") != std::string::npos);
  auto unknown = store->reserve_user_name({"zoom-nope", "a@example.com", "a@example.com", "E1", 10});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find("zoom-nope") != std::string::npos);
}

TEST_CASE_TEMPLATE("store contract: ingest stores events whole, reports duplicates, remembers fields", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  NewEvent hire = make_event("evt-1", "E1", 100, 50, EventState::waiting, EventType::hire);
  hire.event.fields = {{"employee_id", "E1"}, {"email", "jill@example.com"}, {"phone", std::nullopt}};
  hire.event.effective_date = "2026-12-01";
  NewEvent leave = make_event("evt-2", "E1", 200, 200, EventState::pending, EventType::leave);
  leave.event.leave_type = LeaveType::fmla;
  leave.event.fields = {{"employee_id", "E1"}, {"department", "Ünïcode Dept"}};
  NewEvent dup_in_file = make_event("evt-1", "E9", 1, 1);

  auto first = store->ingest("inbox/a.json", {hire, leave, dup_in_file}, 777);
  REQUIRE(first);
  CHECK(first->inserted == 2);
  CHECK(first->duplicates == std::vector<std::string>{"evt-1"});

  auto second = store->ingest("inbox/b.json", {leave, make_event("evt-3", "E2", 1, 1)}, 888);   // evt-2 unchanged
  REQUIRE(second);
  CHECK(second->inserted == 1);
  CHECK(second->duplicates == std::vector<std::string>{"evt-2"});

  auto row = store->find_event("evt-1");
  REQUIRE((row && row->has_value()));
  const EventRow& e = **row;
  CHECK(e.id > 0);
  CHECK(e.type == EventType::hire);
  CHECK_FALSE(e.leave_type.has_value());
  CHECK(e.employee_id == "E1");
  CHECK(e.fields == hire.event.fields); // the null for phone is kept
  CHECK(e.effective_raw == "2026-12-01");
  CHECK(e.effective_at_ms == 100);
  CHECK(e.due_at_ms == 50);
  CHECK(e.source_file == "inbox/a.json");
  CHECK(e.state == EventState::waiting);
  CHECK(e.attempts == 0);
  CHECK_FALSE(e.approved);
  CHECK(e.received_at_ms == 777);
  auto by_id = store->get_event(e.id);
  REQUIRE((by_id && by_id->has_value()));
  CHECK((*by_id)->event_id == "evt-1");

  auto leave_row = store->find_event("evt-2");
  REQUIRE((leave_row && leave_row->has_value()));
  CHECK((*leave_row)->leave_type == LeaveType::fmla);
  CHECK((*leave_row)->fields.at("department") == "Ünïcode Dept");
  CHECK((*leave_row)->source_file == "inbox/a.json"); // the first one stays
  CHECK((*leave_row)->id > e.id);                     // arrival order

  auto fields = store->seen_fields();
  REQUIRE(fields);
  CHECK(*fields == std::set<std::string>{"department", "email", "employee_id", "phone"});

  auto missing = store->find_event("nope");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());
  auto missing_id = store->get_event(999999);
  REQUIRE(missing_id);
  CHECK_FALSE(missing_id->has_value());
}

// Issue 24 case 6: an event_id stored before with other content is no silent duplicate: the ingest
// fails `invalid` (the inbox rejects the file) naming the id, the earlier file and what differs.
TEST_CASE_TEMPLATE("store contract: an event_id stored before with other content fails the ingest, naming it", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  NewEvent hire = make_event("evt-1", "E1", 100, 50, EventState::pending, EventType::hire);
  hire.event.fields = {{"employee_id", "E1"}, {"department", "Eng"}};
  REQUIRE(store->ingest("inbox/a.json", {hire}, 1));

  NewEvent terminate = hire;
  terminate.event.type = EventType::terminate;
  terminate.event.fields = {{"employee_id", "E1"}, {"department", "Sales"}};
  auto conflict = store->ingest("inbox/b.json", {make_event("evt-9", "E9", 1, 1), terminate}, 2);
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().kind == ErrorKind::invalid);
  INFO(conflict.error().message);
  CHECK(conflict.error().message.find("'evt-1'") != std::string::npos);
  CHECK(conflict.error().message.find("'inbox/a.json'") != std::string::npos);
  CHECK(conflict.error().message.find("type (hire, now terminate)") != std::string::npos);
  CHECK(conflict.error().message.find("employee.department") != std::string::npos);
  CHECK(conflict.error().message.find("Sales") == std::string::npos);   // names, not values
  auto nine = store->find_event("evt-9");
  REQUIRE(nine);
  CHECK_FALSE(nine->has_value());   // nothing of the file is kept

  auto same = store->ingest("inbox/c.json", {hire}, 3);   // unchanged: a silent duplicate
  REQUIRE(same);
  CHECK(same->duplicates == std::vector<std::string>{"evt-1"});
}

TEST_CASE_TEMPLATE("store contract: every event type round-trips, and a final state cannot be ingested", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  std::vector<NewEvent> events;
  int n = 0;
  for (auto type : {EventType::hire, EventType::update, EventType::leave, EventType::return_to_work,
                    EventType::terminate, EventType::rehire}) {
    ++n;
    events.push_back(make_event("t" + std::to_string(n), "E1", n, n, EventState::pending, type));
  }
  for (auto leave : {LeaveType::long_term, LeaveType::fmla, LeaveType::legal, LeaveType::security}) {
    ++n;
    events.push_back(make_event("l" + std::to_string(n), "E1", n, n, EventState::pending, EventType::leave));
    events.back().event.leave_type = leave;
  }
  REQUIRE(store->ingest("f", events, 1));
  for (const auto& e : events) {
    auto row = store->find_event(e.event.event_id);
    REQUIRE((row && row->has_value()));
    CHECK((*row)->type == e.event.type);
    CHECK((*row)->leave_type == e.event.leave_type);
  }

  auto bad = store->ingest("g", {make_event("ok", "E2", 1, 1), make_event("bad", "E2", 1, 1, EventState::done)}, 1);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == ErrorKind::invalid);
  auto ok = store->find_event("ok");
  REQUIRE(ok);
  CHECK_FALSE(ok->has_value()); // the file is taken whole or not at all
}

TEST_CASE_TEMPLATE("store contract: employees, meta", F, H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  EmployeeRow jill{"E1", {{"email", "jill@example.com"}, {"quote", "say \"hi\"\n\ttab"}}, HrStatus::active, 5};
  REQUIRE(store->put_employee(jill));
  REQUIRE(store->put_employee(EmployeeRow{"E0", {}, HrStatus::terminated, 6}));
  auto got = store->get_employee("E1");
  REQUIRE((got && got->has_value()));
  CHECK((*got)->record == jill.record);
  CHECK((*got)->status == HrStatus::active);
  CHECK((*got)->updated_at_ms == 5);
  jill.status = HrStatus::on_leave;
  jill.record.erase("quote");
  REQUIRE(store->put_employee(jill));
  got = store->get_employee("E1");
  REQUIRE((got && got->has_value()));
  CHECK((*got)->record == jill.record);
  CHECK((*got)->status == HrStatus::on_leave);
  auto all = store->list_employees();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].employee_id == "E0");
  CHECK((*all)[0].status == HrStatus::terminated);
  auto missing = store->get_employee("nope");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());

  auto meta = store->get_meta("rules_version");
  REQUIRE(meta);
  CHECK_FALSE(meta->has_value());
  REQUIRE(store->set_meta("rules_version", "abc"));
  REQUIRE(store->set_meta("rules_version", "def"));
  meta = store->get_meta("rules_version");
  REQUIRE((meta && meta->has_value()));
  CHECK(**meta == "def");
}

TEST_CASE_TEMPLATE("store contract: plan_inputs reads each employee and its links in the order asked", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->add_connection(make_connection("zoom-main")));
  REQUIRE(store->add_connection(make_connection("zoom-eu")));
  REQUIRE(store->put_employee(EmployeeRow{"E1", {{"email", "e1@example.com"}}, HrStatus::active, 5}));
  REQUIRE(store->put_employee(EmployeeRow{"E2", {{"email", "e2@example.com"}}, HrStatus::on_leave, 6}));
  REQUIRE(store->put_link(make_link("zoom-main", "E1")));
  REQUIRE(store->put_link(make_link("zoom-eu", "E1")));
  REQUIRE(store->put_link(make_link("zoom-eu", "E3")));   // a link without an employee row
  auto inputs = store->plan_inputs({"E2", "E1", "E3", "E4"}, {"zoom-eu", "zoom-main", "zoom-gone"});
  REQUIRE(inputs);
  REQUIRE(inputs->size() == 4);
  REQUIRE((*inputs)[0].employee.has_value());
  CHECK((*inputs)[0].employee->employee_id == "E2");
  CHECK((*inputs)[0].employee->status == HrStatus::on_leave);
  CHECK((*inputs)[0].links.empty());
  REQUIRE((*inputs)[1].employee.has_value());
  CHECK((*inputs)[1].employee->record.at("email") == "e1@example.com");
  REQUIRE((*inputs)[1].links.size() == 2);   // in the order of the connections asked for
  CHECK((*inputs)[1].links[0].connection == "zoom-eu");
  CHECK((*inputs)[1].links[1].connection == "zoom-main");
  CHECK((*inputs)[1].links[1].zoom_user_id == "zu-E1");
  CHECK_FALSE((*inputs)[2].employee.has_value());
  REQUIRE((*inputs)[2].links.size() == 1);
  CHECK((*inputs)[2].links[0].employee_id == "E3");
  CHECK_FALSE((*inputs)[3].employee.has_value());
  CHECK((*inputs)[3].links.empty());
  auto none = store->plan_inputs({}, {"zoom-main"});
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE_TEMPLATE("store contract: plan_inputs leaves out connections not asked for, and reads any employee id", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  for (const char* name : {"zoom-a", "zoom-b", "zoom-c"}) REQUIRE(store->add_connection(make_connection(name)));
  // Ids a PostgreSQL array literal would misread unless quoted: quotes, backslashes, commas, braces, spaces,
  // NULL, non-Latin letters.
  const std::vector<std::string> ids = {"E\"1", "E\\2", "E,3", "{E4}", " E5 ", "NULL", "Сотрудник-6"};
  for (const auto& id : ids) {
    REQUIRE(store->put_employee(EmployeeRow{id, {{"email", "x@example.com"}}, HrStatus::active, 5}));
    for (const char* name : {"zoom-a", "zoom-b", "zoom-c"}) REQUIRE(store->put_link(make_link(name, id)));
  }
  std::vector<std::string> asked = ids;
  asked.push_back(ids[0]);   // the same employee twice in one batch
  auto inputs = store->plan_inputs(asked, {"zoom-c", "zoom-a"});
  REQUIRE(inputs);
  REQUIRE(inputs->size() == asked.size());
  for (std::size_t i = 0; i < asked.size(); ++i) {
    CAPTURE(asked[i]);
    REQUIRE((*inputs)[i].employee.has_value());
    CHECK((*inputs)[i].employee->employee_id == asked[i]);
    REQUIRE((*inputs)[i].links.size() == 2);   // zoom-b's link is not asked for
    CHECK((*inputs)[i].links[0].connection == "zoom-c");
    CHECK((*inputs)[i].links[1].connection == "zoom-a");
    CHECK((*inputs)[i].links[0].employee_id == asked[i]);
  }
}

TEST_CASE_TEMPLATE("store contract: concurrent callers on one store lose nothing" * doctest::test_suite("threads"), F, H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  constexpr int k_threads = 4;
  constexpr int k_files = 20;
  std::vector<std::thread> threads;
  std::vector<int> failures(k_threads, 0);
  for (int t = 0; t < k_threads; ++t)
    threads.emplace_back([&, t] {
      for (int f = 0; f < k_files; ++f) {
        std::vector<NewEvent> events;
        for (int i = 0; i < 10; ++i)
          events.push_back(make_event(fmt::format("t{}-f{}-{}", t, f, i), fmt::format("E{}", i), i, i));
        if (!store->ingest(fmt::format("t{}-f{}", t, f), events, 1)) ++failures[static_cast<std::size_t>(t)];
        if (!store->due_events(100, 50)) ++failures[static_cast<std::size_t>(t)];
      }
    });
  for (auto& t : threads) t.join();
  CHECK(failures == std::vector<int>(k_threads, 0));
  auto counts = store->count_events_by_state();
  REQUIRE(counts);
  CHECK((*counts)[EventState::pending] == k_threads * k_files * 10);
}
