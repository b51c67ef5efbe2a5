// Issue 17 item 7: events as an audit record — show (summary, changes, history with who and when),
// reject --reason, HR event_id wherever an id goes, list filters and the due column, retry that says why.
#include "lifecycle_util.hpp"
#include "support/test_paths.hpp"

#include <string>

using namespace h2r::test;
using nlohmann::json;

namespace {

// `h2rd events ...` as if an admin ran it through sudo.
ProcessResult as_alice(H2rEnv& env, std::vector<std::string> args) {
  args.insert(args.begin(), {h2rd_path(), "-c", env.config_path(), "events"});
  return run_process(args, {}, Env{{"SUDO_USER", "alice"}});
}

std::vector<std::string> ids_of(const json& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r["event_id"].get<std::string>());
  std::sort(ids.begin(), ids.end());
  return ids;
}

struct AuditEnv {
  H2rEnv env;
  AuditEnv() : env(options()) {
    apply(env, "new-hires.json",
          "[" + event_json("h-5001", "hire", employee("E1", "Ann", "Approved")) + "," +
              event_json("h-5002", "hire", employee("E2", "Rex", "Rejected")) + "," +
              event_json("h-5003", "hire", employee("E3", "Fay", "Future"), "2099-12-05") + "]");
    apply(env, "updates.json", "[" + event_json("2", "update", employee("E3", "Fay", "Future"), "2099-12-06") + "]");
  }
  static H2rEnvOptions options() {
    H2rEnvOptions o;
    o.rules = spec_rules_with("lifecycle:\n  supervised: [hire]\n");
    o.extra_config = "limits: { max_future_days: 36500 }\n";   // the 2099 dates must wait, not be rejected
    return o;
  }
};

} // namespace

TEST_CASE("e2e events: history shows held, approved by whom, then done, and show reads as an audit record") {
  AuditEnv a;
  H2rEnv& env = a.env;
  CHECK(state_of(env, "h-5001") == "held");
  auto approve = as_alice(env, {"approve", "h-5001"});   // the HR event_id works where an id does
  INFO(approve.err);
  REQUIRE(approve.exit_code == 0);
  REQUIRE(env.run_once().exit_code == 0);
  REQUIRE(state_of(env, "h-5001") == "done");

  auto shown = env.h2rd_json({"events", "show", "h-5001"});
  std::vector<std::string> steps;
  for (const auto& h : shown["history"])
    steps.push_back((h["from"].is_null() ? std::string("arrived") : h["from"].get<std::string>()) + ">" +
                    h["to"].get<std::string>() + " by " + h["actor"].get<std::string>());
  CHECK(steps == std::vector<std::string>{"arrived>pending by h2rd", "pending>held by h2rd",
                                          "held>pending by cli:alice via sudo", "pending>done by h2rd"});
  CHECK(shown["history"][1]["reason"].get<std::string>().find("supervised") != std::string::npos);
  CHECK(shown["history"][0]["reason"] == "arrived in new-hires.json");
  for (const auto& h : shown["history"]) CHECK(h["at"].is_string());
  CHECK(shown["result"]["targets"][0]["role"] == "engineering");
  CHECK(shown["due"].is_null());   // a final event is due never: null, not "-"

  auto text = env.h2rd({"events", "show", "h-5001"});
  INFO(text.out);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("event " + std::to_string(shown["id"].get<long long>()) + " (HR event_id h-5001): hire of employee E1") !=
        std::string::npos);
  CHECK(text.out.find("A hire of employee E1") != std::string::npos);
  CHECK(text.out.find("role engineering in zoom-main") != std::string::npos);
  CHECK(text.out.find("In zoom-main: created ann.approved@example.com") != std::string::npos);
  CHECK(text.out.find("userName") != std::string::npos);
  CHECK(text.out.find("ann.approved@example.com") != std::string::npos);
  CHECK(text.out.find("enterprise.department") != std::string::npos);   // URNs read as the rules' names
  CHECK(text.out.find("held → pending") != std::string::npos);
  CHECK(text.out.find("by cli:alice via sudo") != std::string::npos);
  CHECK(text.out.find("pending → done") != std::string::npos);

  // retry of an event that is not failed says why and exits 1.
  auto retry = env.h2rd({"events", "retry", "h-5001"});
  CHECK(retry.exit_code == 1);
  CHECK(retry.err.find("event " + std::to_string(shown["id"].get<long long>()) +
                       " is done; only failed events, or pending ones waiting to try again, can be retried") != std::string::npos);
}

TEST_CASE("e2e events: reject --reason keeps the reason escaped and bounded, in the event and its history") {
  AuditEnv a;
  H2rEnv& env = a.env;
  auto too_long = as_alice(env, {"reject", "h-5002", "--reason", std::string(501, 'x')});
  CHECK(too_long.exit_code == 2);
  CHECK(too_long.err.find("1 to 500 bytes") != std::string::npos);
  CHECK(state_of(env, "h-5002") == "held");
  auto reject = as_alice(env, {"reject", "h-5002", "--reason", "offer withdrawn\nby HR \x1b[31m"});
  INFO(reject.err);
  REQUIRE(reject.exit_code == 0);
  auto shown = env.h2rd_json({"events", "show", "h-5002"});
  CHECK(shown["state"] == "rejected");
  const std::string escaped = "offer withdrawn\\x0aby HR \\x1b[31m";
  CHECK(shown["reason"] == escaped);
  CHECK(shown["history"].back()["to"] == "rejected");
  CHECK(shown["history"].back()["reason"] == escaped);
  CHECK(shown["history"].back()["actor"] == "cli:alice via sudo");
  // Rejecting it again: it is final, and the message says so.
  auto again = env.h2rd({"events", "reject", "h-5002"});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("is rejected; only pending, waiting or held events can be rejected") != std::string::npos);
}

TEST_CASE("e2e events: an id is the internal id first, else the HR event_id, and an ambiguous one is refused") {
  AuditEnv a;
  H2rEnv& env = a.env;
  const long long internal = event_named(env, "h-5002")["id"].get<long long>();
  REQUIRE(internal == 2);   // and HR event_id "2" is another event: ambiguous
  auto ambiguous = env.h2rd({"events", "show", "2"});
  CHECK(ambiguous.exit_code == 2);
  CHECK(ambiguous.err.find("say id:2 or hr:2") != std::string::npos);
  CHECK(env.h2rd_json({"events", "show", "id:2"})["event_id"] == "h-5002");
  CHECK(env.h2rd_json({"events", "show", "hr:2"})["type"] == "update");
  CHECK(env.h2rd_json({"events", "show", "h-5003"})["employee_id"] == "E3");
  auto missing = env.h2rd({"events", "show", "no-such-event"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no event has the id or HR event_id 'no-such-event'") != std::string::npos);
}

TEST_CASE("e2e events: list filters by type, employee, effective dates and file, and shows when and why it waits") {
  AuditEnv a;
  H2rEnv& env = a.env;
  using V = std::vector<std::string>;
  CHECK(ids_of(env.h2rd_json({"events", "list", "--type", "hire"})) == V{"h-5001", "h-5002", "h-5003"});
  CHECK(ids_of(env.h2rd_json({"events", "list", "--type", "update"})) == V{"2"});
  CHECK(ids_of(env.h2rd_json({"events", "list", "--employee", "E3"})) == V{"2", "h-5003"});
  CHECK(ids_of(env.h2rd_json({"events", "list", "--since", "2099-12-06"})) == V{"2"});
  CHECK(ids_of(env.h2rd_json({"events", "list", "--since", "2099-01-01", "--until", "2099-12-05"})) == V{"h-5003"});
  CHECK(ids_of(env.h2rd_json({"events", "list", "--until", "2099-12-05T00:00:00Z"})) == V{"h-5001", "h-5002"});
  CHECK(ids_of(env.h2rd_json({"events", "list", "--file", "updates.json"})) == V{"2"});
  CHECK(env.h2rd_json({"events", "list", "--file", "nothing.json"}).empty());
  CHECK(ids_of(env.h2rd_json({"events", "list", "--type", "hire", "--employee", "E1"})) == V{"h-5001"});
  CHECK(env.h2rd({"events", "list", "--since", "next tuesday"}).exit_code == 2);
  CHECK(env.h2rd({"events", "list", "--type", "promotion"}).exit_code == 2);

  auto waiting = event_named(env, "h-5003");
  CHECK(waiting["state"] == "waiting");
  CHECK(waiting["due"] == "2099-12-05T00:00:00Z");
  CHECK(waiting["waits"] == "waits until 2099-12-05T00:00:00Z (effective date)");
  CHECK(event_named(env, "h-5001")["waits"].is_null());
  auto table = env.h2rd({"events", "list"});
  INFO(table.out);
  CHECK(table.out.find("DUE") != std::string::npos);
  CHECK(table.out.find("waits until 2099-12-05T00:00:00Z (effective date)") != std::string::npos);
}
