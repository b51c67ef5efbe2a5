// The Store contract, part 5: chunked ingest (begin_ingest / IngestBatch) and queued resyncs. Runs once
// per implementation in H2R_STORE_IMPLEMENTATIONS.
#include "store_test_util.hpp"

using namespace h2r;
using namespace h2r::store_test;

namespace {

NewEvent at_record(NewEvent e, int record) {
  e.event.record = record;
  return e;
}

NewEvent resync(const std::string& event_id, const std::string& employee_id) {
  return make_event(event_id, employee_id, 10, 10, EventState::pending, EventType::resync);
}

} // namespace

TEST_CASE_TEMPLATE("store contract: a chunked ingest is one transaction, reports repeats and duplicates", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  REQUIRE(store->ingest("before.ndjson", {make_event("old", "E0", 1, 1)}, 1));
  {
    auto batch = store->begin_ingest("inbox/f.ndjson", 5);
    REQUIRE(batch);
    auto first = (*batch)->add({at_record(make_event("a", "E1", 1, 1), 1), at_record(make_event("b", "E2", 1, 1), 2),
                                at_record(make_event("old", "E0", 1, 1), 3)});
    REQUIRE(first);
    CHECK(first->empty());
    auto second = (*batch)->add({at_record(make_event("a", "E1", 2, 2), 4), at_record(make_event("old", "E0", 1, 1), 5),
                                 at_record(make_event("c", "E3", 1, 1, EventState::waiting), 6)});
    REQUIRE(second);
    REQUIRE(second->size() == 2);
    CHECK((*second)[0].index == 0);
    CHECK((*second)[0].first_record == 1);
    CHECK((*second)[1].index == 1);
    CHECK((*second)[1].first_record == 3);
    auto final_state = (*batch)->add({make_event("d", "E4", 1, 1, EventState::done)});
    REQUIRE_FALSE(final_state);
    CHECK(final_state.error().kind == ErrorKind::invalid);
    auto result = (*batch)->commit();
    REQUIRE(result);
    CHECK(result->inserted == 3);
    CHECK(result->duplicate_count == 1);
    CHECK(result->duplicates == std::vector<std::string>{"old"});
  }
  auto c = store->find_event("c");
  REQUIRE((c && c->has_value()));
  CHECK((*c)->state == EventState::waiting);
  CHECK((*c)->source_file == "inbox/f.ndjson");
  CHECK((*c)->received_at_ms == 5);
  auto history = store->event_history((*c)->id);
  REQUIRE((history && history->size() == 1));
  CHECK((*history)[0].reason == "arrived in inbox/f.ndjson");
  CHECK_FALSE((*history)[0].from.has_value());
  CHECK((*history)[0].to == EventState::waiting);

  // Without commit nothing stays, and the store is free again.
  {
    auto batch = store->begin_ingest("g.ndjson", 6);
    REQUIRE(batch);
    REQUIRE((*batch)->add({make_event("z", "E9", 1, 1)}));
  }
  CHECK_FALSE(store->find_event("z").value().has_value());
  auto counts = store->count_events_by_state();
  REQUIRE(counts);
  CHECK((*counts)[EventState::pending] == 3); // old, a, b
  // The later one of a repeated pair in one ingest() call is a duplicate.
  auto again = store->ingest("h.ndjson", {make_event("y", "E8", 1, 1), make_event("y", "E8", 1, 1)}, 7);
  REQUIRE(again);
  CHECK(again->inserted == 1);
  CHECK(again->duplicate_count == 1);
}

TEST_CASE_TEMPLATE("store contract: queue_resyncs skips known event ids and employees with an open resync", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  auto first = store->queue_resyncs("rules:v1", {resync("r1", "E1"), resync("r2", "E2")}, 100);
  REQUIRE(first);
  CHECK(first->inserted == 2);
  CHECK(first->duplicates.empty());
  auto second = store->queue_resyncs("rules:v2", {resync("r3", "E1"), resync("r2", "E9"), resync("r4", "E3")}, 200);
  REQUIRE(second);
  CHECK(second->inserted == 1);
  CHECK(second->duplicates == std::vector<std::string>{"r3", "r2"});
  auto r4 = store->find_event("r4");
  REQUIRE((r4 && r4->has_value()));
  CHECK((*r4)->type == EventType::resync);
  CHECK((*r4)->source_file == "rules:v2");
  auto history = store->event_history((*r4)->id);
  REQUIRE((history && history->size() == 1));
  CHECK((*history)[0].reason == "queued: the rules changed (rules:v2)");

  // Once E1's resync is final, a new one may be queued.
  auto claimed = store->claim_due_events(ClaimRequest{"d", 1000, 10, 1000});
  REQUIRE(claimed);
  for (const auto& row : *claimed) {
    EventOutcome done;
    done.id = row.id;
    done.claim_token = row.claim_token;
    done.state = EventState::done;
    REQUIRE(store->record_outcome(done, 1000));
  }
  CHECK(store->queue_resyncs("rules:v3", {resync("r5", "E1")}, 300).value().inserted == 1);

  auto wrong_type = store->queue_resyncs("rules:v4", {make_event("u", "E5", 1, 1)}, 400);
  REQUIRE_FALSE(wrong_type);
  CHECK(wrong_type.error().kind == ErrorKind::invalid);
  CHECK_FALSE(store->find_event("u").value().has_value());
}
