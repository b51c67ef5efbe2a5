// `h2rd status --json` (and the console's status): every live daemon on the database, with its heartbeat
// age, claims and which one leads; stale and removed daemons are not listed.
#include "views/views.hpp"
#include "unit/store/store_test_util.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace h2r::store_test;

TEST_CASE("status: lists the live daemons with heartbeat age, claims and the leader") {
  TempDir dir;
  auto a = SqliteStoreFactory::open(dir);
  auto b = SqliteStoreFactory::open(dir);
  Config config;
  config.inbox = dir.file("inbox");
  config.claim_lease = std::chrono::minutes(2);   // live: a heartbeat within the last minute
  const long long now = 10'000'000;
  REQUIRE(a->ingest("f", {make_event("x", "E1", 1, 1), make_event("y", "E2", 1, 1)}, 1));
  REQUIRE(a->claim_due_events(ClaimRequest{"host-a:1:aa", now, 10, 120'000}));
  REQUIRE(a->heartbeat(DaemonRow{"host-a:1:aa", "host-a", 1, "1.0", now - 5000}, now - 2000, 120'000));
  REQUIRE(b->heartbeat(DaemonRow{"host-b:2:bb", "host-b", 2, "1.1", now - 5000}, now - 1000, 120'000));
  REQUIRE(b->heartbeat(DaemonRow{"host-c:3:cc", "host-c", 3, "1.1", now - 500'000}, now - 61'000, 120'000));
  REQUIRE(a->try_lead("host-a:1:aa", now - 2000, 120'000).value());

  auto status = status_json(*a, config, now);
  REQUIRE(status);
  const auto& daemons = (*status)["daemons"];
  REQUIRE(daemons.is_array());
  REQUIRE(daemons.size() == 2);   // host-c's heartbeat is stale
  CHECK(daemons[0]["owner"] == "host-a:1:aa");
  CHECK(daemons[0]["host"] == "host-a");
  CHECK(daemons[0]["pid"] == 1);
  CHECK(daemons[0]["version"] == "1.0");
  CHECK(daemons[0]["heartbeat_age_s"].get<double>() == doctest::Approx(2.0));
  CHECK(daemons[0]["claims"] == 2);
  CHECK(daemons[0]["leader"] == true);
  CHECK(daemons[1]["owner"] == "host-b:2:bb");
  CHECK(daemons[1]["claims"] == 0);
  CHECK(daemons[1]["leader"] == false);

  REQUIRE(a->remove_daemon("host-a:1:aa"));
  auto after = status_json(*a, config, now);
  REQUIRE(after);
  REQUIRE((*after)["daemons"].size() == 1);
  CHECK((*after)["daemons"][0]["owner"] == "host-b:2:bb");
}
