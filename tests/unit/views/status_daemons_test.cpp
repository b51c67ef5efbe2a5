// `h2rd status --json` (and the console's status): every daemon row on the database, live, late or
// gone (lib/ops/liveness.hpp daemon_row_state), with its heartbeat age, claims and which one leads;
// the "daemon" state follows the store's heartbeats when no daemon runs on this host (issue 26).
#include "views/views.hpp"
#include "ops/liveness.hpp"
#include "store/gone_daemons.hpp"
#include "unit/store/store_test_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace h2r;
using namespace h2r::store_test;

namespace {

Config status_config(TempDir& dir) {
  Config config;
  config.inbox = dir.file("inbox");
  config.claim_lease = std::chrono::minutes(2);   // live: a heartbeat within the last minute; late: within 2
  return config;
}

std::vector<std::string> attention_kinds(const nlohmann::json& status) {
  std::vector<std::string> kinds;
  for (const auto& a : status["attention"]) kinds.push_back(a["kind"].get<std::string>());
  return kinds;
}

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

} // namespace

TEST_CASE("status: lists every daemon as live, late or gone with heartbeat age, claims and the leader") {
  TempDir dir;
  auto a = SqliteStoreFactory::open(dir);
  auto b = SqliteStoreFactory::open(dir);
  const Config config = status_config(dir);
  const long long now = 10'000'000;
  REQUIRE(a->ingest("f", {make_event("x", "E1", 1, 1), make_event("y", "E2", 1, 1), make_event("z", "E3", 1, 1)}, 1));
  REQUIRE(a->claim_due_events(ClaimRequest{"host-a:1:aa", now, 2, 120'000}));
  REQUIRE(a->claim_due_events(ClaimRequest{"host-d:4:dd", now - 200'000, 1, 120'000}));
  REQUIRE(a->heartbeat(DaemonRow{"host-a:1:aa", "host-a", 1, "1.0", now - 5000}, now - 2000, 120'000));
  REQUIRE(b->heartbeat(DaemonRow{"host-b:2:bb", "host-b", 2, "1.1", now - 5000}, now - 1000, 120'000));
  REQUIRE(b->heartbeat(DaemonRow{"host-c:3:cc", "host-c", 3, "1.1", now - 500'000}, now - 61'000, 120'000));
  // host-d was killed 130 s ago holding one claim, whose lease ran out 10 s ago.
  REQUIRE(b->heartbeat(DaemonRow{"host-d:4:dd", "host-d", 4, "1.1", now - 500'000}, now - 130'000, 120'000));
  REQUIRE(a->try_lead("host-a:1:aa", now - 2000, 120'000).value());

  auto status = status_json(*a, config, now);
  REQUIRE(status);
  const auto& daemons = (*status)["daemons"];
  REQUIRE(daemons.is_array());
  REQUIRE(daemons.size() == 4);
  CHECK(daemons[0]["owner"] == "host-a:1:aa");
  CHECK(daemons[0]["state"] == "live");
  CHECK(daemons[0]["host"] == "host-a");
  CHECK(daemons[0]["pid"] == 1);
  CHECK(daemons[0]["version"] == "1.0");
  CHECK(daemons[0]["heartbeat_age_s"].get<double>() == doctest::Approx(2.0));
  CHECK(daemons[0]["claims"] == 2);
  CHECK(daemons[0]["claims_until"] == time_json(now - 2000 + 120'000));
  CHECK(daemons[0]["leader"] == true);
  CHECK(daemons[1]["owner"] == "host-b:2:bb");
  CHECK(daemons[1]["state"] == "live");
  CHECK(daemons[1]["claims"] == 0);
  CHECK(daemons[1]["claims_until"].is_null());
  CHECK(daemons[1]["leader"] == false);
  CHECK(daemons[2]["owner"] == "host-c:3:cc");
  CHECK(daemons[2]["state"] == "late");
  CHECK(daemons[3]["owner"] == "host-d:4:dd");
  CHECK(daemons[3]["state"] == "gone");
  CHECK(daemons[3]["claims"] == 1);
  CHECK(daemons[3]["claims_until"] == time_json(now - 10'000));

  // No daemon pid is recorded on this host: the store's heartbeats say that daemons run.
  const auto& daemon = (*status)["daemon"];
  CHECK(daemon["state"] == "running");
  CHECK(daemon["up"] == true);
  CHECK(daemon["here"] == false);
  CHECK(daemon["live"] == 2);
  CHECK(daemon["late"] == 1);
  CHECK(daemon["gone"] == 1);
  const auto& gone = (*status)["attention"][0];
  CHECK(gone["kind"] == "daemon_gone");
  CHECK(gone["owner"] == "host-d:4:dd");
  CHECK(gone["count"] == 1);
  CHECK(gone["until"] == time_json(now - 10'000));
  CHECK(gone["message"].get<std::string>().find("still holds 1 claimed event, whose lease ran out at") != std::string::npos);

  REQUIRE(a->remove_daemon("host-a:1:aa"));
  auto after = status_json(*a, config, now);
  REQUIRE(after);
  REQUIRE((*after)["daemons"].size() == 3);
  CHECK((*after)["daemons"][0]["owner"] == "host-b:2:bb");
}

TEST_CASE("status: only late daemons make the daemon late, only gone ones make it not running") {
  TempDir dir;
  auto store = SqliteStoreFactory::open(dir);
  const Config config = status_config(dir);
  const long long now = 10'000'000;
  REQUIRE(store->heartbeat(DaemonRow{"far:7:77", "far-away-host", 7, "1.0", now - 100'000}, now - 90'000, 120'000));
  auto late = status_json(*store, config, now);
  REQUIRE(late);
  CHECK((*late)["daemon"]["state"] == "late");
  CHECK((*late)["daemon"]["up"] == true);
  CHECK(has(attention_kinds(*late), "daemon_late"));
  CHECK_FALSE(has(attention_kinds(*late), "daemon_gone"));   // it holds no claim

  auto gone = status_json(*store, config, now + 30'000);
  REQUIRE(gone);
  CHECK((*gone)["daemon"]["state"] == "stopped");
  CHECK((*gone)["daemons"][0]["state"] == "gone");
  CHECK_FALSE(has(attention_kinds(*gone), "daemon_late"));
  CHECK_FALSE(has(attention_kinds(*gone), "daemon_gone"));
}

TEST_CASE("daemon_row_state: live under half the lease, late under the lease, gone after it or when its pid is not running here") {
  DaemonRow row{"h:1:x", "h", 1, "1.0", 0, 100'000};
  auto running = [](long long) { return true; };
  auto dead = [](long long) { return false; };
  CHECK(daemon_row_state(row, 100'000 + 59'999, 120'000, "other", running) == "live");
  CHECK(daemon_row_state(row, 100'000 + 60'000, 120'000, "other", running) == "late");
  CHECK(daemon_row_state(row, 100'000 + 119'999, 120'000, "other", running) == "late");
  CHECK(daemon_row_state(row, 100'000 + 120'000, 120'000, "other", running) == "gone");
  // A row of this host whose pid is not running is gone at once; another host's pid is never probed.
  CHECK(daemon_row_state(row, 100'000, 120'000, "h", dead) == "gone");
  CHECK(daemon_row_state(row, 100'000, 120'000, "h", running) == "live");
  CHECK(daemon_row_state(row, 100'000, 120'000, "other", dead) == "live");
}
