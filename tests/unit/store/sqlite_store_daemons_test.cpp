// SqliteStore: several daemons on one database file — heartbeats extending claims, the daemons list,
// the leader lease, rescues of expired claims, and the guard's window counter. Two stores opened on
// one file stand for two daemons.
#include "store_test_util.hpp"

using namespace h2r;
using namespace h2r::store_test;

namespace {

DaemonRow daemon_row(const std::string& owner, long long started_ms = 1) {
  DaemonRow row;
  row.owner = owner;
  row.host = "host-" + owner;
  row.pid = 42;
  row.version = "1.2.3";
  row.started_at_ms = started_ms;
  return row;
}

EventRow event_of(Store& store, const std::string& event_id) {
  auto row = store.find_event(event_id);
  REQUIRE((row && row->has_value()));
  return **row;
}

} // namespace

TEST_CASE("sqlite store daemons: a heartbeat registers the daemon and extends only its own claims") {
  TempDir dir;
  auto a = SqliteStoreFactory::open(dir);
  auto b = SqliteStoreFactory::open(dir);
  REQUIRE(a->ingest("f", {make_event("x", "E1", 1, 1), make_event("y", "E2", 1, 1)}, 1));
  auto mine = a->claim_due_events(ClaimRequest{"A", 100, 1, 1000});
  auto theirs = b->claim_due_events(ClaimRequest{"B", 100, 1, 1000});
  REQUIRE((mine && theirs && mine->size() == 1 && theirs->size() == 1));
  CHECK(a->shared() == false);

  auto extended = a->heartbeat(daemon_row("A", 50), 500, 2000);
  REQUIRE(extended);
  CHECK(*extended == 1);
  CHECK(event_of(*a, (*mine)[0].event_id).lease_until_ms == 2500);
  CHECK(event_of(*a, (*theirs)[0].event_id).lease_until_ms == 1100);   // B's claim untouched

  REQUIRE(b->heartbeat(daemon_row("B", 60), 600, 2000));
  REQUIRE(a->heartbeat(daemon_row("A", 999), 700, 2000));   // started_at_ms is kept from the first beat
  auto live = b->list_daemons(800, 1000);
  REQUIRE(live);
  REQUIRE(live->size() == 2);
  CHECK((*live)[0].owner == "A");
  CHECK((*live)[0].host == "host-A");
  CHECK((*live)[0].pid == 42);
  CHECK((*live)[0].version == "1.2.3");
  CHECK((*live)[0].started_at_ms == 50);
  CHECK((*live)[0].heartbeat_at_ms == 700);
  CHECK((*live)[0].claims == 1);
  CHECK((*live)[1].owner == "B");
  CHECK((*live)[1].claims == 1);

  // Stale: B's last beat (600) is not after 1650 - 1000; A's (700) is not either at 1700.
  auto later = a->list_daemons(1650, 1000);
  REQUIRE(later);
  REQUIRE(later->size() == 1);
  CHECK((*later)[0].owner == "A");

  REQUIRE(a->remove_daemon("A"));
  CHECK(b->list_daemons(800, 1000).value().size() == 1);

  // A row a week older than another daemon's heartbeat (a daemon killed long ago) is removed by it.
  const long long week = 7LL * 24 * 3600'000;
  REQUIRE(a->heartbeat(daemon_row("A"), 600 + week + 1, 2000));
  auto all = a->list_daemons(600 + week + 1, 2 * week);
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK((*all)[0].owner == "A");

  CHECK_FALSE(a->heartbeat(daemon_row(""), 1, 1000));
  CHECK_FALSE(a->heartbeat(daemon_row("A"), 1, 0));
}

TEST_CASE("sqlite store daemons: one leader at a time, renewed by its holder, taken over after it expires") {
  TempDir dir;
  auto a = SqliteStoreFactory::open(dir);
  auto b = SqliteStoreFactory::open(dir);
  CHECK(a->try_lead("A", 100, 1000).value());
  CHECK_FALSE(b->try_lead("B", 200, 1000).value());
  CHECK(a->try_lead("A", 900, 1000).value());         // renewed until 1900
  CHECK_FALSE(b->try_lead("B", 1500, 1000).value());
  REQUIRE(a->heartbeat(daemon_row("A"), 1500, 1000));
  REQUIRE(b->heartbeat(daemon_row("B"), 1500, 1000));
  auto live = a->list_daemons(1500, 1000).value();
  REQUIRE(live.size() == 2);
  CHECK(live[0].leader);
  CHECK_FALSE(live[1].leader);
  CHECK(b->try_lead("B", 1900, 1000).value());          // A's lease ran out
  CHECK_FALSE(a->try_lead("A", 1950, 1000).value());
  // A clean stop gives the lease up at once.
  REQUIRE(b->remove_daemon("B"));
  CHECK(a->try_lead("A", 1960, 1000).value());
  CHECK_FALSE(a->try_lead("", 1, 1));
}

TEST_CASE("sqlite store daemons: an expired claim is rescued with its previous owner, and an outcome resets the count") {
  TempDir dir;
  auto a = SqliteStoreFactory::open(dir);
  auto b = SqliteStoreFactory::open(dir);
  REQUIRE(a->ingest("f", {make_event("x", "E1", 1, 1)}, 1));
  auto first = a->claim_due_events(ClaimRequest{"A", 100, 10, 1000}).value();
  REQUIRE(first.size() == 1);
  CHECK(first[0].rescued_from.empty());
  CHECK(first[0].rescues == 0);
  CHECK(b->claim_due_events(ClaimRequest{"B", 1099, 10, 1000}).value().empty());   // lease still runs

  auto rescued = b->claim_due_events(ClaimRequest{"B", 1100, 10, 1000}).value();
  REQUIRE(rescued.size() == 1);
  CHECK(rescued[0].rescued_from == "A");
  CHECK(rescued[0].rescues == 1);
  CHECK(rescued[0].claim_owner == "B");
  CHECK(event_of(*a, "x").rescues == 1);

  // A's late outcome is refused: the lease was lost.
  EventOutcome late;
  late.id = first[0].id;
  late.claim_token = first[0].claim_token;
  late.state = EventState::done;
  auto refused = a->record_outcome(late, 1200);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(refused.error().message.find("lost claim") != std::string::npos);

  // Released claims are not rescues; a retry outcome resets the count.
  REQUIRE(b->release_claim(rescued[0].id, rescued[0].claim_token));
  auto again = a->claim_due_events(ClaimRequest{"A", 1300, 10, 1000}).value();
  REQUIRE(again.size() == 1);
  CHECK(again[0].rescued_from.empty());
  CHECK(again[0].rescues == 1);
  EventOutcome retry;
  retry.id = again[0].id;
  retry.claim_token = again[0].claim_token;
  retry.state = EventState::pending;
  retry.next_attempt_at_ms = 1400;
  REQUIRE(a->record_outcome(retry, 1300));
  CHECK(event_of(*a, "x").rescues == 0);
}

TEST_CASE("sqlite store daemons: an expired non-head claim is dropped only when its employee's head is claimed") {
  TempDir dir;
  auto a = SqliteStoreFactory::open(dir);
  auto b = SqliteStoreFactory::open(dir);
  REQUIRE(a->ingest("f1", {make_event("later", "E1", 20, 5)}, 1));
  auto first = a->claim_due_events(ClaimRequest{"A", 100, 10, 1000}).value();
  REQUIRE(first.size() == 1);
  CHECK(first[0].claim_token.size() == 32);
  CHECK(first[0].claim_token.find_first_not_of("0123456789abcdef") == std::string::npos);
  REQUIRE(a->ingest("f2", {make_event("earlier", "E1", 10, 10), make_event("other", "E2", 1, 1)}, 2));

  // A's lease on "later" has run out, but this claim takes only E2's event: E1's expired claim stays.
  auto only_other = b->claim_due_events(ClaimRequest{"B", 1100, 1, 1000}).value();
  REQUIRE(only_other.size() == 1);
  CHECK(only_other[0].event_id == "other");
  CHECK(event_of(*a, "later").claim_token == first[0].claim_token);
  CHECK(event_of(*a, "later").claim_owner == "A");

  // Now E1's head is claimed: the expired claim on its later event ends, and A's late outcome is refused.
  auto head = b->claim_due_events(ClaimRequest{"B", 1200, 10, 1000}).value();
  REQUIRE(head.size() == 1);
  CHECK(head[0].event_id == "earlier");
  CHECK(head[0].claim_token != first[0].claim_token);
  CHECK(event_of(*a, "later").claim_token.empty());
  CHECK(event_of(*a, "later").claim_owner.empty());
  CHECK(event_of(*a, "other").claim_owner == "B");   // a running claim of another employee is untouched
  EventOutcome late;
  late.id = first[0].id;
  late.claim_token = first[0].claim_token;
  late.state = EventState::done;
  auto refused = a->record_outcome(late, 1300);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
}

TEST_CASE("sqlite store daemons: a heartbeat extends thousands of claims at once") {
  // Figure 14 of BENCHMARKS.md (3,000 hires over 500 connections) claimed every event at once; each
  // heartbeat then failed with "database or disk is full" and the daemon gave up the leader lease: the
  // UPDATE's statement journal outgrew memory, and SQLite spilled it to a file in writes of the spill
  // size, which its unix VFS cannot make at 128 KiB or more (lib/store/sqlite/sqlite_db.cpp).
  TempDir dir;
  auto a = SqliteStoreFactory::open(dir);
  constexpr int k_events = 20000;
  std::vector<NewEvent> events;
  for (int i = 0; i < k_events; ++i)
    events.push_back(make_event("ev-" + std::to_string(i), "E" + std::to_string(i), 1, 1));
  REQUIRE(a->ingest("f", events, 1));
  auto mine = a->claim_due_events(ClaimRequest{"A", 100, k_events, 1000});
  REQUIRE(mine);
  REQUIRE(mine->size() == static_cast<std::size_t>(k_events));
  auto extended = a->heartbeat(daemon_row("A"), 500, 2000);
  REQUIRE_MESSAGE(extended, (extended ? "" : extended.error().message));
  CHECK(*extended == k_events);
  CHECK(event_of(*a, (*mine)[k_events - 1].event_id).lease_until_ms == 2500);
}
