// Small helpers shared by the lifecycle end-to-end tests (tests/e2e/lifecycle_*.cpp).
#pragma once

#include "support/eventually.hpp"
#include "support/h2r_env.hpp"

#include <doctest/doctest.h>

#include <string>

namespace h2r::test {

inline const std::string k_license_urn = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User";
inline const std::string k_enterprise_urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// The one sim user named `user_name` (fails the test when there is not exactly one).
inline nlohmann::json the_user(H2rEnv& env, const std::string& user_name) {
  auto users = env.sim_users_named(user_name);
  REQUIRE_MESSAGE(users.size() == 1, user_name << ": " << users.size() << " users");
  return users[0];
}

// How many requests zoom-sim counted on `route` ("PUT /Users/{id}").
inline long long sim_count(H2rEnv& env, const std::string& route) {
  return env.sim().stats()["requests"].value(route, 0LL);
}

// Drops one file and runs `h2rd run --once`, which must succeed.
inline void apply(H2rEnv& env, const std::string& name, const std::string& content, int expected_exit = 0) {
  env.drop(name, content);
  auto run = env.run_once();
  INFO(run.err);
  REQUIRE(run.exit_code == expected_exit);
}

// Drops one file into the inbox of a running daemon and waits (up to 60 s) until event `event_id` is
// in `state`; the daemon's stderr explains a timeout.
inline void drop_and_wait(H2rEnv& env, ChildProcess& daemon, const std::string& name, const std::string& content,
                          const std::string& event_id, const std::string& state) {
  env.drop(name, content);
  REQUIRE_MESSAGE(eventually([&] {
                    for (const auto& e : env.events())
                      if (e["event_id"] == event_id) return e["state"] == state;
                    return false;
                  }, std::chrono::seconds(60)),
                  event_id, " did not end ", state, ": ", daemon.err());
}

// The stored event whose HR id is `event_id` (events list --json row).
inline nlohmann::json event_named(H2rEnv& env, const std::string& event_id) {
  for (const auto& e : env.events())
    if (e["event_id"] == event_id) return e;
  FAIL("no event " << event_id);
  return {};
}

inline std::string state_of(H2rEnv& env, const std::string& event_id) {
  return event_named(env, event_id)["state"].get<std::string>();
}

// `events show ID --json` for an HR event id.
inline nlohmann::json shown(H2rEnv& env, const std::string& event_id) {
  return env.h2rd_json({"events", "show", std::to_string(event_named(env, event_id)["id"].get<long long>())});
}

// Rules = the SPEC example with `extra` appended (e.g. a lifecycle: block) and on_no_role replaced.
inline std::string spec_rules_with(const std::string& extra, const std::string& on_no_role = "deprovision") {
  std::string rules = k_spec_rules;
  auto at = rules.find("on_no_role: deprovision");
  rules.replace(at, std::string("on_no_role: deprovision").size(), "on_no_role: " + on_no_role);
  return rules + extra;
}

} // namespace h2r::test
