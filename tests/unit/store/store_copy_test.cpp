// copy_store (h2rd migrate's core) between two SQLite stores: every row kept, ids kept, claims
// cleared, later ingests numbered after the copy; a non-empty target refused with nothing written.
#include "store/store_copy.hpp"
#include "store_test_util.hpp"
#include "support/store_compare.hpp"

using namespace h2r;
using namespace h2r::store_test;

namespace {

// A small deployment: two connections (one with health), events in several states (done, failed,
// held, waiting, pending claimed), their history, employees, links with pushed_*, meta.
void fill(Store& store) {
  ConnectionRow c;
  c.name = "zoom-a";
  c.account_id = "acc-a";
  c.client_id = "cli-a";
  c.secret_blob = std::string("\x01\x00\xff sealed", 10);
  c.oauth_url = "https://zoom.us/oauth/token";
  c.api_url = "https://api.zoom.us/scim2";
  c.rate_limit = 12.5;
  c.created_at_ms = 1000;
  c.updated_at_ms = 2000;
  REQUIRE(store.add_connection(c));
  c.name = "zoom-b";
  c.allow_insecure_http = true;
  REQUIRE(store.add_connection(c));
  ConnectionHealth h;
  h.name = "zoom-a";
  h.healthy = false;
  h.last_error = "401 invalid_client";
  h.last_error_at_ms = 3000;
  h.paused_until_ms = 4000;
  h.pause_reason = "credentials";
  REQUIRE(store.put_connection_health(h));

  std::vector<NewEvent> events;
  for (int i = 0; i < 7; ++i)
    events.push_back(make_event("ev-" + std::to_string(i), "E" + std::to_string(i), 100 + i, 100 + i));
  events.push_back(make_event("ev-later", "E9", 900, k_far_future_ms, EventState::waiting, EventType::hire));
  events[0].event.fields["nick"] = std::nullopt;
  events[1].event.type = EventType::leave;
  events[1].event.leave_type = LeaveType::fmla;
  REQUIRE(store.ingest("/inbox/a.json", events, 50));

  EventOutcome done;
  done.id = 1;
  done.claim_token = claim(store, "ev-0");
  done.state = EventState::done;
  done.rules_version = "r1";
  done.result = R"({"calls":1})";
  done.attempts = 1;
  EmployeeRow emp;
  emp.employee_id = "E0";
  emp.record = {{"employee_id", "E0"}, {"first_name", "Ann"}};
  emp.status = HrStatus::active;
  emp.updated_at_ms = 77;
  done.employee = emp;
  LinkRow link;
  link.connection = "zoom-a";
  link.employee_id = "E0";
  link.zoom_user_id = "u-0";
  link.user_name = "ann@example.com";
  link.pushed_digest = "d0";
  link.pushed_body = nlohmann::json{{"userName", "ann@example.com"}};
  link.pushed_at_ms = 88;
  link.pushed_groups = {{"Eng", "g-1"}};
  done.links_upsert.push_back(link);
  REQUIRE(store.record_outcome(done, 200));

  EventOutcome failed;
  failed.id = 2;
  failed.claim_token = claim(store, "ev-1");
  failed.state = EventState::failed;
  failed.reason = "409 conflict";
  failed.attempts = 3;
  REQUIRE(store.record_outcome(failed, 210));
  REQUIRE(store.hold_event(3, claim(store, "ev-2"), "guard", 220));
  REQUIRE(store.reject_event(4, "operator", 230));
  claim(store, "ev-4");   // left claimed: the copy must not keep the claim
  REQUIRE(store.set_meta("rules.version", "r1"));
  REQUIRE(store.set_meta("daemon.pid", "4242"));   // the old process's: not copied
  REQUIRE(store.set_meta("logins.reserved", "1"));  // not copied: the new database reserves its own
}

} // namespace

TEST_CASE("store copy: every row of a SQLite deployment lands in an empty store, ids kept, claims cleared") {
  TempDir a;
  TempDir b;
  auto from = SqliteStoreFactory::open(a);
  auto to = SqliteStoreFactory::open(b);
  fill(*from);
  auto counts = copy_store(*from, *to, 3);   // a page smaller than the events: several pages
  REQUIRE_MESSAGE(counts, counts.error().message);
  CHECK(counts->connections == 2);
  CHECK(counts->connection_health == 1);
  CHECK(counts->events == 8);
  CHECK(counts->employees == 1);
  CHECK(counts->links == 1);
  CHECK(counts->meta == 1);
  CHECK(counts->history >= 8 + 4);
  CHECK(h2r::test::check_same_deployment(*from, *to) == 8);
  auto reserved = to->get_meta("logins.reserved");
  REQUIRE(reserved);
  CHECK_FALSE(reserved->has_value());
}

TEST_CASE("store copy: the copy goes on where the source stopped") {
  TempDir a;
  TempDir b;
  auto from = SqliteStoreFactory::open(a);
  auto to = SqliteStoreFactory::open(b);
  fill(*from);
  REQUIRE(copy_store(*from, *to));
  // A new file's events are numbered after every copied one.
  auto more = to->ingest("/inbox/b.json", {make_event("ev-new", "E20", 100, 100)}, 300);
  REQUIRE(more);
  auto added = to->find_event("ev-new");
  REQUIRE(added);
  REQUIRE(added->has_value());
  CHECK((*added)->id == 9);
  // The event the old daemon held claimed is free to claim; held and waiting ones stay as they were.
  auto claimed = to->claim_due_events(ClaimRequest{"new-daemon", k_far_future_ms - 1, 100, 60'000});
  REQUIRE(claimed);
  bool ev4 = false;
  for (const auto& e : *claimed) ev4 = ev4 || e.event_id == "ev-4";
  CHECK(ev4);
  auto held = to->find_event("ev-2");
  REQUIRE(held);
  CHECK((*held)->state == EventState::held);
}

TEST_CASE("store copy: a target that holds events or connections is refused and left as it was") {
  TempDir a;
  TempDir b;
  auto from = SqliteStoreFactory::open(a);
  auto to = SqliteStoreFactory::open(b);
  fill(*from);
  REQUIRE(to->ingest("/inbox/x.json", {make_event("ev-x", "EX", 100, 100)}, 300));
  auto refused = copy_store(*from, *to);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(refused.error().message.find("not empty (1 events, 0 connections)") != std::string::npos);
  auto conns = to->list_connections();
  REQUIRE(conns);
  CHECK(conns->empty());
  auto counts = to->count_events_by_state();
  REQUIRE(counts);
  CHECK((*counts)[EventState::pending] == 1);

  // A failure in the middle (here: an event whose id is taken) leaves nothing behind either.
  TempDir c;
  auto empty = SqliteStoreFactory::open(c);
  auto batch = empty->begin_import();
  REQUIRE(batch);
  EventRow row;
  row.id = 5;
  row.event_id = "dup";
  REQUIRE((*batch)->add_events({row}));
  row.event_id = "dup2";
  CHECK_FALSE((*batch)->add_events({row}));   // id 5 again
  batch->reset();                              // destroyed without commit: rolled back
  auto after = empty->count_events_by_state();
  REQUIRE(after);
  CHECK(after->empty());
}
