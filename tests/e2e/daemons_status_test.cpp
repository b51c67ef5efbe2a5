// Issue 14 on SQLite: a running `h2rd run` records itself in the daemons table (heartbeat, leader
// lease) and `h2rd status` lists it as the one live daemon and leader; a clean stop removes it.
// Issue 26: a daemon killed with SIGKILL is listed as gone with the claims it still holds (SQLite and
// PostgreSQL), and on PostgreSQL `status` says the daemons run while any of them heartbeats. Real
// daemon processes, real databases, zoom-sim over HTTP.
#include "support/eventually.hpp"
#include "support/h2r_env.hpp"
#include "support/scratch_pg.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>

using namespace h2r::test;
using namespace std::chrono_literals;

TEST_CASE("e2e daemons: status lists the running daemon as the leader, and a clean stop removes it" * doctest::test_suite("threads")) {
  H2rEnv env;
  ChildProcess daemon({h2rd_path(), "-c", env.config_path(), "run"});
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

namespace {

// The row of the daemon whose owner names `pid` ("host:pid:random"), or null.
nlohmann::json daemon_of(const nlohmann::json& status, long long pid) {
  if (!status.contains("daemons") || !status["daemons"].is_array()) return nullptr;
  for (const auto& d : status["daemons"])
    if (d["owner"].get<std::string>().find(":" + std::to_string(pid) + ":") != std::string::npos) return d;
  return nullptr;
}

std::string hires(int n) {
  std::string out = "[";
  for (int i = 1; i <= n; ++i)
    out += (i > 1 ? "," : "") + event_json("evt-" + std::to_string(i), "hire",
                                           employee("E" + std::to_string(i), "P" + std::to_string(i), "Res"));
  return out + "]";
}

bool has_attention(const nlohmann::json& status, const std::string& kind, const std::string& owner) {
  if (!status.contains("attention")) return false;
  for (const auto& a : status["attention"])
    if (a["kind"] == kind && a.value("owner", "") == owner) return true;
  return false;
}

} // namespace

TEST_CASE("e2e daemons: a daemon killed with SIGKILL is listed as gone with the claims it still holds" * doctest::test_suite("threads")) {
  H2rEnvOptions options;
  options.sim_args = {"--latency-ms", "3000"};   // every Zoom answer takes 3 s: the daemon holds its claim
  H2rEnv env(options);
  ChildProcess daemon({h2rd_path(), "-c", env.config_path(), "run"});
  REQUIRE(eventually([&] {
    auto d = daemon_of(env.h2rd_json({"status"}), daemon.pid());
    return d.is_object() && d["state"] == "live";
  }));
  env.drop("a.json", event_json("evt-1", "hire", employee("E1", "Ann", "Alpha")));
  REQUIRE_MESSAGE(eventually([&] {
    auto d = daemon_of(env.h2rd_json({"status"}), daemon.pid());
    return d.is_object() && d["claims"] == 1;
  }), daemon.err());
  daemon.send_signal(SIGKILL);
  REQUIRE(daemon.wait(10s).has_value());

  const auto status = env.h2rd_json({"status"});
  const auto d = daemon_of(status, daemon.pid());
  REQUIRE_MESSAGE(d.is_object(), status.dump());
  CHECK(d["state"] == "gone");   // its pid runs no more on this host: gone at once, not live for a minute
  CHECK(d["claims"] == 1);
  CHECK(d["claims_until"].is_string());
  CHECK(status["daemon"]["state"] == "stopped");
  CHECK(status["daemon"]["live"] == 0);
  CHECK(status["daemon"]["gone"] == 1);
  CHECK(has_attention(status, "daemon_gone", d["owner"].get<std::string>()));
  const auto text = env.h2rd({"status"}).out;
  CHECK(text.find("daemon: not running") != std::string::npos);
  CHECK(text.find("daemons (0 live of 1):") != std::string::npos);
  CHECK(text.find(": GONE, host ") != std::string::npos);
  CHECK(text.find("claims 1 (held until ") != std::string::npos);
  CHECK(text.find("is gone (last heartbeat ") != std::string::npos);
}

TEST_CASE("pg daemons: status with two daemons, one killed with SIGKILL: one live, one gone with its claims, and the daemons run" * doctest::test_suite("threads")) {
  if (!pg_server_named()) {
    MESSAGE("SKIPPED (store): no PostgreSQL server (PGHOST unset); scripts/test runs this inside pg_virtualenv");
    return;
  }
  ScratchDatabase db;
  TempDir dir;
  // Each Zoom answer takes 3 s: b still holds claims when it is killed just after status saw them (a
  // ThreadSanitizer `h2rd status` alone can take a second).
  SimProcess sim({"--latency-ms", "3000"});
  dir.write("rules.yaml", k_spec_rules);
  std::vector<std::string> configs;
  for (const char* name : {"a", "b"}) {
    dir.write(std::string(name) + "/inbox/.keep", "");
    configs.push_back(dir.write(std::string(name) + "/h2rd.yaml", pg_daemon_config(db.url())).string());
  }
  auto h2rd = [&](const std::vector<std::string>& args, std::string_view input = {}) {
    std::vector<std::string> argv = {h2rd_path(), "-c", configs[0]};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, input, {}, 120s);
  };
  auto status = [&] {
    auto j = nlohmann::json::parse(h2rd({"status", "--json"}).out, nullptr, false);
    return j.is_object() ? j : nlohmann::json::object();
  };
  auto added = h2rd({"connection", "add", "zoom-main", "--account-id", sim.account_id(), "--client-id",
                     sim.client_id(), "--client-secret-stdin", "--oauth-url", sim.oauth_url(), "--api-url",
                     sim.api_url(), "--rate-limit", "1000"},
                    sim.secret().reveal() + "\n");
  REQUIRE_MESSAGE(added.exit_code == 0, added.err);
  ChildProcess a({h2rd_path(), "-c", configs[0], "run"});
  REQUIRE_MESSAGE(eventually([&] { return daemon_of(status(), a.pid()).is_object(); }), a.err());
  // b starts second: the daemon pid recorded in the database is b's, the one killed below.
  ChildProcess b({h2rd_path(), "-c", configs[1], "run"});
  REQUIRE_MESSAGE(eventually([&] {
    auto s = status();
    return s.contains("daemon") && s["daemon"]["pid"] == b.pid() && daemon_of(s, b.pid()).is_object() &&
           daemon_of(s, b.pid())["state"] == "live" && daemon_of(s, a.pid())["state"] == "live";
  }), b.err());
  dir.write("b/inbox/hires.json.tmp", hires(12));
  std::filesystem::rename(dir.path() / "b/inbox/hires.json.tmp", dir.path() / "b/inbox/hires.json");
  REQUIRE_MESSAGE(eventually([&] {
    auto d = daemon_of(status(), b.pid());
    return d.is_object() && d["claims"].get<int>() > 0;
  }, 60s), b.err());
  b.send_signal(SIGKILL);
  REQUIRE(b.wait(10s).has_value());

  const auto s = status();
  const auto live = daemon_of(s, a.pid());
  const auto gone = daemon_of(s, b.pid());
  REQUIRE_MESSAGE((live.is_object() && gone.is_object()), s.dump());
  CHECK(live["state"] == "live");
  CHECK(gone["state"] == "gone");
  CHECK(gone["claims"].get<int>() > 0);
  CHECK(gone["claims_until"].is_string());
  CHECK(s["daemon"]["state"] == "running");
  CHECK(s["daemon"]["up"] == true);
  CHECK(s["daemon"]["live"] == 1);
  CHECK(s["daemon"]["gone"] == 1);
  CHECK(has_attention(s, "daemon_gone", gone["owner"].get<std::string>()));
  const auto text = h2rd({"status"}).out;
  CHECK(text.find("daemon: not running") == std::string::npos);
  CHECK(text.find("daemon: running, 1 live and 0 late on the database") != std::string::npos);
  CHECK(text.find("daemons (1 live of 2):") != std::string::npos);
  CHECK(text.find(": GONE, host ") != std::string::npos);

  // Once their lease ran out (scheduler.claim_lease 10s), a takes b's claims over and finishes the file.
  REQUIRE_MESSAGE(eventually([&] {
    auto after = status();
    auto d = daemon_of(after, b.pid());
    return after.contains("queue") && after["queue"]["done"] == 12 && d.is_object() && d["claims"] == 0 &&
           !has_attention(after, "daemon_gone", gone["owner"].get<std::string>());
  }, 120s), a.err());
}
