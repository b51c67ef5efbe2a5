// Issue 12, item 1: one `h2rd run` per database. A second daemon (or `run --once`) on the same
// database exits 1 naming the pid that holds the lock, while one-shot commands keep working; every
// hire is processed once (no "linked" outcomes, one create per hire at Zoom).
#include "e2e/resilience_helpers.hpp"
#include "support/test_paths.hpp"
#include "support/file_text.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

} // namespace

TEST_CASE("e2e single instance: a second h2rd run on one database exits 1 naming the pid, hires run once") {
  H2rEnvOptions options;
  options.sim_args = {"--latency-ms", "5"};
  options.rate_limit = "40";   // 80 calls paced: the first daemon is still busy when the second starts
  H2rEnv env(options);
  constexpr int k_hires = 40;
  env.drop("hires.json", hires_json(k_hires));

  auto first = start_daemon(env);
  const std::string pid = std::to_string(first->pid());
  const std::string lock_file = env.database() + ".lock";
  REQUIRE(eventually([&] { return file_text(lock_file).find(pid) == 0; }, 60s, 50ms));

  auto second = start_daemon(env);
  auto code = second->wait(60s);
  INFO(second->err());
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK(second->err().find("pid " + pid) != std::string::npos);
  CHECK(second->err().find(lock_file) != std::string::npos);

  auto once = env.run_once();
  CHECK(once.exit_code == 1);
  CHECK(once.err.find("pid " + pid) != std::string::npos);
  CHECK(env.h2rd({"events", "list"}).exit_code == 0);   // one-shot commands stay usable

  // All 40, not "nothing open": before the file is taken there is nothing open either.
  const bool finished =
      eventually([&] { return env.events().size() == static_cast<std::size_t>(k_hires) && all_final(env); }, 180s, 500ms);
  first->send_signal(SIGTERM);
  CHECK(first->wait(60s) == 0);
  INFO(first->err().substr(first->err().size() > 4000 ? first->err().size() - 4000 : 0));
  REQUIRE(finished);

  auto events = env.events();
  CHECK(count_state(events, "done") == k_hires);
  CHECK(first->err().find("action=linked") == std::string::npos);   // the daemon's event.action lines
  CHECK(env.sim().stats()["requests"].value("POST /Users", 0) == k_hires);   // no second create, no 409
  check_each_hire_once(env, k_hires);

  // The lock ends with its holder: the next run starts.
  CHECK(env.run_once().exit_code == 0);
}

// Issue 25 item 5: the lock is taken on the resolved database path. A config that names a symlink to
// the same SQLite file is the same database: its `run --once` is refused too.
TEST_CASE("e2e single instance: a database reached through a symlink is locked by the same lock") {
  H2rEnv env;
  REQUIRE(env.run_once().exit_code == 0);   // the database file exists
  std::filesystem::create_symlink(env.database(), env.dir().path() / "alias.db");
  std::string text = file_text(env.config_path());
  const std::string plain = "database: state/h2r.db";
  REQUIRE(text.find(plain) != std::string::npos);
  text.replace(text.find(plain), plain.size(), "database: alias.db");
  const std::string alias_config = env.dir().write("h2rd-alias.yaml", text).string();

  auto first = start_daemon(env);
  const std::string pid = std::to_string(first->pid());
  REQUIRE(eventually([&] { return file_text(env.database() + ".lock").find(pid) == 0; }, 60s, 50ms));

  ChildProcess second({h2rd_path(), "-c", alias_config, "run", "--once"});
  auto code = second.wait(60s);
  INFO(second.err());
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK(second.err().find("pid " + pid) != std::string::npos);
  first->send_signal(SIGTERM);
  CHECK(first->wait(60s) == 0);
}
