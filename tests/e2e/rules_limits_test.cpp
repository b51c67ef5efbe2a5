// Issue 11 items 2 and 3: nothing in a rules edit can make h2r hang or eat memory — a pattern that makes
// backtracking engines explode is matched in linear time (RE2), one RE2 cannot compile is refused by
// `check` at its line:col, and a YAML alias bomb is refused by `check` and by the daemon's auto-reload,
// which keeps the rules in force. Real h2rd processes, real inbox, real HTTP. A hang fails by ctest's
// timeout; no test here measures time.
#include "support/h2r_env.hpp"
#include "support/eventually.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <thread>

using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

const char* const k_nickname_rules = R"(version: 1
hr_fields: [nickname]
targets:
  - connection: zoom-main
roles:
  - name: all_a
    when: { field: nickname, matches: '^(a+)+$' }
    zoom: { user_type: Licensed }
  - name: rest
    zoom: { user_type: Basic }
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
)";

std::string seed_file(const std::string& name) {
  std::ifstream in(std::string(source_dir()) + "/tests/fuzz/corpus/fuzz_rules/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json with_nickname(const std::string& id, const std::string& first, const std::string& nickname) {
  auto e = employee(id, first, "Nick");
  e["nickname"] = nickname;
  return e;
}

const nlohmann::json* find_event(const nlohmann::json& events, const std::string& event_id) {
  for (const auto& e : events)
    if (e["event_id"] == event_id) return &e;
  return nullptr;
}

std::string event_state(const H2rEnv& env, const std::string& event_id) {
  const auto events = env.events();
  const auto* e = find_event(events, event_id);
  return e ? (*e)["state"].get<std::string>() : "";
}

} // namespace

TEST_CASE("e2e rules: a backtracking-bomb pattern is matched in linear time by plan and run --once") {
  H2rEnvOptions options;
  options.rules = k_nickname_rules;
  H2rEnv env(options);
  REQUIRE(env.h2rd({"check"}).exit_code == 0);  // RE2 accepts the pattern: it is only slow elsewhere

  const std::string bomb = std::string(50, 'a') + "!";
  const std::string file = "[" + event_json("n-1", "hire", with_nickname("E1", "Bomb", bomb)) + "," +
                           event_json("n-2", "hire", with_nickname("E2", "Plain", std::string(50, 'a'))) + "]";
  const std::string plan_file = env.dir().write("plan/nick.json", file).string();
  auto plan = env.h2rd({"plan", plan_file});
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("userType: - → Basic") != std::string::npos);
  CHECK(plan.out.find("userType: - → Licensed") != std::string::npos);

  env.drop("nick.json", file);
  auto run = env.run_once();
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto events = env.events();
  REQUIRE(find_event(events, "n-1"));
  REQUIRE(find_event(events, "n-2"));
  CHECK((*find_event(events, "n-1"))["state"] == "done");
  CHECK((*find_event(events, "n-2"))["state"] == "done");
  auto bomb_user = env.sim_users_named("bomb.nick@example.com");
  auto plain_user = env.sim_users_named("plain.nick@example.com");
  REQUIRE(bomb_user.size() == 1);
  REQUIRE(plain_user.size() == 1);
  CHECK(bomb_user[0]["userType"] == "Basic");
  CHECK(plain_user[0]["userType"] == "Licensed");
}

TEST_CASE("e2e check: a pattern RE2 cannot compile exits 78 naming its line:col and why") {
  H2rEnvOptions options;
  options.add_connection = false;
  options.rules = "version: 1\n"
                  "targets:\n  - connection: zoom-main\n"
                  "roles:\n"
                  "  - name: a\n    when: { field: nickname, matches: '(a)\\1' }\n"           // line 6
                  "  - name: b\n    when: { field: nickname, matches: '(?<=x)y' }\n"          // line 8
                  "attributes:\n  userName: \"{email}\"\n";
  H2rEnv env(options);
  auto r = env.h2rd({"check"});
  INFO(r.err);
  CHECK(r.exit_code == 78);
  const std::string rules = env.rules_path();
  CHECK(r.err.find(rules + ":6:39: roles[0].when.matches: invalid regular expression '(a)\\1': invalid escape "
                           "sequence: \\1") != std::string::npos);
  CHECK(r.err.find(rules + ":8:39: roles[1].when.matches: invalid regular expression '(?<=x)y'") != std::string::npos);
  CHECK(r.err.find("RE2 syntax, which has no backreferences") != std::string::npos);
  CHECK(env.h2rd({"run", "--once"}).exit_code == 78);
}

TEST_CASE("e2e check: a YAML alias bomb in rules or config is refused at its line:col") {
  H2rEnvOptions options;
  options.add_connection = false;
  options.rules = seed_file("alias_bomb.yaml");  // 1 KB; 10^9 conditions once expanded
  H2rEnv env(options);
  auto r = env.h2rd({"check"});
  INFO(r.err);
  CHECK(r.exit_code == 78);
  CHECK(r.err.find(env.rules_path() + ":16:23: alias *c4 repeats 53333 nodes") != std::string::npos);
  CHECK(r.err.find("alias *c4 repeats") != std::string::npos);
  CHECK(r.err.find("larger than 100000 nodes once aliases are expanded") != std::string::npos);
  CHECK(env.h2rd({"run", "--once"}).exit_code == 78);

  // The same bound holds for the config file.
  const std::string config = env.dir().write("bomb-config.yaml", seed_file("alias_bomb_list.yaml")).string();
  auto c = run_process({h2rd_path(), "-c", config, "check"});
  INFO(c.err);
  CHECK(c.exit_code == 78);
  CHECK(c.err.find(config + ":") != std::string::npos);
  CHECK(c.err.find("alias *x") != std::string::npos);
}

TEST_CASE("e2e rules reload: an alias bomb written over rules.yaml is refused and the old rules keep working") {
  H2rEnvOptions options;
  options.rules = k_nickname_rules;
  H2rEnv env(options);
  ChildProcess daemon({h2rd_path(), "-c", env.config_path(), "run"});
  env.drop("a.json", event_json("r-1", "hire", with_nickname("E1", "Ann", "aaa")));
  REQUIRE(eventually([&] { return event_state(env, "r-1") == "done"; }));
  const auto version = env.h2rd_json({"status"})["rules"]["version"].get<std::string>();

  {
    std::ofstream out(env.rules_path(), std::ios::trunc);  // in place, as `cat > rules.yaml` would
    out << seed_file("alias_bomb.yaml");
  }
  REQUIRE(eventually([&] { return env.h2rd_json({"status"})["rules"]["error"].is_string(); }));   // null while none
  auto status = env.h2rd_json({"status"});
  CHECK(status["rules"]["version"] == version);
  CHECK(status["rules"]["error"].get<std::string>().find("alias *c4 repeats") != std::string::npos);

  // The daemon is still working, with the rules in force.
  env.drop("b.json", event_json("r-2", "hire", with_nickname("E2", "Bea", std::string(50, 'a') + "!")));
  REQUIRE(eventually([&] { return event_state(env, "r-2") == "done"; }));
  auto bea = env.sim_users_named("bea.nick@example.com");
  REQUIRE(bea.size() == 1);
  CHECK(bea[0]["userType"] == "Basic");
  CHECK(daemon.err().find("rules.reload_failed") != std::string::npos);
  CHECK(daemon.stop() == 0);
}
