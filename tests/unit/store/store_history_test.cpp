// The Store contract, event history and list filters: every state change leaves one history row with
// the actor the store was given, in the same call; changes that do not happen leave none.
#include "store_test_util.hpp"

using namespace h2r;
using namespace h2r::store_test;

namespace {

long long id_of(Store& store, const std::string& event_id) {
  auto row = store.find_event(event_id);
  REQUIRE((row && row->has_value()));
  return (*row)->id;
}

// "from>to actor reason" per history row.
std::vector<std::string> steps(Store& store, const std::string& event_id) {
  auto history = store.event_history(id_of(store, event_id));
  REQUIRE(history);
  std::vector<std::string> out;
  for (const auto& h : *history)
    out.push_back((h.from ? std::string(to_string(*h.from)) : std::string("-")) + ">" + std::string(to_string(h.to)) +
                  " " + h.actor + " " + h.reason);
  return out;
}

std::vector<std::string> listed(Store& store, EventFilter filter) {
  auto rows = store.list_events(filter);
  REQUIRE(rows);
  std::vector<std::string> ids;
  for (const auto& e : *rows) ids.push_back(e.event_id);
  return ids;
}

using Steps = std::vector<std::string>;

} // namespace

TEST_CASE_TEMPLATE("store contract: each state change writes one history row with its actor and reason", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("in/a.json", {make_event("a", "E1", 10, 10), make_event("b", "E2", 10, 10),
                                      make_event("c", "E3", 10, 10)}, 5));
  REQUIRE(store->hold_event(id_of(*store, "a"), claim(*store, "a"), "supervised", 20));
  REQUIRE(store->hold_event(id_of(*store, "b"), claim(*store, "b"), "guard", 20));
  store->set_actor("cli:alice");
  REQUIRE(store->approve_event(id_of(*store, "a"), 30));
  REQUIRE(store->reject_event(id_of(*store, "b"), "not this one", 30));
  CHECK_FALSE(store->approve_event(id_of(*store, "b"), 31));      // not held: no change, no row
  CHECK(*store->retry_event(id_of(*store, "c"), 31) == 0);         // not failed: no change, no row
  store->set_actor("h2rd");
  EventOutcome failed;
  failed.id = id_of(*store, "c");
  failed.state = EventState::failed;
  failed.reason = "Zoom said no";
  failed.claim_token = claim(*store, "c");
  REQUIRE(store->record_outcome(failed, 40));
  store->set_actor("cli:bob");
  CHECK(*store->retry_all_failed(50) == 1);

  CHECK(steps(*store, "a") == Steps{"->pending h2rd arrived in in/a.json", "pending>held h2rd supervised",
                                    "held>pending cli:alice approved"});
  CHECK(steps(*store, "b") == Steps{"->pending h2rd arrived in in/a.json", "pending>held h2rd guard",
                                    "held>rejected cli:alice not this one"});
  CHECK(steps(*store, "c") == Steps{"->pending h2rd arrived in in/a.json", "pending>failed h2rd Zoom said no",
                                    "failed>pending cli:bob retry (all failed events)"});
  auto history = store->event_history(id_of(*store, "c"));
  REQUIRE(history);
  CHECK((*history)[1].at_ms == 40);
  // A waiting event that falls due is promoted, and says so.
  store->set_actor("h2rd");
  REQUIRE(store->ingest("in/w.json", {make_event("w", "E4", 100, 100, EventState::waiting)}, 5));
  CHECK(*store->promote_waiting(99) == 0);
  CHECK(*store->promote_waiting(100) == 1);
  CHECK(steps(*store, "w") == Steps{"->waiting h2rd arrived in in/w.json", "waiting>pending h2rd due"});
  // A duplicate arrival is not a change.
  REQUIRE(store->ingest("in/again.json", {make_event("a", "E1", 10, 10)}, 60));
  CHECK(steps(*store, "a").size() == 3);
}

TEST_CASE_TEMPLATE("store contract: list_events filters by type, effective range and source file name", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("inbox/hires.json", {make_event("h1", "E1", 100, 100, EventState::pending, EventType::hire),
                                             make_event("h2", "E2", 200, 200, EventState::pending, EventType::hire)}, 1));
  REQUIRE(store->ingest("old-hires.json", {make_event("u1", "E1", 300, 300)}, 1));
  CHECK(listed(*store, {.type = EventType::hire}) == std::vector<std::string>{"h2", "h1"});
  CHECK(listed(*store, {.effective_from_ms = 200}) == std::vector<std::string>{"u1", "h2"});
  CHECK(listed(*store, {.effective_before_ms = 200}) == std::vector<std::string>{"h1"});
  CHECK(listed(*store, {.effective_from_ms = 150, .effective_before_ms = 250}) == std::vector<std::string>{"h2"});
  CHECK(listed(*store, {.source_file = std::string("hires.json")}) == std::vector<std::string>{"h2", "h1"});
  CHECK(listed(*store, {.source_file = std::string("inbox/hires.json")}) == std::vector<std::string>{"h2", "h1"});
  CHECK(listed(*store, {.source_file = std::string("old-hires.json")}) == std::vector<std::string>{"u1"});
  CHECK(listed(*store, {.source_file = std::string("ires.json")}).empty());   // a name, not any suffix
  CHECK(listed(*store, {.employee_id = std::string("E1"), .type = EventType::hire}) == std::vector<std::string>{"h1"});
}

TEST_CASE_TEMPLATE("store contract: retry makes a pending event waiting out its backoff due now, never one in flight or waiting for its date",
                   F, H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("in/a.json", {make_event("backoff", "E1", 10, 10), make_event("fresh", "E2", 10, 10),
                                      make_event("flight", "E3", 10, 10),
                                      make_event("later", "E4", 5'000, 5'000, EventState::waiting)}, 5));
  // A transient error sent two of them back to wait until 1000; one of those is claimed again.
  for (const char* id : {"backoff", "flight"}) {
    EventOutcome again;
    again.id = id_of(*store, id);
    again.claim_token = claim(*store, id, 20);
    again.state = EventState::pending;
    again.reason = "HTTP 503 from Zoom";
    again.attempts = 2;
    again.next_attempt_at_ms = 1'000;
    REQUIRE(store->record_outcome(again, 20));
  }
  const std::string in_flight = claim(*store, "flight", 1'000);
  REQUIRE_FALSE(in_flight.empty());

  store->set_actor("cli:alice");
  auto retried = store->retry_event(id_of(*store, "backoff"), 100);
  REQUIRE(retried);
  CHECK(*retried == 1);
  auto row = store->find_event("backoff");
  REQUIRE((row && row->has_value()));
  CHECK((*row)->state == EventState::pending);
  CHECK((*row)->due_at_ms == 100);
  CHECK((*row)->attempts == 2);                         // kept: the backoff grows on if it fails again
  CHECK(steps(*store, "backoff").back() == "pending>pending cli:alice retry now");
  CHECK(*store->retry_event(id_of(*store, "backoff"), 101) == 0);   // due already
  CHECK(*store->retry_event(id_of(*store, "fresh"), 100) == 0);     // never failed
  CHECK(*store->retry_event(id_of(*store, "flight"), 100) == 0);    // a daemon works on it
  CHECK(*store->retry_event(id_of(*store, "later"), 100) == 0);     // waits for its effective date
  auto later = store->find_event("later");
  REQUIRE((later && later->has_value()));
  CHECK((*later)->due_at_ms == 5'000);
}

TEST_CASE_TEMPLATE("store contract: outcomes_by_hour counts the changes into each final state per hour, from a time on",
                   F, H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  constexpr long long hour = 3'600'000;
  const long long day = 500 * 24 * hour;   // some midnight, UTC
  REQUIRE(store->ingest("a.json", {make_event("a", "E1", 10, 10), make_event("b", "E2", 10, 10), make_event("c", "E3", 10, 10),
                                   make_event("d", "E4", 10, 10)}, day - hour));
  auto finish = [&](const char* id, EventState state, long long at) {
    EventOutcome done;
    done.id = id_of(*store, id);
    done.claim_token = claim(*store, id, at);
    done.state = state;
    done.reason = state == EventState::failed ? "no" : "";
    REQUIRE(store->record_outcome(done, at));
  };
  finish("a", EventState::done, day - 10);                  // the hour before: not counted from `day`
  finish("b", EventState::done, day + 5);
  finish("c", EventState::failed, day + 2 * hour + 7);
  REQUIRE(store->reject_event(id_of(*store, "d"), "wrong export", day + 2 * hour + 9));
  auto rows = store->outcomes_by_hour(day);
  REQUIRE(rows);
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[0].hour_ms == day);
  CHECK((*rows)[0].state == EventState::done);
  CHECK((*rows)[0].count == 1);
  CHECK((*rows)[1].hour_ms == day + 2 * hour);
  CHECK((*rows)[1].state == EventState::failed);
  CHECK((*rows)[2].state == EventState::rejected);
  // From the hour before, event a's ending counts too; the arrivals (pending) never do.
  auto wider = store->outcomes_by_hour(day - hour);
  REQUIRE(wider);
  CHECK(wider->size() == 4);
  CHECK((*wider)[0].hour_ms == day - hour);
}
