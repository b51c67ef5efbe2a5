// Issue 24: a Zoom user linked to two employees (a pair from a database older than the
// one-employee-per-Zoom-user key, which the schema migration keeps and marks `shared`) is reported by
// `h2rd reconcile` with both employee ids and the Zoom user, and `reconcile --apply` changes nothing of it.
#include "lifecycle_util.hpp"

#include "store/sqlite/sqlite_db.hpp"

#include <fmt/format.h>

using namespace h2r::test;
using nlohmann::json;

TEST_CASE("e2e reconcile: a Zoom user linked to two employees is reported with both and left alone by --apply") {
  H2rEnv env;
  apply(env, "hires.json", "[" + event_json("h-1", "hire", employee("E1", "Anna", "Alpha")) + "," +
                               event_json("h-9", "hire", employee("E9", "Bert", "Beta")) + "]");
  const std::string anna = the_user(env, "anna.alpha@example.com")["id"];
  // E9's link made to point at Anna's Zoom user, as an old database may hold it after the migration
  // (E1 the first of the pair, E9 the second).
  {
    auto db = h2r::sqlite::Db::open(env.database());
    REQUIRE(db);
    REQUIRE((*db)->exec("UPDATE links SET shared = 1 WHERE employee_id = 'E1'"));
    REQUIRE((*db)->exec(fmt::format("UPDATE links SET zoom_user_id = '{}', user_name = 'anna.alpha@example.com', "
                                    "shared = 2 WHERE employee_id = 'E9'", anna)));
  }
  // Drift on Anna's user that a reconcile --apply would otherwise push back.
  env.sim().patch_user(anna, {{"title", "Hacker"}});
  const json anna_before = the_user(env, "anna.alpha@example.com");

  auto report = env.h2rd_json({"reconcile"});
  INFO(report.dump());
  std::vector<json> shared;
  for (const auto& d : report["drift"])
    if (d["kind"] == "shared") shared.push_back(d);
  REQUIRE(shared.size() == 1);
  CHECK(shared[0]["employee_ids"] == json::array({"E1", "E9"}));
  CHECK(shared[0]["user_id"] == anna);
  CHECK(shared[0]["userName"] == "anna.alpha@example.com");
  CHECK(shared[0]["fixed"] == false);
  for (const auto& d : report["drift"]) CHECK(d["kind"] != "attributes");   // neither employee judged alone
  CHECK(report["exit_code"] == 3);

  auto text = env.h2rd({"reconcile"});
  INFO(text.out);
  CHECK(text.exit_code == 3);
  CHECK(text.out.find("shared anna.alpha@example.com (id " + anna + "): linked to employees E1, E9") !=
        std::string::npos);

  const auto stats_before = env.sim().stats();
  auto applied = env.h2rd_json({"reconcile", "--apply"});
  INFO(applied.dump());
  CHECK(applied["exit_code"] == 3);   // the pair is drift no one fixed
  for (const auto& d : applied["drift"])
    if (d["kind"] == "shared") CHECK(d["fixed"] == false);
  CHECK(the_user(env, "anna.alpha@example.com") == anna_before);   // nothing changed at Zoom
  const auto stats_after = env.sim().stats();
  for (const char* route : {"PUT /Users/{id}", "PATCH /Users/{id}", "POST /Users", "DELETE /Users/{id}"})
    CHECK(stats_after["requests"].value(route, 0LL) == stats_before["requests"].value(route, 0LL));
  // The links stay as they were: the pair is reported again.
  auto again = env.h2rd_json({"reconcile"});
  std::size_t pairs = 0;
  for (const auto& d : again["drift"])
    if (d["kind"] == "shared" && d["employee_ids"] == json::array({"E1", "E9"})) ++pairs;
  CHECK(pairs == 1);
}

TEST_CASE("e2e reconcile: --apply never pushes an employee without a link onto the Zoom user another employee owns") {
  H2rEnv env;
  apply(env, "hires.json", event_json("h-1", "hire", employee("E1", "Anna", "Alpha")));
  const json anna_before = the_user(env, "anna.alpha@example.com");
  // E9: stored as active with Anna's address but no link (its hire failed before the ownership check
  // could hold it, say), as an employee record h2r keeps.
  {
    auto db = h2r::sqlite::Db::open(env.database());
    REQUIRE(db);
    REQUIRE((*db)->exec("INSERT INTO employees (employee_id, record, status, updated_at_ms) SELECT 'E9', "
                        "replace(record, '\"E1\"', '\"E9\"'), status, updated_at_ms FROM employees WHERE employee_id = 'E1'"));
  }
  auto applied = env.h2rd_json({"reconcile", "--apply"});
  INFO(applied.dump());
  bool owned = false;
  for (const auto& d : applied["drift"])
    if (d["employee_id"] == "E9") {
      CHECK(d["kind"] == "owned");
      CHECK(d["fixed"] == false);
      CHECK(d["detail"].get<std::string>().find("employee E1") != std::string::npos);
      owned = true;
    }
  CHECK(owned);
  CHECK(applied["exit_code"] == 3);
  CHECK(the_user(env, "anna.alpha@example.com") == anna_before);   // still E1's number and name
  CHECK(sim_count(env, "PUT /Users/{id}") == 0);
  CHECK(sim_count(env, "PATCH /Users/{id}") == 0);
}
