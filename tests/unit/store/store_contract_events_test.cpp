// The Store contract, part 2: the event queue (due_events, transitions, record_outcome). Written against
// the Store interface only; runs once per implementation in H2R_STORE_IMPLEMENTATIONS.
#include "store_test_util.hpp"

using namespace h2r;
using namespace h2r::store_test;

namespace {

long long id_of(Store& store, const std::string& event_id) {
  auto row = store.find_event(event_id);
  REQUIRE((row && row->has_value()));
  return (*row)->id;
}

EventState state_of(Store& store, const std::string& event_id) {
  auto row = store.find_event(event_id);
  REQUIRE((row && row->has_value()));
  return (*row)->state;
}

std::vector<std::string> due_ids(Store& store, long long now_ms, int limit = 100) {
  auto due = store.due_events(now_ms, limit);
  REQUIRE(due);
  std::vector<std::string> ids;
  for (const auto& e : *due) ids.push_back(e.event_id);
  return ids;
}

void finish(Store& store, const std::string& event_id, EventState state = EventState::done) {
  EventOutcome outcome;
  outcome.id = id_of(store, event_id);
  outcome.claim_token = claim(store, event_id);
  outcome.state = state;
  REQUIRE(store.record_outcome(outcome, 1));
}

using Ids = std::vector<std::string>;

} // namespace

TEST_CASE_TEMPLATE("store contract: due_events gives each employee's head, in effective then arrival order", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  // E1: b (effective 10) arrives after a (effective 20) but goes first; c ties with a and arrived later.
  REQUIRE(store->ingest("f1", {make_event("a", "E1", 20, 5), make_event("b", "E1", 10, 7)}, 1));
  REQUIRE(store->ingest("f2", {make_event("c", "E1", 20, 1), make_event("x", "E2", 50, 6),
                               make_event("future", "E3", 1000, 1000, EventState::waiting)},
                        1));
  CHECK(due_ids(*store, 100) == Ids{"x", "b"}); // by due_at_ms, then id; one per employee
  CHECK(due_ids(*store, 100, 1) == Ids{"x"});
  CHECK(due_ids(*store, 6) == Ids{"x"}); // b is E1's head but not due until 7
  finish(*store, "b");
  CHECK(due_ids(*store, 100) == Ids{"a", "x"});
  finish(*store, "a", EventState::failed); // final states do not block
  CHECK(due_ids(*store, 100) == Ids{"c", "x"});
  finish(*store, "c", EventState::skipped);
  finish(*store, "x");
  CHECK(due_ids(*store, 100).empty());
  CHECK(due_ids(*store, 1000) == Ids{"future"}); // waiting and due counts as runnable
}

TEST_CASE_TEMPLATE("store contract: a held head blocks its employee only, reject unblocks", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("t1", "E1", 10, 10), make_event("u1", "E1", 20, 20),
                              make_event("u2", "E2", 30, 30)},
                        1));
  REQUIRE(store->hold_event(id_of(*store, "t1"), claim(*store, "t1"), "more than 50 deactivations", 2));
  CHECK(state_of(*store, "t1") == EventState::held);
  auto held = store->find_event("t1");
  REQUIRE((held && held->has_value()));
  CHECK((*held)->reason == "more than 50 deactivations");
  CHECK(due_ids(*store, 100) == Ids{"u2"});
  // Holding a waiting event also blocks.
  REQUIRE(store->reject_event(id_of(*store, "t1"), "not this one", 3));
  CHECK(state_of(*store, "t1") == EventState::rejected);
  CHECK(due_ids(*store, 100) == Ids{"u1", "u2"});

  finish(*store, "u1");
  auto hold_final = store->hold_event(id_of(*store, "u1"), "no-such-token", "x", 4);
  REQUIRE_FALSE(hold_final);
  CHECK(hold_final.error().kind == ErrorKind::conflict);
  auto hold_absent = store->hold_event(999999, "no-such-token", "x", 4);
  REQUIRE_FALSE(hold_absent);
  CHECK(hold_absent.error().kind == ErrorKind::not_found);
}

TEST_CASE_TEMPLATE("store contract: approve, reject and retry transitions and their not_found errors", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("h1", "E1", 1, 1), make_event("h2", "E2", 1, 1),
                              make_event("h3", "E3", 1, 1), make_event("p", "E4", 1, 1),
                              make_event("w", "E5", 1, 500, EventState::waiting)},
                        1));
  for (const char* id : {"h1", "h2", "h3"})
    REQUIRE(store->hold_event(id_of(*store, id), claim(*store, id), "supervised", 2));

  auto approved = store->approve_event(id_of(*store, "h1"), 50);
  REQUIRE(approved);
  CHECK(*approved == 1);
  auto h1 = store->find_event("h1");
  REQUIRE((h1 && h1->has_value()));
  CHECK((*h1)->state == EventState::pending);
  CHECK((*h1)->approved);
  CHECK((*h1)->due_at_ms == 50);
  for (long long id : {id_of(*store, "h1"), id_of(*store, "p"), 999999LL}) {
    auto again = store->approve_event(id, 60);
    REQUIRE_FALSE(again);
    CHECK(again.error().kind == ErrorKind::not_found);
  }
  auto all = store->approve_all_held(70);
  REQUIRE(all);
  CHECK(*all == 2);
  CHECK(state_of(*store, "h2") == EventState::pending);
  auto none = store->approve_all_held(80);
  REQUIRE(none);
  CHECK(*none == 0);

  REQUIRE(store->reject_event(id_of(*store, "w"), "admin said no", 90)); // waiting → rejected
  auto w = store->find_event("w");
  REQUIRE((w && w->has_value()));
  CHECK((*w)->state == EventState::rejected);
  CHECK((*w)->reason == "admin said no");
  for (long long id : {id_of(*store, "w"), 999999LL}) {
    auto again = store->reject_event(id, "no", 91);
    REQUIRE_FALSE(again);
    CHECK(again.error().kind == ErrorKind::not_found);
  }

  EventOutcome failed;
  failed.id = id_of(*store, "p");
  failed.claim_token = claim(*store, "p");
  failed.state = EventState::failed;
  failed.reason = "HTTP 400";
  failed.attempts = 5;
  REQUIRE(store->record_outcome(failed, 100));
  finish(*store, "h3", EventState::failed);
  auto retried = store->retry_event(id_of(*store, "p"), 200);
  REQUIRE(retried);
  CHECK(*retried == 1);
  auto p = store->find_event("p");
  REQUIRE((p && p->has_value()));
  CHECK((*p)->state == EventState::pending);
  CHECK((*p)->attempts == 0);
  CHECK((*p)->due_at_ms == 200);
  auto not_failed = store->retry_event(id_of(*store, "p"), 201);
  REQUIRE(not_failed);
  CHECK(*not_failed == 0);
  auto absent = store->retry_event(999999, 201);
  REQUIRE_FALSE(absent);
  CHECK(absent.error().kind == ErrorKind::not_found);
  auto retry_all = store->retry_all_failed(300);
  REQUIRE(retry_all);
  CHECK(*retry_all == 1);
  CHECK(state_of(*store, "h3") == EventState::pending);
}

TEST_CASE_TEMPLATE("store contract: promote_waiting and next_due_at", F, H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  auto empty = store->next_due_at();
  REQUIRE(empty);
  CHECK_FALSE(empty->has_value());
  REQUIRE(store->ingest("f", {make_event("w1", "E1", 100, 100, EventState::waiting),
                              make_event("w2", "E2", 300, 300, EventState::waiting),
                              make_event("p", "E3", 1, 200)},
                        1));
  auto next = store->next_due_at();
  REQUIRE((next && next->has_value()));
  CHECK(**next == 100);
  auto promoted = store->promote_waiting(150);
  REQUIRE(promoted);
  CHECK(*promoted == 1);
  CHECK(state_of(*store, "w1") == EventState::pending);
  CHECK(state_of(*store, "w2") == EventState::waiting);
  promoted = store->promote_waiting(150);
  REQUIRE(promoted);
  CHECK(*promoted == 0);
  finish(*store, "w1");
  next = store->next_due_at();
  REQUIRE((next && next->has_value()));
  CHECK(**next == 200);
}

TEST_CASE_TEMPLATE("store contract: reschedule_events moves unclaimed waiting events only, and only once", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("w1", "E1", 1000, 1000, EventState::waiting),
                              make_event("w2", "E2", 2000, 2000, EventState::waiting),
                              make_event("w3", "E3", 50, 50, EventState::waiting), make_event("p", "E4", 10, 10)},
                        1));
  const std::string token = claim(*store, "w3", 100);   // due and claimed: in flight
  const std::vector<EventReschedule> changes{{id_of(*store, "w1"), 900, 500, EventState::waiting, "r1"},
                                             {id_of(*store, "w2"), 2000, 90, EventState::pending, "r2"},
                                             {id_of(*store, "w3"), 3000, 3000, EventState::waiting, "r3"},
                                             {id_of(*store, "p"), 5, 5, EventState::pending, "r4"}};
  auto changed = store->reschedule_events(changes, 100);
  REQUIRE(changed);
  CHECK(*changed == std::vector<long long>{id_of(*store, "w1"), id_of(*store, "w2")});
  auto w1 = store->find_event("w1");
  REQUIRE((w1 && w1->has_value()));
  CHECK((*w1)->effective_at_ms == 900);
  CHECK((*w1)->due_at_ms == 500);
  CHECK((*w1)->state == EventState::waiting);
  CHECK(state_of(*store, "w2") == EventState::pending);
  CHECK((*store->find_event("w3"))->due_at_ms == 50);
  CHECK((*store->find_event("p"))->due_at_ms == 10);
  auto history = store->event_history(id_of(*store, "w2"));
  REQUIRE(history);
  CHECK(history->back().from == EventState::waiting);
  CHECK(history->back().to == EventState::pending);
  CHECK(history->back().reason == "r2");
  // The same changes again (another daemon's reload): nothing changes, no history row is added.
  changed = store->reschedule_events({changes[0]}, 100);
  REQUIRE(changed);
  CHECK(changed->empty());
  CHECK(store->event_history(id_of(*store, "w1"))->size() == 2);
  CHECK(store->release_claim(id_of(*store, "w3"), token));
}

TEST_CASE_TEMPLATE("store contract: record_outcome writes event, employee and links together or not at all", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  ConnectionRow conn;
  conn.name = "zoom-main";
  REQUIRE(store->add_connection(conn));
  REQUIRE(store->put_link(LinkRow{"zoom-main", "E1", "old", "old@example.com", "d0", true, 1}));
  REQUIRE(store->ingest("f", {make_event("e1", "E1", 1, 1), make_event("e2", "E1", 2, 2)}, 1));

  // A retry later: state stays pending, due moves to next_attempt_at_ms.
  EventOutcome retry;
  retry.id = id_of(*store, "e1");
  retry.claim_token = claim(*store, "e1");
  retry.state = EventState::pending;
  retry.reason = "HTTP 503";
  retry.attempts = 1;
  retry.next_attempt_at_ms = 5000;
  REQUIRE(store->record_outcome(retry, 10));
  auto e1 = store->find_event("e1");
  REQUIRE((e1 && e1->has_value()));
  CHECK((*e1)->due_at_ms == 5000);
  CHECK((*e1)->attempts == 1);
  CHECK((*e1)->reason == "HTTP 503");
  CHECK((*e1)->updated_at_ms == 10);
  CHECK(due_ids(*store, 4999).empty()); // e1 is not due and blocks e2
  CHECK(due_ids(*store, 5000) == Ids{"e1"});

  // A failing outcome (a link to a connection that does not exist) changes nothing at all.
  EventOutcome bad;
  bad.id = id_of(*store, "e1");
  bad.claim_token = claim(*store, "e1");
  bad.state = EventState::done;
  bad.result = R"({"created":"zu-1"})";
  bad.employee = EmployeeRow{"E1", {{"email", "e1@example.com"}}, HrStatus::active, 20};
  bad.links_upsert = {LinkRow{"zoom-main", "E1", "zu-1", "e1@example.com", "d1", true, 20},
                      LinkRow{"no-such-connection", "E1", "zu-1", "e1@example.com", "d1", true, 20}};
  bad.links_remove = {{"zoom-main", "E1"}};
  auto failed = store->record_outcome(bad, 20);
  REQUIRE_FALSE(failed);
  CHECK(state_of(*store, "e1") == EventState::pending);
  auto employee = store->get_employee("E1");
  REQUIRE(employee);
  CHECK_FALSE(employee->has_value());
  auto link = store->get_link("zoom-main", "E1");
  REQUIRE((link && link->has_value()));
  CHECK((*link)->zoom_user_id == "old");

  // The same outcome without the bad link lands whole.
  bad.links_upsert.pop_back();
  bad.links_upsert[0].pushed_body = {{"userName", "e1@example.com"}, {"title", "Engineer"}};
  bad.links_upsert[0].pushed_at_ms = 25;
  bad.links_upsert[0].pushed_groups = {{"Engineering", "g-1"}};
  bad.links_remove.clear();
  bad.rules_version = "rules-abc";
  REQUIRE(store->record_outcome(bad, 30));
  e1 = store->find_event("e1");
  REQUIRE((e1 && e1->has_value()));
  CHECK((*e1)->state == EventState::done);
  CHECK((*e1)->result == R"({"created":"zu-1"})");
  CHECK((*e1)->rules_version == "rules-abc");
  CHECK((*e1)->due_at_ms == 5000); // a final state leaves due_at_ms alone
  employee = store->get_employee("E1");
  REQUIRE((employee && employee->has_value()));
  CHECK((*employee)->record.at("email") == "e1@example.com");
  link = store->get_link("zoom-main", "E1");
  REQUIRE((link && link->has_value()));
  CHECK((*link)->zoom_user_id == "zu-1");
  CHECK((*link)->pushed_body == bad.links_upsert[0].pushed_body);
  CHECK((*link)->pushed_at_ms == 25);
  CHECK((*link)->pushed_groups == bad.links_upsert[0].pushed_groups);

  EventOutcome remove;
  remove.id = id_of(*store, "e2");
  remove.claim_token = claim(*store, "e2");
  remove.links_remove = {{"zoom-main", "E1"}};
  REQUIRE(store->record_outcome(remove, 40));
  link = store->get_link("zoom-main", "E1");
  REQUIRE(link);
  CHECK_FALSE(link->has_value());

  EventOutcome absent;
  absent.id = 999999;
  auto not_found = store->record_outcome(absent, 50);
  REQUIRE_FALSE(not_found);
  CHECK(not_found.error().kind == ErrorKind::not_found);
}

TEST_CASE_TEMPLATE("store contract: list_events filters newest first, count_events_by_state", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 1, 1), make_event("b", "E2", 1, 1), make_event("c", "E1", 2, 2),
                              make_event("d", "E3", 9, 9, EventState::waiting)},
                        1));
  finish(*store, "a");
  auto list = [&](EventFilter filter) {
    auto rows = store->list_events(filter);
    REQUIRE(rows);
    Ids ids;
    for (const auto& r : *rows) ids.push_back(r.event_id);
    return ids;
  };
  CHECK(list({}) == Ids{"d", "c", "b", "a"});
  CHECK(list({.limit = 2}) == Ids{"d", "c"});
  CHECK(list({.state = EventState::pending}) == Ids{"c", "b"});
  CHECK(list({.employee_id = std::string("E1")}) == Ids{"c", "a"});
  CHECK(list({.state = EventState::done, .employee_id = std::string("E1")}) == Ids{"a"});
  CHECK(list({.state = EventState::failed}).empty());
  // Paging a walk over every event (h2rd migrate reads its source this way): ids below a given one.
  auto all = store->list_events({});
  REQUIRE(all);
  REQUIRE(all->size() == 4);
  CHECK(list({.before_id = (*all)[1].id, .limit = 2}) == Ids{"b", "a"});
  CHECK(list({.employee_id = std::string("E1"), .before_id = (*all)[1].id}) == Ids{"a"});
  CHECK(list({.before_id = (*all)[3].id}).empty());

  auto counts = store->count_events_by_state();
  REQUIRE(counts);
  CHECK(*counts == std::map<EventState, long long>{
                       {EventState::pending, 2}, {EventState::waiting, 1}, {EventState::done, 1}});
}
