// A daemon's start and the claims in the store: on SQLite (one daemon, the instance lock) every claim
// is a dead process's and is given back; on a shared store other daemons' live claims are left alone.
#include "fakes/faulty_store.hpp"
#include "daemon/daemon.hpp"
#include "unit/store/store_test_util.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace h2r::store_test;

TEST_CASE("daemon start: claims are given back on a single-daemon store, never on a shared one") {
  TempDir dir;
  auto real = SqliteStoreFactory::open(dir);
  test::FaultyStore store(*real);
  REQUIRE(real->ingest("f", {make_event("x", "E1", 1, 1)}, 1));
  REQUIRE(real->claim_due_events(ClaimRequest{"other:1:aa", 100, 10, 60'000}).value().size() == 1);

  store.set_shared(true);
  auto kept = release_claims_at_start(store);
  REQUIRE(kept);
  CHECK(*kept == 0);
  CHECK(store.calls("release_claims") == 0);
  CHECK(real->find_event("x").value()->claim_owner == "other:1:aa");

  store.set_shared(false);
  auto released = release_claims_at_start(store);
  REQUIRE(released);
  CHECK(*released == 1);
  CHECK(real->find_event("x").value()->claim_token.empty());

  store.fail("release_claims");
  auto failed = release_claims_at_start(store);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message.find("cannot release the claims of earlier runs") != std::string::npos);
}
