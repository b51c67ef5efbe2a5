// Issue 27, the CLI's bulk review: a bad export rejected as one action with a reason, failures of one
// reason retried together, a batch approved only while it is the batch the admin saw (--expect). The
// console's POST /api/v1/events/{verb} runs the same code (lib/views/event_actions.hpp).
#include "lifecycle_util.hpp"

using namespace h2r::test;
using nlohmann::json;

namespace {

// N hires E<first>… in `department` as one JSON array.
std::string hires(int first, int n, const std::string& department = "Engineering") {
  std::string out = "[";
  for (int i = first; i < first + n; ++i) {
    if (i > first) out += ",";
    out += event_json("h-" + std::to_string(i), "hire", employee("E" + std::to_string(i), "P" + std::to_string(i), "Bulk", department));
  }
  return out + "]";
}

int count_in(H2rEnv& env, const std::string& state, const std::string& file) {
  return static_cast<int>(env.h2rd_json({"events", "list", "--state", state, "--file", file}).size());
}

} // namespace

TEST_CASE("e2e events bulk: reject --file rejects a bad export's open events with a reason, checked by --expect") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  supervised: [hire]\n");
  H2rEnv env(options);
  env.drop("bad.json", hires(1, 40));
  env.drop("good.json", hires(41, 2));
  REQUIRE(env.run_once().exit_code == 0);
  REQUIRE(count_in(env, "held", "bad.json") == 40);
  REQUIRE(count_in(env, "held", "good.json") == 2);

  // The admin saw 41: the file now means 40, so nothing changes.
  auto wrong = env.h2rd({"events", "reject", "--file", "bad.json", "--expect", "41", "--reason", "wrong export"});
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("40 events are pending, waiting or held from bad.json now, not 41: nothing was changed") !=
        std::string::npos);
  CHECK(count_in(env, "held", "bad.json") == 40);

  auto reject = env.h2rd({"events", "reject", "--file", "bad.json", "--expect", "40", "--reason", "wrong export"});
  INFO(reject.err);
  CHECK(reject.exit_code == 0);
  CHECK(reject.out.find("40 events rejected") != std::string::npos);
  auto rejected = env.h2rd_json({"events", "list", "--state", "rejected"});
  CHECK(rejected.size() == 40);
  for (const auto& e : rejected) {
    CHECK(e["source_file"].get<std::string>().find("bad.json") != std::string::npos);
    CHECK(e["reason"].get<std::string>().find("wrong export") != std::string::npos);
  }
  CHECK(count_in(env, "held", "good.json") == 2);

  // The rest is approved as the batch it is; a second reject of the file finds nothing open.
  auto approve = env.h2rd_json({"events", "approve", "--all", "--expect", "2"});
  CHECK(approve["changed"] == 2);
  CHECK(approve["errors"].empty());
  CHECK(env.h2rd({"events", "reject", "--file", "bad.json", "--expect", "0"}).out.find("0 events rejected") !=
        std::string::npos);
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(count_in(env, "done", "good.json") == 2);
  CHECK(env.sim_users_named("p41.bulk@example.com").size() == 1);
  CHECK(env.sim_users_named("p1.bulk@example.com").empty());
}

TEST_CASE("e2e events bulk: retry --failed --reason-matches queues the failures of one reason only") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("");
  const std::string member = "      role: Member\n";
  options.rules.insert(options.rules.find(member) + member.size(), "      groups: [\"Dept {department}\"]\n");
  H2rEnv env(options);
  env.drop("eng.json", hires(1, 3, "Engineering"));
  env.drop("product.json", hires(4, 2, "Product"));
  REQUIRE(env.run_once().exit_code == 1);   // events failed
  REQUIRE(env.h2rd_json({"events", "list", "--state", "failed"}).size() == 5);

  env.sim().seed_group("Dept Product");
  // Case aside, the text picks Product's two; an --expect from an older look changes nothing.
  auto stale = env.h2rd({"events", "retry", "--failed", "--reason-matches", "GROUP 'dept product'", "--expect", "3"});
  CHECK(stale.exit_code == 1);
  CHECK(stale.err.find("2 events are failed whose reason holds 'GROUP 'dept product'' now, not 3") != std::string::npos);
  auto retry = env.h2rd({"events", "retry", "--failed", "--reason-matches", "GROUP 'dept product'", "--expect", "2"});
  INFO(retry.err);
  CHECK(retry.exit_code == 0);
  CHECK(retry.out.find("2 events queued again; the daemon runs them at its next cycle") != std::string::npos);
  CHECK(count_in(env, "failed", "eng.json") == 3);
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(count_in(env, "done", "product.json") == 2);
  CHECK(count_in(env, "failed", "eng.json") == 3);
}

TEST_CASE("e2e events bulk: the selection options go with a selection only, and are bounded") {
  H2rEnv env;
  env.drop("one.json", hires(1, 1));
  REQUIRE(env.run_once().exit_code == 0);
  const std::string id = std::to_string(event_named(env, "h-1")["id"].get<long long>());
  for (const std::vector<std::string>& words :
       {std::vector<std::string>{"events", "retry", id, "--expect", "1"},
        std::vector<std::string>{"events", "approve", id, "--file", "one.json"},
        std::vector<std::string>{"events", "retry", "--failed", "--expect", "-1"},
        std::vector<std::string>{"events", "retry", "--failed", "--expect", "1000001"},
        std::vector<std::string>{"events", "approve", "--all", "--expect", "two"},
        std::vector<std::string>{"events", "retry", "--failed", "--reason-matches", std::string(257, 'x')},
        std::vector<std::string>{"events", "approve", "--all", "--reason-matches", "x"}}) {
    CAPTURE(words);
    auto r = env.h2rd(words);
    CHECK(r.exit_code == 2);
    CHECK_FALSE(r.err.empty());
  }
  CHECK(state_of(env, "h-1") == "done");
}

TEST_CASE("e2e events: the list names each event's employee, a terminate by the name h2r keeps") {
  H2rEnv env;
  json zoe = employee("E2", "Zoë Ōkafor-Wojciechowska", "Kowalczykówna");
  zoe["email"] = "zoe.okafor@example.com";
  apply(env, "hires.json", "[" + event_json("h-1", "hire", employee("E1", "Ann", "Okafor")) + "," +
                               event_json("h-2", "hire", zoe) + "]");
  REQUIRE(env.h2rd_json({"events", "list"}).size() == 2);
  apply(env, "terms.json", event_json("t-1", "terminate", {{"employee_id", "E1"}}));
  auto listed = env.h2rd_json({"events", "list"});
  REQUIRE(listed.size() == 3);
  for (const auto& e : listed) {
    CAPTURE(e.dump());
    CHECK(e["name"] == (e["employee_id"] == "E1" ? "Ann Okafor" : "Zoë Ōkafor-Wojciechowska Kowalczykówna"));
  }
  // The text list: a long name cut at 20 code points (never inside a character), the columns kept.
  auto text = env.h2rd({"events", "list"});
  CHECK(text.out.find("NAME") != std::string::npos);
  CHECK(text.out.find("E1          Ann Okafor" + std::string(12, ' ') + "done") != std::string::npos);
  CHECK(text.out.find("E2          Zoë Ōkafor-Wojciecho… done") != std::string::npos);

  // events show: who, and the Zoom user the event changed.
  auto shown = env.h2rd({"events", "show", "t-1"});
  CHECK(shown.out.find("terminate of employee E1 (Ann Okafor) — done") != std::string::npos);
  CHECK(shown.out.find("Zoom user in zoom-main: ann.okafor@example.com (id ") != std::string::npos);
  CHECK(shown.out.find(", inactive)") != std::string::npos);
  auto detail = env.h2rd_json({"events", "show", "t-1"});
  CHECK(detail["name"] == "Ann Okafor");
  REQUIRE(detail["zoom_users"].size() == 1);
  CHECK(detail["zoom_users"][0]["user_name"] == "ann.okafor@example.com");
  CHECK(detail["zoom_users"][0]["active"] == false);
  CHECK(detail["history"].size() >= 2);
}

TEST_CASE("e2e events bulk: after an outage retry --pending makes the events waiting out a backoff due now") {
  H2rEnv env;
  env.sim().configure({{"fail_rate", 1.0}});   // Zoom answers 5xx to everything: an outage
  env.drop("out.json", hires(1, 2));
  // --max-wait 0s: one attempt, then run --once ends (by default it would wait out the backoffs for up
  // to 5 minutes, until the test's own limit on a command killed it).
  env.h2rd({"run", "--once", "--max-wait", "0s"});
  auto waiting = env.h2rd_json({"events", "list", "--state", "pending"});
  REQUIRE(waiting.size() == 2);
  for (const auto& e : waiting) {
    CAPTURE(e.dump());
    CHECK(e["attempts"].get<int>() >= 1);
    CHECK_FALSE(e["waits"].is_null());   // a backoff: not due before a later cycle
  }
  env.sim().configure({{"fail_rate", 0.0}});
  auto stale = env.h2rd({"events", "retry", "--pending", "--expect", "3"});
  CHECK(stale.exit_code == 1);
  CHECK(stale.err.find("2 events are pending waiting to try again now, not 3") != std::string::npos);
  auto retry = env.h2rd({"events", "retry", "--pending", "--expect", "2"});
  INFO(retry.err);
  CHECK(retry.exit_code == 0);
  CHECK(retry.out.find("2 events queued again") != std::string::npos);
  for (const auto& e : env.h2rd_json({"events", "list", "--state", "pending"})) CHECK(e["waits"].is_null());
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(env.h2rd_json({"events", "list", "--state", "done"}).size() == 2);
  CHECK(env.h2rd({"events", "retry", "--failed", "--pending"}).exit_code == 2);
}
