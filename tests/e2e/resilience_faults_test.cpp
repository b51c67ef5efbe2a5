// Issue 5: each zoom-sim fault mode against the real h2rd (`run --once`): 429s with Zoom's ISO
// Retry-After, a share of 5xx, creates applied but answered 502, latency, a stale link (404), and two
// connections where one is broken.
#include "e2e/resilience_helpers.hpp"

using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_fast_retry = "retry: { base: 50ms, max: 500ms }\n";

H2rEnvOptions with_sim(std::vector<std::string> sim_args, std::string rate_limit = "1000") {
  H2rEnvOptions options;
  options.sim_args = std::move(sim_args);
  options.extra_config = k_fast_retry;
  options.rate_limit = std::move(rate_limit);
  return options;
}

void run_until_final(H2rEnv& env) {
  auto run = env.h2rd({"run", "--once"}, {}, 240'000ms);
  INFO(run.err.substr(run.err.size() > 4000 ? run.err.size() - 4000 : 0));
  CHECK(run.exit_code == 0);
  auto events = env.events();
  CHECK(count_state(events, "done") == static_cast<int>(events.size()));
}

} // namespace

TEST_CASE("e2e resilience: 429s with Zoom's ISO Retry-After are waited out, every hire once") {
  H2rEnv env(with_sim({"--rate-limit", "3", "--retry-after-format", "iso"}));
  env.drop("hires.json", hires_json(15));
  run_until_final(env);
  check_each_hire_once(env, 15);
  CHECK(env.sim().stats()["rate_limited"].get<long long>() > 0);   // the fault was exercised
}

TEST_CASE("e2e resilience: a share of 5xx answers is retried with backoff, every hire once" * doctest::test_suite("threads")) {
  H2rEnv env(with_sim({"--fail-rate", "0.2", "--seed", "11"}));
  env.drop("hires.json", hires_json(30));
  run_until_final(env);
  check_each_hire_once(env, 30);
  auto status = env.sim().stats()["status"];
  CHECK(status.value("500", 0) + status.value("502", 0) + status.value("503", 0) > 0);
}

TEST_CASE("e2e resilience: creates applied but answered 502 never give a second user") {
  H2rEnv env(with_sim({"--lost-create-rate", "0.3", "--seed", "5"}));
  env.drop("hires.json", hires_json(20));
  run_until_final(env);
  check_each_hire_once(env, 20);
  auto stats = env.sim().stats();
  CHECK(stats["creates_applied"] == 20);
  CHECK(stats["status"].value("502", 0) > 0);   // answers were lost, and looked up again
}

TEST_CASE("e2e resilience: added latency slows but does not break anything") {
  H2rEnv env(with_sim({"--latency-ms", "250"}));
  env.drop("hires.json", hires_json(8));
  run_until_final(env);
  check_each_hire_once(env, 8);
}

TEST_CASE("e2e resilience: a linked user deleted at Zoom is looked up again by userName") {
  H2rEnv env(with_sim({}));
  auto jill = employee("E1", "Jill", "Chill");
  env.drop("hire.json", event_json("evt-1", "hire", jill));
  REQUIRE(env.run_once().exit_code == 0);
  auto before = env.sim_users_named("jill.chill@example.com");
  REQUIRE(before.size() == 1);
  // Behind h2r's back: the user is deleted and made again (another id).
  env.sim().delete_user(before[0]["id"].get<std::string>());
  auto again = env.sim().seed_user({{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}},
                                    {"userName", "jill.chill@example.com"}, {"active", true}});
  const long long posts = env.sim().stats()["requests"].value("POST /Users", 0);
  jill["job_title"] = "Staff Engineer";
  env.drop("update.json", event_json("evt-2", "update", jill));
  auto run = env.run_once();
  INFO(run.err);
  CHECK(run.exit_code == 0);
  auto after = env.sim_users_named("jill.chill@example.com");
  REQUIRE(after.size() == 1);
  CHECK(after[0]["id"] == again["id"]);
  CHECK(after[0]["title"] == "Staff Engineer");
  CHECK(env.sim().stats()["requests"].value("POST /Users", 0) == posts);   // found, not created
  CHECK(count_state(env.events(), "done") == 2);
}

TEST_CASE("e2e resilience: one broken connection does not stop another (two sims, two targets)") {
  H2rEnvOptions options = with_sim({"--missing-scope"});
  options.rules = std::string(k_spec_rules).replace(std::string(k_spec_rules).find("targets:\n  - connection: zoom-main\n"),
                                                    std::string("targets:\n  - connection: zoom-main\n").size(),
                                                    "targets:\n  - connection: zoom-main\n  - connection: zoom-b\n");
  H2rEnv env(options);
  SimProcess good({}, "acc-b", "cid-b");
  auto add = env.h2rd({"connection", "add", "zoom-b", "--account-id", good.account_id(), "--client-id", good.client_id(),
                       "--client-secret-stdin", "--oauth-url", good.oauth_url(), "--api-url", good.api_url(),
                       "--rate-limit", "1000"},
                      good.secret().reveal() + "\n");
  REQUIRE(add.exit_code == 0);
  env.drop("hires.json", hires_json(5));
  auto run = env.run_once();
  CHECK(run.exit_code == 1);   // zoom-main lacks a scope: `--once` fails those events
  for (const auto& e : env.events()) {
    CHECK(e["state"] == "failed");
    CHECK(e["reason"].get<std::string>().find("scope") != std::string::npos);
  }
  CHECK(good.users().size() == 5);       // zoom-b got every user anyway
  CHECK(env.sim().users().empty());
  // zoom-main was asked once, then left alone (unhealthy), not hammered per event.
  CHECK(env.sim().stats()["requests"].value("GET /Users", 0) <= 4);
  auto status = env.h2rd_json({"status"});
  bool main_unhealthy = false;
  for (const auto& c : status["connections"])
    if (c["name"] == "zoom-main") main_unhealthy = c["healthy"] == false;
  CHECK(main_unhealthy);
}
