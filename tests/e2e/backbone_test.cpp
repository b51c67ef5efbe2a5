// Issue 2's end-to-end proofs: real inbox folder, real SQLite file, real HTTP to zoom-sim.
#include "support/h2r_env.hpp"
#include "support/file_text.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace h2r::test;

namespace {

} // namespace

TEST_CASE("e2e backbone: hires in the inbox become Zoom users with the mapped attributes") {
  H2rEnv env;
  auto jill = employee("E1001", "Jill", "Chill");
  jill["phone"] = "+1 555 0100";
  jill["job_title"] = "Engineer";
  env.drop("hires.json", "[" + event_json("evt-1", "hire", jill) + "," +
                             event_json("evt-2", "hire", employee("E1002", "Bob", "Sales", "Sales", "part_time")) + "]");
  auto run = env.run_once();
  INFO(run.err);
  CHECK(run.exit_code == 0);

  auto users = env.sim_users_named("jill.chill@example.com");
  REQUIRE(users.size() == 1);
  const auto& u = users[0];
  CHECK(u["active"] == true);
  CHECK(u["name"]["givenName"] == "Jill");
  CHECK(u["name"]["familyName"] == "Chill");
  CHECK(u["displayName"] == "Jill Chill");
  CHECK(u["title"] == "Engineer");
  CHECK(u["userType"] == "Licensed");
  CHECK(u["roles"][0]["value"] == "Member");
  CHECK(u["urn:ietf:params:scim:schemas:extension:zoom:1.0:User"]["zoomOneBizPlus"] == true);
  CHECK(u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"] == "E1001");
  CHECK(u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"] == "boss@example.com");
  CHECK(u["phoneNumbers"][0]["value"] == "+1 555 0100");
  CHECK(u["urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"]["loginType"]["sso"] == true);
  auto bob = env.sim_users_named("bob.sales@example.com");
  REQUIRE(bob.size() == 1);
  CHECK(bob[0]["userType"] == "Basic");

  for (const auto& e : env.events()) CHECK(e["state"] == "done");
  CHECK(file_text(env.inbox() + "/processed/hires.json").find("evt-1") != std::string::npos);

  // The same file again: duplicates are ignored, no second user.
  env.drop("hires-again.json", event_json("evt-1", "hire", jill));
  CHECK(env.run_once().exit_code == 0);
  CHECK(env.sim_users_named("jill.chill@example.com").size() == 1);
  CHECK(env.events().size() == 2);
}

TEST_CASE("e2e backbone: an employee already present in Zoom is linked, not created twice") {
  H2rEnv env;
  auto existing = env.sim().seed_user({{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}},
                                       {"userName", "jill.chill@example.com"},
                                       {"name", {{"givenName", "J"}, {"familyName", "C"}}}});
  env.drop("hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  auto run = env.run_once();
  INFO(run.err);
  CHECK(run.exit_code == 0);
  auto users = env.sim_users_named("jill.chill@example.com");
  REQUIRE(users.size() == 1);
  CHECK(users[0]["id"] == existing["id"]);
  CHECK(users[0]["name"]["givenName"] == "Jill");   // brought in line with the rules
  auto stats = env.sim().stats();
  CHECK(stats["requests"].value("POST /Users", 0) == 0);
  auto shown = env.h2rd_json({"events", "show", std::to_string(env.events()[0]["id"].get<long long>())});
  CHECK(shown["result"]["actions"][0]["action"] == "linked");
}

TEST_CASE("e2e backbone: bad credentials give a clear error and no secret anywhere") {
  H2rEnvOptions options;
  options.add_connection = false;
  H2rEnv env(options);
  const std::string wrong_secret = "wrong-secret-5f2c9a71d3";
  auto add = env.h2rd({"connection", "add", "zoom-main", "--account-id", env.sim().account_id(), "--client-id",
                       env.sim().client_id(), "--client-secret-stdin", "--oauth-url", env.sim().oauth_url(),
                       "--api-url", env.sim().api_url()},
                      wrong_secret + "\n");
  REQUIRE(add.exit_code == 0);
  auto test = env.h2rd({"connection", "test", "zoom-main"});
  CHECK(test.exit_code == 1);
  CHECK(test.err.find("invalid_client") != std::string::npos);

  env.drop("hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  auto run = env.run_once();
  CHECK(run.exit_code == 1);
  auto events = env.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0]["state"] == "failed");
  CHECK(events[0]["reason"].get<std::string>().find("invalid_client") != std::string::npos);
  CHECK(env.sim_users_named("jill.chill@example.com").empty());

  // The secret is nowhere: not in any output, log line, or the database file in clear.
  std::string everything = add.out + add.err + test.out + test.err + run.out + run.err;
  for (auto args : std::vector<std::vector<std::string>>{{"connection", "show", "zoom-main"},
                                                         {"connection", "list", "--json"},
                                                         {"status", "--json"},
                                                         {"events", "list", "--json"}}) {
    auto r = env.h2rd(args);
    everything += r.out + r.err;
  }
  CHECK(everything.find(wrong_secret) == std::string::npos);
  std::string db = file_text(env.database()) + file_text(env.database() + "-wal");
  CHECK(db.find(wrong_secret) == std::string::npos);
  CHECK(db.find("zoom-main") != std::string::npos);   // the file read is the real database
}

TEST_CASE("e2e backbone: cannot reach host is reported precisely") {
  H2rEnvOptions options;
  options.add_connection = false;
  H2rEnv env(options);
  auto add = env.h2rd({"connection", "add", "dead", "--account-id", "a", "--client-id", "c", "--client-secret-stdin",
                       "--oauth-url", "http://127.0.0.1:1/oauth/token", "--api-url", "http://127.0.0.1:1/scim2"},
                      "s3cr3t\n");
  REQUIRE(add.exit_code == 0);
  auto test = env.h2rd({"connection", "test", "dead"});
  CHECK(test.exit_code == 1);
  CHECK(test.err.find("cannot reach") != std::string::npos);
}
