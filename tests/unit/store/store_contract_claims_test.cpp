// The Store contract, part 3: claims and fencing. An event is claimed before any Zoom call; only the
// holder of the claim may record its outcome or hold it, and an operator's transition wins over a
// claim in flight. Runs once per implementation in H2R_STORE_IMPLEMENTATIONS.
#include "store_test_util.hpp"

#include "engine/date_order.hpp"

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

std::vector<std::string> ids_of(const std::vector<EventRow>& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.event_id);
  return ids;
}

using Ids = std::vector<std::string>;

} // namespace

TEST_CASE_TEMPLATE("store contract: a claim carries owner, token and lease, and release gives it back", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 1, 1)}, 1));
  auto claimed = claim_all(*store, "host:1:aa", 100, 10, 500);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].claim_owner == "host:1:aa");
  CHECK(claimed[0].claim_token.size() >= 16);
  CHECK(claimed[0].claimed_at_ms == 100);
  CHECK(claimed[0].lease_until_ms == 600);
  auto stored = event_of(*store, "a");
  CHECK(stored.claim_token == claimed[0].claim_token);
  CHECK(stored.claim_owner == "host:1:aa");
  CHECK(store->due_events(100, 10).value().empty());   // claimed: not due for anyone else

  auto wrong = store->release_claim(claimed[0].id, "not-the-token");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().kind == ErrorKind::conflict);
  REQUIRE(store->release_claim(claimed[0].id, claimed[0].claim_token));
  CHECK(event_of(*store, "a").claim_token.empty());
  CHECK(event_of(*store, "a").state == EventState::pending);
  auto again = claim_all(*store, "host:2:bb", 100);
  REQUIRE(again.size() == 1);
  CHECK(again[0].claim_token != claimed[0].claim_token);

  auto bad = store->claim_due_events(ClaimRequest{"", 100, 10, 500});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == ErrorKind::invalid);
}

TEST_CASE_TEMPLATE("store contract: a stale outcome is refused and writes nothing", F, H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 1, 1)}, 1));
  auto first = claim_all(*store, "daemon-1", 100, 10, 1000);
  REQUIRE(first.size() == 1);
  CHECK(claim_all(*store, "daemon-2", 1099).empty());    // lease still running
  auto second = claim_all(*store, "daemon-2", 1100);     // lease over: daemon-2 takes it over
  REQUIRE(second.size() == 1);

  EventOutcome stale;
  stale.id = first[0].id;
  stale.claim_token = first[0].claim_token;
  stale.state = EventState::done;
  stale.attempts = 1;
  stale.employee = EmployeeRow{"E1", {{"email", "stale@example.com"}}, HrStatus::active, 5};
  auto refused = store->record_outcome(stale, 1200);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(refused.error().message.find("lost claim") != std::string::npos);
  auto row = event_of(*store, "a");
  CHECK(row.state == EventState::pending);
  CHECK(row.attempts == 0);
  CHECK(row.claim_owner == "daemon-2");
  CHECK_FALSE(store->get_employee("E1").value().has_value());
  auto stale_hold = store->hold_event(first[0].id, first[0].claim_token, "x", 1200);
  REQUIRE_FALSE(stale_hold);
  CHECK(stale_hold.error().kind == ErrorKind::conflict);

  EventOutcome fresh = stale;
  fresh.claim_token = second[0].claim_token;
  REQUIRE(store->record_outcome(fresh, 1300));
  row = event_of(*store, "a");
  CHECK(row.state == EventState::done);
  CHECK(row.claim_token.empty());
  // The same outcome a second time: the claim ended with the first.
  auto twice = store->record_outcome(fresh, 1400);
  REQUIRE_FALSE(twice);
  CHECK(twice.error().kind == ErrorKind::conflict);
}

TEST_CASE_TEMPLATE("store contract: an operator's reject during a claim wins over the outcome in flight", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 1, 1), make_event("b", "E2", 1, 1)}, 1));
  auto claimed = claim_all(*store, "daemon", 100);
  REQUIRE(claimed.size() == 2);
  REQUIRE(store->reject_event(claimed[0].id, "rejected by an admin", 150));
  auto row = event_of(*store, "a");
  CHECK(row.state == EventState::rejected);
  CHECK(row.claim_token.empty());
  CHECK(row.claim_owner.empty());

  // The in-flight outcome (a retry, which would run the rejected event again) is refused.
  EventOutcome retry;
  retry.id = claimed[0].id;
  retry.claim_token = claimed[0].claim_token;
  retry.state = EventState::pending;
  retry.attempts = 1;
  retry.next_attempt_at_ms = 200;
  auto refused = store->record_outcome(retry, 160);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(refused.error().message.find("rejected") != std::string::npos);
  row = event_of(*store, "a");
  CHECK(row.state == EventState::rejected);
  CHECK(row.attempts == 0);
  CHECK(row.reason == "rejected by an admin");
  CHECK(claim_all(*store, "daemon", 500).empty());   // a is never due again; b's lease still runs

  // A hold (supervision, guard) is fenced the same way.
  REQUIRE(store->reject_event(claimed[1].id, "no", 170));
  auto hold = store->hold_event(claimed[1].id, claimed[1].claim_token, "supervised", 180);
  REQUIRE_FALSE(hold);
  CHECK(hold.error().kind == ErrorKind::conflict);
  CHECK(event_of(*store, "b").state == EventState::rejected);
}

TEST_CASE_TEMPLATE("store contract: claims of two claimers are disjoint, also when they race", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  std::vector<NewEvent> events;
  constexpr int k_events = 60;
  for (int i = 0; i < k_events; ++i) events.push_back(make_event("e" + std::to_string(i), "E" + std::to_string(i), 1, 1));
  REQUIRE(store->ingest("f", events, 1));
  auto a = claim_all(*store, "a", 100, 20);
  auto b = claim_all(*store, "b", 100, 1000);
  CHECK(a.size() == 20);
  CHECK(b.size() == k_events - 20);
  std::set<std::string> seen;
  for (const auto& e : a) seen.insert(e.event_id);
  for (const auto& e : b) seen.insert(e.event_id);
  CHECK(seen.size() == static_cast<std::size_t>(k_events));
  CHECK(claim_all(*store, "c", 100).empty());
  REQUIRE(store->release_claims("a").value() == 20);
  REQUIRE(store->release_claims("").value() == k_events - 20);

  // Two handles on one database (as two processes would have), claiming in small bites at once.
  auto other = F::open(dir);
  std::vector<std::string> got[2];
  bool errors[2] = {false, false};
  auto claimer = [&](int who) {
    Store& s = who == 0 ? *store : *other;
    for (;;) {
      auto bite = s.claim_due_events(ClaimRequest{"racer-" + std::to_string(who), 200, 3, 60'000});
      if (!bite) {
        errors[who] = true;
        return;
      }
      if (bite->empty()) return;
      for (const auto& e : *bite) got[who].push_back(e.event_id);
    }
  };
  std::thread t0(claimer, 0), t1(claimer, 1);
  t0.join();
  t1.join();
  CHECK_FALSE(errors[0]);
  CHECK_FALSE(errors[1]);
  std::set<std::string> all(got[0].begin(), got[0].end());
  for (const auto& id : got[1]) CHECK_MESSAGE(all.insert(id).second, "claimed twice: " << id);
  CHECK(all.size() == static_cast<std::size_t>(k_events));
}

TEST_CASE_TEMPLATE("store contract: an employee's later event is not claimed while an earlier one is claimed", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("first", "E1", 10, 10), make_event("later", "E1", 20, 20),
                              make_event("other", "E2", 10, 10)},
                        1));
  auto claimed = claim_all(*store, "daemon", 100, 1000, 1000);
  CHECK(ids_of(claimed) == Ids{"first", "other"});
  CHECK(claim_all(*store, "daemon-2", 500).empty());    // "later" waits behind the claimed "first"
  auto taken_over = claim_all(*store, "daemon-2", 1100); // lease over: "first" again, never "later"
  CHECK(ids_of(taken_over) == Ids{"first", "other"});
  EventOutcome done;
  done.id = taken_over[0].id;
  done.claim_token = taken_over[0].claim_token;
  done.state = EventState::done;
  REQUIRE(store->record_outcome(done, 1200));
  CHECK(ids_of(claim_all(*store, "daemon-2", 1200)) == Ids{"later"});
}

TEST_CASE_TEMPLATE("store contract: record_outcomes writes a batch and leaves out only the refused outcomes", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 1, 1), make_event("b", "E2", 1, 1), make_event("c", "E3", 1, 1)}, 1));
  auto claimed = claim_all(*store, "daemon", 100);
  REQUIRE(claimed.size() == 3);
  REQUIRE(store->reject_event(claimed[1].id, "rejected by an admin", 150));   // b's claim is lost
  std::vector<EventOutcome> outcomes(3);
  for (std::size_t i = 0; i < 3; ++i) {
    outcomes[i].id = claimed[i].id;
    outcomes[i].claim_token = claimed[i].claim_token;
    outcomes[i].state = EventState::done;
    outcomes[i].attempts = 1;
    outcomes[i].result = "{\"n\":" + std::to_string(i) + "}";
    outcomes[i].employee = EmployeeRow{claimed[i].employee_id, {{"email", claimed[i].event_id + "@example.com"}},
                                       HrStatus::active, 5};
  }
  auto results = store->record_outcomes({&outcomes[0], &outcomes[1], &outcomes[2]}, 200);
  REQUIRE(results.size() == 3);
  CHECK(results[0]);
  REQUIRE_FALSE(results[1]);
  CHECK(results[1].error().kind == ErrorKind::conflict);
  CHECK(results[1].error().message.find("lost claim") != std::string::npos);
  CHECK(results[2]);
  CHECK(event_of(*store, "a").state == EventState::done);
  CHECK(event_of(*store, "a").result == "{\"n\":0}");
  CHECK(event_of(*store, "b").state == EventState::rejected);   // the operator's decision stands
  CHECK(event_of(*store, "c").state == EventState::done);
  CHECK(store->get_employee(claimed[0].employee_id).value().has_value());
  CHECK_FALSE(store->get_employee(claimed[1].employee_id).value().has_value());   // nothing of b written
  CHECK(store->get_employee(claimed[2].employee_id).value().has_value());
  auto history = store->event_history(claimed[2].id);
  REQUIRE(history);
  REQUIRE_FALSE(history->empty());
  CHECK(history->back().to == EventState::done);
  // The same batch again: every claim ended with the first.
  auto again = store->record_outcomes({&outcomes[0], &outcomes[2]}, 300);
  REQUIRE(again.size() == 2);
  CHECK_FALSE(again[0]);
  CHECK_FALSE(again[1]);
  CHECK(store->record_outcomes({}, 400).empty());
}

TEST_CASE_TEMPLATE("store contract: an outcome refused after its first write leaves nothing of itself in a batch", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 1, 1), make_event("b", "E2", 1, 1), make_event("c", "E3", 1, 1)}, 1));
  auto claimed = claim_all(*store, "daemon", 100);
  REQUIRE(claimed.size() == 3);
  std::vector<EventOutcome> outcomes(3);
  for (std::size_t i = 0; i < 3; ++i) {
    outcomes[i].id = claimed[i].id;
    outcomes[i].claim_token = claimed[i].claim_token;
    outcomes[i].state = EventState::done;
    outcomes[i].attempts = 1;
    outcomes[i].result = "{\"n\":" + std::to_string(i) + "}";
    outcomes[i].employee = EmployeeRow{claimed[i].employee_id, {{"email", claimed[i].event_id + "@example.com"}},
                                       HrStatus::active, 5};
  }
  // b's link names a connection that does not exist: refused by the store after b's event row, history
  // and employee were written in the batch's transaction.
  LinkRow link;
  link.connection = "no-such-connection";
  link.employee_id = claimed[1].employee_id;
  link.zoom_user_id = "z-b";
  link.user_name = "b@example.com";
  outcomes[1].links_upsert.push_back(link);
  auto results = store->record_outcomes({&outcomes[0], &outcomes[1], &outcomes[2]}, 200);
  REQUIRE(results.size() == 3);
  CHECK(results[0]);
  REQUIRE_FALSE(results[1]);
  CHECK(results[1].error().kind == ErrorKind::not_found);
  CHECK(results[2]);
  CHECK(event_of(*store, "a").state == EventState::done);
  CHECK(event_of(*store, "c").state == EventState::done);
  const EventRow b = event_of(*store, "b");
  CHECK(b.state == EventState::pending);              // nothing of b's outcome is kept
  CHECK(b.claim_token == claimed[1].claim_token);     // its claim still holds
  CHECK(b.result.empty());
  CHECK_FALSE(store->get_employee(claimed[1].employee_id).value().has_value());
  CHECK(store->get_employee(claimed[0].employee_id).value().has_value());
  CHECK(store->get_employee(claimed[2].employee_id).value().has_value());
  auto history = store->event_history(claimed[1].id);
  REQUIRE(history);
  for (const auto& h : *history) CHECK(h.to != EventState::done);
}

TEST_CASE_TEMPLATE("store contract: claim_holds is true only for the claim's own token while the event is open", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  // The proof the engine asks for before each changing SCIM call (lib/zoom/call_fence.hpp).
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 1, 1), make_event("b", "E2", 1, 1)}, 1));
  auto claimed = claim_all(*store, "host:1:aa", 100, 10, 500);
  REQUIRE(claimed.size() == 2);
  const EventRow a = claimed[0].event_id == "a" ? claimed[0] : claimed[1];
  const EventRow b = claimed[0].event_id == "a" ? claimed[1] : claimed[0];
  CHECK(store->claim_holds(a.id, a.claim_token).value());
  CHECK_FALSE(store->claim_holds(a.id, b.claim_token).value());   // another event's token
  CHECK_FALSE(store->claim_holds(a.id, "").value());
  CHECK_FALSE(store->claim_holds(999'999, a.claim_token).value());   // no such event
  // An operator's reject wins: the claim no longer holds.
  REQUIRE(store->reject_event(a.id, "wrong export", 200));
  CHECK_FALSE(store->claim_holds(a.id, a.claim_token).value());
  // A claim given back, then taken again by another daemon: the old token no longer holds, the new one does.
  REQUIRE(store->release_claim(b.id, b.claim_token));
  CHECK_FALSE(store->claim_holds(b.id, b.claim_token).value());
  auto again = claim_all(*store, "host:2:bb", 300);
  REQUIRE(again.size() == 1);
  CHECK(store->claim_holds(b.id, again[0].claim_token).value());
  CHECK_FALSE(store->claim_holds(b.id, b.claim_token).value());
}

TEST_CASE_TEMPLATE("store contract: superseded is a final state, and a late event finds the ended later-dated events", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f1", {make_event("a", "E1", 10, 10), make_event("b", "E1", 20, 20), make_event("c", "E1", 30, 30),
                               make_event("x", "E2", 40, 40)},
                        1));
  const auto end = [&](const std::string& event_id, EventState state) {
    EventOutcome outcome;
    outcome.id = event_of(*store, event_id).id;
    outcome.claim_token = claim(*store, event_id);
    outcome.state = state;
    REQUIRE(store->record_outcome(outcome, 100));
  };
  end("a", EventState::done);
  end("b", EventState::superseded);
  REQUIRE(store->reject_event(event_of(*store, "c").id, "rejected by an admin", 150));
  end("x", EventState::done);
  CHECK(event_of(*store, "b").state == EventState::superseded);
  auto retried = store->retry_event(event_of(*store, "b").id, 160);   // only failed ones retry
  CHECK((!retried || *retried == 0));
  auto counts = store->count_events_by_state();
  REQUIRE(counts);
  CHECK((*counts)[EventState::superseded] == 1);
  EventFilter filter;
  filter.state = EventState::superseded;
  CHECK(ids_of(store->list_events(filter).value()) == Ids{"b"});

  // An event dated before a and b arrives late: it is folded under a and b (ended), never c (rejected)
  // nor another employee's.
  REQUIRE(store->ingest("f2", {make_event("late", "E1", 5, 5), make_event("tie", "E1", 20, 20)}, 2));
  CHECK(ids_of(later_final_events(*store, event_of(*store, "late")).value()) == Ids{"a", "b"});
  // Same date as b, arrived after it: b comes first, so nothing ended comes after "tie".
  CHECK(later_final_events(*store, event_of(*store, "tie")).value().empty());
}

TEST_CASE_TEMPLATE("store contract: note_event adds a history row that changes no state", F, H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("f", {make_event("a", "E1", 10, 10)}, 1));
  const EventRow a = event_of(*store, "a");
  REQUIRE(store->reject_event(a.id, "rejected by an admin", 20));
  REQUIRE(store->note_event(a.id, std::string(k_sent_before_decision) + "PATCH /Users/u1 (deactivate)", 30));
  auto history = store->event_history(a.id);
  REQUIRE(history);
  REQUIRE(history->size() == 3);   // arrived, rejected, the note
  CHECK(history->back().from == EventState::rejected);
  CHECK(history->back().to == EventState::rejected);
  CHECK(history->back().at_ms == 30);
  CHECK(history->back().reason == std::string(k_sent_before_decision) + "PATCH /Users/u1 (deactivate)");
  CHECK(event_of(*store, "a").state == EventState::rejected);
  auto missing = store->note_event(a.id + 1000, "x", 40);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::not_found);
}
