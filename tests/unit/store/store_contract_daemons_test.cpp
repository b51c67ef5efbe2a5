// The Store contract, part 4: several daemons on one database — claims raced by two stores, per-employee
// order under concurrency, rescued leases, heartbeats, the leader lease and the shared deactivation
// window. Runs once per implementation in H2R_STORE_IMPLEMENTATIONS; the cases on the daemon methods
// and on rescues run only for stores that implement them (F::daemons, F::rescues; SQLite's side comes
// with the `multi` branch), and say so.
#include "store_test_util.hpp"

#include "store/gone_daemons.hpp"

#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace h2r;
using namespace h2r::store_test;

namespace {

EventRow event_of(Store& store, const std::string& event_id) {
  auto row = store.find_event(event_id);
  REQUIRE((row && row->has_value()));
  return **row;
}

std::vector<EventRow> claim_all(Store& store, const std::string& owner, long long now_ms, int limit = 1000,
                                long long lease_ms = 1000) {
  auto claimed = store.claim_due_events(ClaimRequest{owner, now_ms, limit, lease_ms});
  REQUIRE(claimed);
  return std::move(claimed).value();
}

Result<void> finish(Store& store, const EventRow& row, EventState state, long long now_ms) {
  EventOutcome outcome;
  outcome.id = row.id;
  outcome.claim_token = row.claim_token;
  outcome.state = state;
  outcome.attempts = 1;
  outcome.next_attempt_at_ms = now_ms;
  return store.record_outcome(outcome, now_ms);
}

#define H2R_SKIP_UNLESS(flag, what)                                                                          \
  do {                                                                                                      \
    if (!(flag)) {                                                                                          \
      MESSAGE("SKIPPED (store): this store does not implement " what);                                      \
      return;                                                                                               \
    }                                                                                                       \
  } while (false)

} // namespace

TEST_CASE_TEMPLATE("store contract: two stores on one database hammer claims and keep every employee in order" * doctest::test_suite("threads"), F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto first = F::open(dir);
  auto second = F::open(dir);
  constexpr int k_employees = 12;
  constexpr int k_per_employee = 5;
  std::vector<NewEvent> events;
  // Arrival order is the reverse of effective order: the claim must follow effective order.
  for (int n = k_per_employee - 1; n >= 0; --n)
    for (int e = 0; e < k_employees; ++e)
      events.push_back(make_event(fmt::format("E{}-{}", e, n), fmt::format("E{}", e), 10 + n, 1));
  REQUIRE(first->ingest("f", events, 1));

  std::mutex mutex;
  std::set<std::string> working;           // employees some thread holds a claim for
  std::map<std::string, int> next_of;      // the effective step each employee must be claimed at next
  std::vector<std::string> problems;
  int finished = 0;
  auto worker = [&](Store& store, std::string owner) {
    for (int idle = 0; idle < 200;) {
      auto bite = store.claim_due_events(ClaimRequest{owner, 100, 3, 60'000});
      if (!bite) {
        std::lock_guard lock(mutex);
        problems.push_back(owner + ": " + bite.error().message);
        return;
      }
      if (bite->empty()) {
        std::lock_guard lock(mutex);
        if (finished == k_employees * k_per_employee) return;
        ++idle;
        continue;
      }
      for (const auto& row : *bite) {
        {
          std::lock_guard lock(mutex);
          if (!working.insert(row.employee_id).second) problems.push_back("two claims on " + row.employee_id);
          const int step = static_cast<int>(row.effective_at_ms - 10);
          if (next_of[row.employee_id] != step)
            problems.push_back(fmt::format("{} claimed out of order (step {})", row.event_id, step));
          next_of[row.employee_id] = step + 1;
          working.erase(row.employee_id); // before the outcome: the claim still blocks the employee
          ++finished;
        }
        if (auto done = finish(store, row, EventState::done, 100); !done) {
          std::lock_guard lock(mutex);
          problems.push_back(owner + ": " + done.error().message);
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back(worker, std::ref(t % 2 == 0 ? *first : *second), fmt::format("daemon-{}", t));
  for (auto& t : threads) t.join();
  for (const auto& p : problems) CHECK_MESSAGE(false, p);
  CHECK(finished == k_employees * k_per_employee);
  auto counts = first->count_events_by_state();
  REQUIRE(counts);
  CHECK((*counts)[EventState::done] == k_employees * k_per_employee);
}

TEST_CASE_TEMPLATE("store contract: an earlier event arriving while a later one is claimed waits for that claim", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  H2R_SKIP_UNLESS(F::one_claim_per_employee, "one claim per employee (it orders an employee's claims by its head only)");
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f1", {make_event("later", "E1", 20, 1)}, 1));
  auto claimed = claim_all(*store, "d1", 100, 10, 1000);
  REQUIRE(claimed.size() == 1);
  REQUIRE(store->ingest("f2", {make_event("earlier", "E1", 10, 1), make_event("other", "E2", 10, 1)}, 2));
  // "earlier" is E1's head now, but E1's "later" is claimed: never two claims on one employee.
  auto second = claim_all(*store, "d2", 200);
  REQUIRE(second.size() == 1);
  CHECK(second[0].event_id == "other");
  CHECK(store->due_events(200, 10).value().size() == 1); // due_events itself lists "earlier": the head
  // The claim on "later" runs out: it is not E1's head, so it is dropped and "earlier" is claimed.
  auto after = claim_all(*store, "d2", 1100);
  REQUIRE(after.size() == 1);
  CHECK(after[0].event_id == "earlier");
  CHECK(event_of(*store, "later").claim_token.empty());
  auto stale = finish(*store, claimed[0], EventState::done, 1200);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().kind == ErrorKind::conflict);
}

TEST_CASE_TEMPLATE("store contract: an expired lease is rescued, naming the owner it was taken from", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  H2R_SKIP_UNLESS(F::rescues, "rescued_from and rescues yet (the multi branch brings it)");
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 1, 1)}, 1));
  auto c1 = claim_all(*store, "d1", 100, 10, 1000);
  REQUIRE(c1.size() == 1);
  CHECK(c1[0].rescued_from.empty());
  CHECK(c1[0].rescues == 0);
  auto c2 = claim_all(*store, "d2", 1100, 10, 1000);
  REQUIRE(c2.size() == 1);
  CHECK(c2[0].rescued_from == "d1");
  CHECK(c2[0].rescues == 1);
  auto c3 = claim_all(*store, "d3", 2100, 10, 1000);
  REQUIRE(c3.size() == 1);
  CHECK(c3[0].rescued_from == "d2");
  CHECK(c3[0].rescues == 2);
  CHECK(event_of(*store, "a").rescues == 2);
  REQUIRE(finish(*store, c3[0], EventState::pending, 2200)); // an outcome (retry later) resets the count
  CHECK(event_of(*store, "a").rescues == 0);
  auto c4 = claim_all(*store, "d1", 2300, 10, 1000);
  REQUIRE(c4.size() == 1);
  CHECK(c4[0].rescued_from.empty());
  CHECK(c4[0].rescues == 0);
  REQUIRE(store->release_claim(c4[0].id, c4[0].claim_token));
  auto c5 = claim_all(*store, "d2", 2400, 10, 1000); // released, not expired: no rescue
  REQUIRE(c5.size() == 1);
  CHECK(c5[0].rescued_from.empty());
}

TEST_CASE_TEMPLATE("store contract: heartbeat extends only its own owner's leases, list_daemons shows who is alive", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  H2R_SKIP_UNLESS(F::daemons, "heartbeats yet (the multi branch brings it)");
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 1, 1), make_event("b", "E2", 1, 1), make_event("c", "E3", 1, 1)}, 1));
  REQUIRE(claim_all(*store, "d1", 100, 2, 1000).size() == 2);
  REQUIRE(claim_all(*store, "d2", 100, 10, 1000).size() == 1);
  DaemonRow d1{"d1", "host-1", 11, "1.0", 50};
  auto extended = store->heartbeat(d1, 500, 5000);
  REQUIRE(extended);
  CHECK(*extended == 2);
  CHECK(event_of(*store, "a").lease_until_ms == 5500);
  CHECK(event_of(*store, "b").lease_until_ms == 5500);
  CHECK(event_of(*store, "c").lease_until_ms == 1100); // d2's claim: untouched
  CHECK(claim_all(*store, "d3", 1100).size() == 1);    // d2's lease ran out; d1's did not

  auto daemons = store->list_daemons(600, 1000);
  REQUIRE(daemons);
  REQUIRE(daemons->size() == 1);
  CHECK((*daemons)[0].owner == "d1");
  CHECK((*daemons)[0].host == "host-1");
  CHECK((*daemons)[0].pid == 11);
  CHECK((*daemons)[0].version == "1.0");
  CHECK((*daemons)[0].started_at_ms == 50);
  CHECK((*daemons)[0].heartbeat_at_ms == 500);
  CHECK((*daemons)[0].claims == 2);
  CHECK_FALSE((*daemons)[0].leader);
  REQUIRE(store->heartbeat(DaemonRow{"d2", "host-2", 22, "1.0", 60}, 700, 5000).value() == 0);
  REQUIRE(store->try_lead("d2", 700, 1000).value());
  daemons = store->list_daemons(800, 1000);
  REQUIRE((daemons && daemons->size() == 2));
  CHECK((*daemons)[1].owner == "d2");
  CHECK((*daemons)[1].leader);
  CHECK((*daemons)[1].claims == 0);
  CHECK(store->list_daemons(1600, 1000).value().size() == 1); // d1's heartbeat (500) is stale at 1600
  REQUIRE(store->remove_daemon("d2"));
  CHECK(store->list_daemons(800, 1000).value().size() == 1);
  CHECK(store->try_lead("d1", 800, 1000).value()); // d2's lease went with it
  CHECK_FALSE(store->heartbeat(DaemonRow{}, 900, 1000));
}

TEST_CASE_TEMPLATE("store contract: a daemon killed without a clean stop stays listed with its claims and their lease until k_gone_daemon_kept_ms", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  H2R_SKIP_UNLESS(F::daemons, "heartbeats yet (the multi branch brings it)");
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 1, 1), make_event("b", "E2", 1, 1)}, 1));
  REQUIRE(claim_all(*store, "killed", 100, 2, 1000).size() == 2);
  REQUIRE(store->heartbeat(DaemonRow{"killed", "host-1", 11, "1.0", 50}, 500, 5000));   // claims until 5500
  REQUIRE(store->heartbeat(DaemonRow{"alive", "host-2", 22, "1.0", 60}, 600, 5000));
  // Long after its last heartbeat (status asks for every row it keeps): still there, with its claims.
  const long long later = 500 + 3'600'000;
  REQUIRE(store->heartbeat(DaemonRow{"alive", "host-2", 22, "1.0", 60}, later, 5000));
  auto rows = store->list_daemons(later, k_gone_daemon_kept_ms);
  REQUIRE(rows);
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].owner == "alive");
  CHECK((*rows)[0].claims == 0);
  CHECK((*rows)[0].claims_until_ms == 0);
  CHECK((*rows)[1].owner == "killed");
  CHECK((*rows)[1].heartbeat_at_ms == 500);
  CHECK((*rows)[1].claims == 2);
  CHECK((*rows)[1].claims_until_ms == 5500);
  // Taken over: the claims move to the new owner, the gone row holds none.
  REQUIRE(claim_all(*store, "alive", later, 10, 5000).size() == 2);
  rows = store->list_daemons(later, k_gone_daemon_kept_ms);
  REQUIRE((rows && rows->size() == 2));
  CHECK((*rows)[0].claims == 2);
  CHECK((*rows)[0].claims_until_ms == later + 5000);
  CHECK((*rows)[1].claims == 0);
  // Any heartbeat removes the rows older than k_gone_daemon_kept_ms.
  REQUIRE(store->heartbeat(DaemonRow{"alive", "host-2", 22, "1.0", 60}, 501 + k_gone_daemon_kept_ms, 5000));
  rows = store->list_daemons(501 + k_gone_daemon_kept_ms, 2 * k_gone_daemon_kept_ms);
  REQUIRE((rows && rows->size() == 1));
  CHECK((*rows)[0].owner == "alive");
}

TEST_CASE_TEMPLATE("store contract: try_lead is exclusive until the lease runs out, also when raced" * doctest::test_suite("threads"), F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  H2R_SKIP_UNLESS(F::daemons, "the leader lease yet (the multi branch brings it)");
  TempDir dir;
  auto store = F::open(dir);
  auto other = F::open(dir);
  CHECK(store->try_lead("d1", 100, 1000).value());
  CHECK_FALSE(other->try_lead("d2", 500, 1000).value());
  CHECK(store->try_lead("d1", 900, 1000).value());      // renewed until 1900
  CHECK_FALSE(other->try_lead("d2", 1500, 1000).value());
  CHECK(other->try_lead("d2", 1900, 1000).value());     // d1's lease ran out
  CHECK_FALSE(store->try_lead("d1", 1950, 1000).value());

  // Many contenders at one instant after the lease ran out: exactly one wins.
  std::atomic<int> winners{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      auto won = (t % 2 == 0 ? *store : *other).try_lead(fmt::format("racer-{}", t), 5000, 1000);
      if (!won) ++errors;
      else if (*won) ++winners;
    });
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(winners == 1);
}

TEST_CASE_TEMPLATE("store contract: reserve_guard grants a set only when it fits the sliding window, and every daemon keeps the set's decision", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  H2R_SKIP_UNLESS(F::daemons, "the guard's shared budget");
  TempDir dir;
  auto store = F::open(dir);
  auto other = F::open(dir);   // a second daemon on the same database
  constexpr long long k_per = 60LL * 60 * 1000;
  auto ask = [&](Store& s, const std::string& set, long long at, int count) {
    return s.reserve_guard(GuardRequest{set, at, k_per, count, 5});
  };
  auto big = ask(*store, "big", 1000, 6).value();   // more than max at once
  CHECK_FALSE(big.granted);
  CHECK_FALSE(big.decided_before);
  auto big_again = ask(*other, "big", 2000, 1).value();   // the set stays refused, on every daemon
  CHECK_FALSE(big_again.granted);
  CHECK(big_again.decided_before);
  auto a = ask(*store, "a", 1000, 3).value();
  CHECK(a.granted);
  CHECK(a.counted == 0);   // a refused set reserves nothing
  CHECK(ask(*other, "a", 5000, 3).value().granted);   // a's later batches pass without reserving again
  auto b = ask(*other, "b", 6000, 3).value();
  CHECK_FALSE(b.granted);
  CHECK(b.counted == 3);
  CHECK(ask(*other, "c", 6000, 2).value().granted);   // exactly max
  // Sliding: once a's decision has left the window its 3 places are free; c's 2 still count.
  CHECK(ask(*store, "d", 1000 + k_per + 1, 3).value().granted);
  CHECK_FALSE(ask(*store, "e", 1000 + k_per + 1, 1).value().granted);
  // A refusal stands after the window too: b's events that fall due later are held as well.
  auto b_later = ask(*store, "b", 6000 + k_per + 1, 2).value();
  CHECK_FALSE(b_later.granted);
  CHECK(b_later.decided_before);
  // A granted set that asks for more than it reserved: the difference must fit (c has left the window).
  CHECK(ask(*store, "d", 6000 + k_per + 2, 4).value().granted);
  CHECK_FALSE(ask(*store, "f", 6000 + k_per + 2, 2).value().granted);   // 4 + 2 > 5
  // A lower max refuses what a grant has not run yet (the emergency brake), and the refusal stands.
  CHECK_FALSE(store->reserve_guard(GuardRequest{"d", 6000 + k_per + 3, k_per, 1, 3}).value().granted);
  CHECK_FALSE(ask(*store, "d", 6000 + k_per + 4, 1).value().granted);
  // Approved changes are reserved, never refused, and count against the next set.
  const long long t2 = 10 * k_per;
  GuardRequest approved{"approved:x", t2, k_per, 6, 5};
  approved.approved = true;
  CHECK(store->reserve_guard(approved).value().granted);
  CHECK_FALSE(ask(*other, "g", t2 + 1, 1).value().granted);
  // A set whose changes fall due late in the window reserves from then: it still counts a window later.
  const long long t3 = 20 * k_per;
  GuardRequest late{"late", t3, k_per, 1, 5};
  late.last_due_ms = t3 + k_per / 2;
  CHECK(store->reserve_guard(late).value().granted);
  auto next = ask(*other, "h", t3 + k_per + k_per / 4, 5).value();
  CHECK_FALSE(next.granted);
  CHECK(next.counted == 1);
  // Out of range: nothing is read or written.
  CHECK_FALSE(store->reserve_guard(GuardRequest{"x", 1000, k_per, -1, 5}));
  CHECK_FALSE(store->reserve_guard(GuardRequest{"x", 1000, k_per, 1, -1}));
  CHECK_FALSE(store->reserve_guard(GuardRequest{"", 1000, k_per, 1, 5}));
  CHECK_FALSE(store->reserve_guard(GuardRequest{"x", 1000, 0, 1, 5}));
  CHECK_FALSE(store->reserve_guard(GuardRequest{std::string(9000, 'x'), 1000, k_per, 1, 5}));
}

TEST_CASE_TEMPLATE("store contract: reserve_guard never lets the window pass max under concurrent callers" * doctest::test_suite("threads"), F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  H2R_SKIP_UNLESS(F::daemons, "the guard's shared budget");
  TempDir dir;
  auto store = F::open(dir);
  auto other = F::open(dir);
  constexpr int k_max = 25;
  std::atomic<int> granted{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        GuardRequest request{"set-" + std::to_string(t) + "-" + std::to_string(i), 9000 + i, 3'600'000, 1, k_max};
        auto ok = (t % 2 == 0 ? *store : *other).reserve_guard(request);
        if (!ok) ++errors;
        else if (ok->granted) ++granted;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(granted == k_max);
}
