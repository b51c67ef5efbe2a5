// Issue 24 case 6: the same HR event_id in two files with different content (a hire, then a
// terminate) is not dropped silently: the second file is rejected whole, naming the id, the earlier
// file and what differs; the user stays as the first event left it. Identical content stays a
// silent duplicate (the same export sent twice, a file read again after a crash).
#include "lifecycle_util.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace h2r::test;

TEST_CASE("e2e duplicates: an event_id stored before with other content rejects the file, naming the id, file and fields") {
  H2rEnv env;
  const auto ann = employee("E1", "Ann", "Alpha");
  apply(env, "a.json", "[" + event_json("evt-1", "hire", ann) + "]");
  REQUIRE(the_user(env, "ann.alpha@example.com")["active"] == true);

  auto moved = ann;
  moved["department"] = "Sales";
  env.drop("b.json", "[" + event_json("evt-1", "terminate", moved) + "]");
  auto run = env.run_once();
  INFO(run.err);
  const std::string report_path = env.inbox() + "/rejected/b.json.error.txt";
  REQUIRE(std::filesystem::exists(report_path));
  CHECK(std::filesystem::exists(env.inbox() + "/rejected/b.json"));
  std::stringstream report_text;
  report_text << std::ifstream(report_path).rdbuf();
  const std::string report = report_text.str();
  INFO(report);
  CHECK(report.find("evt-1") != std::string::npos);
  CHECK(report.find("a.json") != std::string::npos);
  CHECK(report.find("type (hire, now terminate)") != std::string::npos);
  CHECK(report.find("employee.department") != std::string::npos);
  CHECK(run.err.find("event.duplicate_conflict event_id=\"evt-1\"") != std::string::npos);
  CHECK(run.err.find("inbox.rejected file=\"b.json\"") != std::string::npos);

  // Nothing of b.json was kept: one event, the hire, and the user is still active.
  auto events = env.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "hire");
  CHECK(sim_count(env, "PATCH /Users/{id}") == 0);
  CHECK(the_user(env, "ann.alpha@example.com")["active"] == true);

  // The same event again, unchanged: a silent duplicate, the file accepted.
  env.drop("c.json", "[" + event_json("evt-1", "hire", ann) + "]");
  auto again = env.run_once();
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(std::filesystem::exists(env.inbox() + "/processed/c.json"));
  CHECK(again.err.find("event.duplicate event_id=\"evt-1\"") != std::string::npos);
  CHECK(env.events().size() == 1);
}
