// Issue 14 on SQLite: a running `h2rd run` records itself in the daemons table (heartbeat, leader
// lease) and `h2rd status` lists it as the one live daemon and leader; a clean stop removes it. Real
// daemon process, real SQLite, zoom-sim over HTTP.
#include "support/eventually.hpp"
#include "support/h2r_env.hpp"

#include <doctest/doctest.h>

#include <csignal>

using namespace h2r::test;
using namespace std::chrono_literals;

TEST_CASE("e2e daemons: status lists the running daemon as the leader, and a clean stop removes it" * doctest::test_suite("threads")) {
  H2rEnv env;
  ChildProcess daemon({H2R_H2RD_PATH, "-c", env.config_path(), "run"});
  nlohmann::json status;
  REQUIRE(eventually([&] {
    status = env.h2rd_json({"status"});
    return status["daemon"]["state"] == "running" && status["daemons"].is_array() && status["daemons"].size() == 1;
  }));
  const auto& d = status["daemons"][0];
  CHECK(d["pid"] == daemon.pid());
  CHECK(d["leader"] == true);
  CHECK(d["claims"] == 0);
  CHECK(d["owner"].get<std::string>().find(":" + std::to_string(daemon.pid()) + ":") != std::string::npos);
  CHECK_FALSE(d["version"].get<std::string>().empty());
  CHECK(d["heartbeat_age_s"].get<double>() >= 0);
  auto text = env.h2rd({"status"});
  CHECK(text.out.find("daemons (1 live):") != std::string::npos);
  CHECK(text.out.find("LEADER") != std::string::npos);
  CHECK(daemon.err().find("daemon.joined") != std::string::npos);

  // An event goes through the heartbeat-fenced engine as before.
  env.drop("a.json", event_json("evt-1", "hire", employee("E1", "Ann", "Alpha")));
  REQUIRE(eventually([&] {
    for (const auto& e : env.events())
      if (e["event_id"] == "evt-1" && e["state"] == "done") return true;
    return false;
  }));

  CHECK(daemon.stop() == 0);
  status = env.h2rd_json({"status"});
  CHECK(status["daemons"].is_array());
  CHECK(status["daemons"].empty());
}
