// What an admin reads must be true and complete (issue 17): `check` says what it could not check and
// points at typos with file:line:col and a "did you mean"; `status` raises everything that needs a
// person; `reconcile` totals add up and its exit status tells scripts about drift; log lines carry
// their time zone.
#include "e2e/lifecycle_util.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <sstream>

using namespace h2r::test;
using json = nlohmann::json;

namespace {

// Connection "zoom-mian" (a typo) and "{frist_name}" used twice.
const char* const k_typo_rules = R"(version: 1
targets:
  - connection: zoom-mian
roles:
  - name: everyone
attributes:
  userName: "{email}"
  name.givenName: "{frist_name}"
  displayName: "{frist_name} {last_name}"
  nickName: "{badge_name}"
)";

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

} // namespace

TEST_CASE("e2e check: without a database it says what it could not check, and --strict fails on it") {
  H2rEnvOptions options;
  options.add_connection = false;
  options.rules = k_typo_rules;
  H2rEnv env(options);
  const std::string rules = env.rules_path();

  auto plain = env.h2rd({"check"});
  INFO(plain.err);
  CHECK(plain.exit_code == 0);
  CHECK(plain.err.find(rules + ": warning: not checked: whether connection(s) 'zoom-mian' exist") != std::string::npos);
  CHECK(plain.err.find("no database at") != std::string::npos);
  CHECK(plain.out.find("config and rules are valid as far as they could be checked") != std::string::npos);
  // The typo is found without a database too: once, at its first place, with the near SPEC field.
  CHECK(occurrences(plain.err, "'frist_name'") == 1);
  CHECK(plain.err.find(rules + ":8:19: warning: field 'frist_name' is not an event field and no event has carried "
                               "it (did you mean 'first_name'?)") != std::string::npos);
  // A field near nothing gets no guess, but says which fields are known.
  CHECK(plain.err.find(rules + ":10:13: warning: field 'badge_name'") != std::string::npos);
  CHECK(plain.err.find("the SPEC's fields are employee_id") != std::string::npos);
  CHECK(plain.err.find("'last_name'") == std::string::npos);   // known fields are not reported

  auto strict = env.h2rd({"check", "--strict"});
  CHECK(strict.exit_code == 78);
  CHECK(strict.out.find("check --strict: 3 warning(s), counted as problems") != std::string::npos);
  auto strict_json = env.h2rd_json({"check", "--strict"});
  CHECK(strict_json["ok"] == false);
  CHECK(strict_json["complete"] == false);
}

TEST_CASE("e2e check: an unknown connection in targets is an error at file:line:col with a did-you-mean") {
  H2rEnvOptions options;
  options.rules = k_typo_rules;   // the env adds connection zoom-main: the database exists
  H2rEnv env(options);
  auto r = env.h2rd({"check"});
  INFO(r.err);
  CHECK(r.exit_code == 78);
  CHECK(r.err.find(env.rules_path() + ":3:17: targets: connection 'zoom-mian' does not exist (did you mean "
                                      "'zoom-main'?)") != std::string::npos);
  CHECK(r.err.find("not checked") == std::string::npos);
  CHECK(occurrences(r.err, "'frist_name'") == 1);

  // Fixed: valid, and a field events have carried is known from then on.
  std::string fixed = k_typo_rules;
  fixed.replace(fixed.find("zoom-mian"), 9, "zoom-main");
  fixed.replace(fixed.find("{frist_name}"), 12, "{first_name}");
  fixed.replace(fixed.find("{frist_name}"), 12, "{first_name}");
  env.dir().write("rules.yaml", fixed);
  auto warned = env.h2rd({"check", "--strict"});
  CHECK(warned.exit_code == 78);   // badge_name: no event carried it yet
  auto hire = employee("E1", "Ann", "Lee");
  hire["badge_name"] = "Annie";
  env.drop("hire.json", event_json("h-1", "hire", hire));
  REQUIRE(env.run_once().exit_code == 0);
  auto clean = env.h2rd({"check", "--strict"});
  INFO(clean.err);
  CHECK(clean.exit_code == 0);
  CHECK(clean.out == "config and rules are valid\ndatabase: SQLite " + env.database() + " (reachable, 1 connection(s))\n");
}

TEST_CASE("e2e status: ATTENTION lists failed events and rejected files, with how to act, in text and --json") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("");
  auto at = options.rules.find("      role: Member\n");
  options.rules.insert(at + std::string("      role: Member\n").size(), "      groups: [Engineering]\n");
  H2rEnv env(options);
  auto quiet = env.h2rd({"status"});
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.out.find("ATTENTION") == std::string::npos);

  env.drop("a-bad.json", "{ not json");
  env.drop("b-bad.json", "also not json");
  apply(env, "hires.json", event_json("h-1", "hire", employee("E1", "Eng", "Ineer")), 1);   // group missing: failed
  REQUIRE(state_of(env, "h-1") == "failed");

  auto text = env.h2rd({"status"});
  INFO(text.out);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("ATTENTION (2):") != std::string::npos);
  CHECK(text.out.find("1 event failed: `h2rd events list --state failed`") != std::string::npos);
  CHECK(text.out.find("h2rd events retry --failed") != std::string::npos);
  CHECK(text.out.find("2 event files rejected in " + env.inbox() + "/rejected/") != std::string::npos);
  CHECK(text.out.find(".error.txt") != std::string::npos);

  auto j = env.h2rd_json({"status"});
  std::map<std::string, json> by_kind;
  for (const auto& item : j["attention"]) by_kind[item["kind"].get<std::string>()] = item;
  CHECK(j["attention"].size() == by_kind.size());   // one item per kind: nothing listed twice
  REQUIRE(by_kind.count("failed_events") == 1);
  CHECK(by_kind["failed_events"]["count"] == 1);
  REQUIRE(by_kind.count("rejected_files") == 1);
  CHECK(by_kind["rejected_files"]["count"] == 2);
  const std::string newest = by_kind["rejected_files"]["newest"].get<std::string>();
  CHECK((newest == "a-bad.json" || newest == "b-bad.json"));
  CHECK(by_kind["rejected_files"]["report"] == env.inbox() + "/rejected/" + newest + ".error.txt");
}

TEST_CASE("e2e reconcile: totals add up (checked = in sync + drift + left alone) and drift exits 3") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle: { leave: { long_term: keep } }\n");
  H2rEnv env(options);
  apply(env, "hires.json", "[" + event_json("h-1", "hire", employee("E1", "In", "Sync")) + "," +
                               event_json("h-2", "hire", employee("E2", "Att", "Ributes")) + "," +
                               event_json("h-3", "hire", employee("E3", "On", "Leave")) + "]");
  apply(env, "leave.json", event_json("l-3", "leave", {{"employee_id", "E3"}}, "", "long_term"));
  CHECK(env.h2rd({"reconcile"}).exit_code == 0);   // all in sync

  env.sim().patch_user(the_user(env, "att.ributes@example.com")["id"].get<std::string>(), {{"title", "Hacker"}});
  env.sim().seed_user({{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}}, {"userName", "admin@example.com"}});
  auto text = env.h2rd({"reconcile"});
  INFO(text.out << text.err);
  CHECK(text.exit_code == 3);
  CHECK(text.out.find("employees checked: 3 = 1 in sync + 1 with drift + 1 left alone") != std::string::npos);
  CHECK(text.out.find("zoom users: 4, of which 1 no employee accounts for") != std::string::npos);
  auto j = env.h2rd_json({"reconcile"});
  CHECK(j["employees_checked"] == j["in_sync"].get<long long>() + j["employees_drifted"].get<long long>() +
                                      j["left_alone"].get<long long>());
  CHECK(j["unaccounted"] == 1);
  CHECK(j["exit_code"] == 3);

  auto applied = env.h2rd({"reconcile", "--apply"});
  INFO(applied.out << applied.err);
  CHECK(applied.exit_code == 0);   // everything found was fixed (the stray admin is not h2r's to fix)
  auto after = env.h2rd({"reconcile"});
  CHECK(after.exit_code == 0);
  CHECK(after.out.find("employees checked: 3 = 2 in sync + 0 with drift + 1 left alone") != std::string::npos);
}

TEST_CASE("e2e logs: every log line carries its time zone, in text and in json") {
  TempDir dir;
  dir.write("rules.yaml", "version: 1\ntargets: [{connection: zoom}]\nroles: [{name: all}]\n"
                          "attributes: { userName: \"{email}\" }\n");
  dir.write("state/.keep", "");
  for (const std::string format : {"text", "json"}) {
    CAPTURE(format);
    auto config = dir.write("h2rd-" + format + ".yaml",
                            "database: state/h2r.db\ninbox: inbox\nrules: rules.yaml\nsecret_key_file: state/secret.key\n"
                            "listen: \"\"\nlog: { level: info, format: " + format + " }\n");
    auto r = run_process({h2rd_path(), "-c", config.string(), "run", "--once"}, {}, Env{{"JOURNAL_STREAM", ""}});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    std::istringstream lines(r.err);
    std::string line;
    int seen = 0;
    const std::regex stamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)");
    for (; std::getline(lines, line); ++seen) {
      CAPTURE(line);
      if (format == "text") {
        CHECK(std::regex_match(line.substr(0, line.find(' ')), stamp));
      } else {
        auto j = json::parse(line);
        CHECK(std::regex_match(j["time"].get<std::string>(), stamp));
      }
    }
    CHECK(seen > 0);
  }
}
