// Issue 27, provision on demand: `h2rd provision EMPLOYEE` says what h2r would do now and why (the
// role each target matches, the condition that failed) without changing anything; --apply queues an
// update the daemon runs like any event, supervision and the guard applied. The console's Preview and
// "Provision now" run the same code (lib/views/provision.hpp).
#include "lifecycle_util.hpp"
#include "support/eventually.hpp"
#include "support/scratch_pg.hpp"
#include "support/test_paths.hpp"

using namespace h2r::test;
using nlohmann::json;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Anna, hired and provisioned; then her title changed in Zoom by hand.
void hire_and_tamper(H2rEnv& env) {
  apply(env, "1.json", "[" + event_json("evt-hire", "hire", employee("E5", "Anna", "Berg")) + "]");
  const json user = the_user(env, "anna.berg@example.com");
  env.sim().patch_user(user["id"].get<std::string>(), {{"title", "Changed by hand"}});
}

void check_preview(const json& preview) {
  INFO(preview.dump(2));
  CHECK(preview["employee_id"] == "E5");
  CHECK(preview["name"] == "Anna Berg");
  REQUIRE(preview["why"].size() == 1);
  CHECK(preview["why"][0]["taken"] == true);
  CHECK(preview["why"][0]["roles"][0]["role"] == "engineering");
  CHECK(preview["why"][0]["roles"][0]["matched"] == true);
  const json& calls = preview["plan"]["actions"][0]["calls"];
  REQUIRE(calls.size() >= 1);
  CHECK(calls[0]["method"] == "PUT");
}

} // namespace

TEST_CASE("e2e provision: the preview changes nothing, --apply restores a hand-made change at the next run") {
  H2rEnv env;
  hire_and_tamper(env);
  const long long events = static_cast<long long>(env.events().size());

  auto preview = env.h2rd_json({"provision", "E5"});
  check_preview(preview);
  CHECK(preview["open"].empty());
  CHECK_FALSE(preview.contains("queued"));
  CHECK(static_cast<long long>(env.events().size()) == events);   // nothing queued
  CHECK(the_user(env, "anna.berg@example.com")["title"] == "Changed by hand");          // nothing sent

  auto text = env.h2rd({"provision", "E5"});
  INFO(text.out << text.err);
  CHECK(text.exit_code == 0);
  CHECK(has(text.out, "[zoom-main] role engineering matches"));
  CHECK(has(text.out, "PUT /Users/"));
  CHECK(has(text.out, "h2rd provision E5 --apply` queues it"));

  auto applied = env.h2rd_json({"provision", "E5", "--apply"});
  REQUIRE(applied.contains("queued"));
  const std::string event_id = applied["queued"]["event_id"].get<std::string>();
  CHECK(event_id.starts_with("on-demand-E5-"));
  CHECK(state_of(env, event_id) == "pending");
  apply(env, "none.json", "[]");
  CHECK(state_of(env, event_id) == "done");
  CHECK(the_user(env, "anna.berg@example.com")["title"] == "Engineer");
  const json shown_event = shown(env, event_id);
  CHECK(shown_event["source_file"].get<std::string>().starts_with("on-demand:cli:"));
  CHECK(shown_event["history"][0]["actor"].get<std::string>().starts_with("cli:"));
}

TEST_CASE("e2e provision: why no role matches, names the failing condition, and an unknown employee is refused") {
  H2rEnv env;
  apply(env, "1.json", "[" + event_json("evt-hire", "hire", employee("E5", "Anna", "Berg")) + "]");
  apply(env, "2.json", "[" + event_json("evt-move", "update", {{"employee_id", "E5"}, {"employment_type", "contractor"}}) + "]");
  auto text = env.h2rd({"provision", "E5"});
  INFO(text.out << text.err);
  CHECK(has(text.out, "role engineering does not: employment_type is 'contractor', and the rule asks that employment_type is 'full_time'"));
  CHECK(has(text.out, "role staff does not: employment_type is 'contractor', and the rule asks that employment_type is one of 'full_time', 'part_time'"));
  CHECK(has(text.out, "no role matches: on_no_role applies"));

  auto unknown = env.h2rd({"provision", "E404"});
  CHECK(unknown.exit_code == 1);
  CHECK(has(unknown.err, "h2r keeps no record of employee 'E404'"));
  CHECK(env.h2rd({"provision"}).exit_code == 2);
  CHECK(env.h2rd({"provision", std::string(300, 'x')}).exit_code == 2);
}

TEST_CASE("e2e provision: --apply under lifecycle.supervised waits for an approval like any update") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  supervised: [update]\n");
  H2rEnv env(options);
  hire_and_tamper(env);
  auto applied = env.h2rd_json({"provision", "E5", "--apply"});
  const std::string event_id = applied["queued"]["event_id"].get<std::string>();
  apply(env, "none.json", "[]");
  CHECK(state_of(env, event_id) == "held");
  CHECK(the_user(env, "anna.berg@example.com")["title"] == "Changed by hand");
  // A second preview shows the held update first, and its own update after it.
  auto again = env.h2rd_json({"provision", "E5"});
  REQUIRE(again["open"].size() == 1);
  CHECK(again["open"][0]["event_id"] == event_id);
}

TEST_CASE("pg e2e provision: --apply on PostgreSQL is run by the daemon") {
  H2R_SKIP_UNLESS_PG();
  ScratchDatabase db;
  H2rEnvOptions options;
  options.database = db.url();
  H2rEnv env(options);
  hire_and_tamper(env);
  auto applied = env.h2rd_json({"provision", "E5", "--apply"});
  const std::string event_id = applied["queued"]["event_id"].get<std::string>();
  ChildProcess daemon({h2rd_path(), "-c", env.config_path(), "run"});
  REQUIRE_MESSAGE(eventually([&] { return state_of(env, event_id) == "done"; }, std::chrono::seconds(60)), daemon.err());
  CHECK(the_user(env, "anna.berg@example.com")["title"] == "Engineer");
  CHECK(daemon.stop() == 0);
}

TEST_CASE("e2e events show --plan: a held terminate names the call it would make, a final event has no plan") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  supervised: [terminate]\n");
  H2rEnv env(options);
  apply(env, "1.json", "[" + event_json("evt-hire", "hire", employee("E5", "Anna", "Berg")) + "]");
  apply(env, "2.json", "[" + event_json("evt-term", "terminate", {{"employee_id", "E5"}}) + "]");
  REQUIRE(state_of(env, "evt-term") == "held");
  auto text = env.h2rd({"events", "show", "evt-term", "--plan"});
  INFO(text.out << text.err);
  CHECK(text.exit_code == 0);
  CHECK(has(text.out, "Anna Berg"));
  CHECK(has(text.out, "if it ran now"));
  CHECK(has(text.out, "PATCH /Users/"));
  CHECK(has(text.out, "active: true → false"));
  auto json_out = env.h2rd_json({"events", "show", "evt-term", "--plan"});
  CHECK(json_out["plan"]["actions"][0]["calls"][0]["method"] == "PATCH");
  CHECK(json_out["plan"]["hold"].get<std::string>().starts_with("supervised: "));
  CHECK(state_of(env, "evt-term") == "held");                                  // nothing changed
  CHECK(the_user(env, "anna.berg@example.com")["active"] == true);
  auto final_event = env.h2rd({"events", "show", "evt-hire", "--plan"});
  CHECK(final_event.exit_code == 1);
  CHECK(has(final_event.err, "only an open event"));
}
