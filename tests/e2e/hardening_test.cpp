// Issue 11: nothing in an event file, a rules edit or a config makes h2r act wrongly — through the real
// h2rd binary, inbox, SQLite file and zoom-sim: far-future dates, unbounded attribute values, cleartext
// URLs and listen addresses, a lost key file, over-long file names, absurd rate limits.
#include "core/time.hpp"
#include "lifecycle_util.hpp"
#include "support/file_text.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace h2r;
using namespace h2r::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("e2e hardening: a terminate dated 3026-01-15 is rejected with its record and line, the Zoom user stays active") {
  H2rEnv env;
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  REQUIRE(the_user(env, "jill.chill@example.com")["active"] == true);

  // Line 2 of an NDJSON file (a blank line first), as a typo for 2026 would arrive.
  env.drop("term.ndjson", "\n" + event_json("evt-2", "terminate", {{"employee_id", "E1001"}}, "3026-01-15") + "\n");
  auto run = env.run_once();
  INFO(run.err);
  CHECK(run.exit_code == 0);
  const fs::path rejected = fs::path(env.inbox()) / "rejected";
  REQUIRE(fs::exists(rejected / "term.ndjson"));
  const std::string report = file_text(rejected / "term.ndjson.error.txt");
  CHECK(contains(report, "record 1 (line 2): field 'effective_date': '3026-01-15' is after 2199-12-31"));
  CHECK(the_user(env, "jill.chill@example.com")["active"] == true);
  for (const auto& e : env.events()) CHECK(e["event_id"] != "evt-2");   // nothing of the file was stored

  // Inside the representable range but beyond limits.max_future_days (1095): rejected the same way.
  const std::string in_four_years = date_in_days(4 * 366);
  env.drop("term2.ndjson", event_json("evt-3", "terminate", {{"employee_id", "E1001"}}, in_four_years) + "\n");
  run = env.run_once();
  CHECK(run.exit_code == 0);
  REQUIRE(fs::exists(rejected / "term2.ndjson.error.txt"));
  const std::string report2 = file_text(rejected / "term2.ndjson.error.txt");
  CHECK(contains(report2, "record 1 (line 1): field 'effective_date': '" + in_four_years + "'"));
  CHECK(contains(report2, "more than 1095 days ahead"));
  CHECK(contains(report2, "limits.max_future_days"));
  CHECK(the_user(env, "jill.chill@example.com")["active"] == true);
}

TEST_CASE("e2e hardening: limits.max_future_days moves the window (a date 4 years ahead waits)") {
  H2rEnvOptions options;
  options.extra_config = "limits: { max_future_days: 3000 }\n";
  H2rEnv env(options);
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  apply(env, "term.json", event_json("evt-2", "terminate", {{"employee_id", "E1001"}}, date_in_days(4 * 366)));
  CHECK(state_of(env, "evt-2") == "waiting");
  CHECK(the_user(env, "jill.chill@example.com")["active"] == true);
}

TEST_CASE("e2e hardening: plan of a 9999-12-31 date says it is out of range instead of printing 1816") {
  H2rEnv env;
  const auto file = env.dir().write("far.json", event_json("evt-1", "terminate", {{"employee_id", "E1"}}, "9999-12-31"));
  auto plan = env.h2rd({"plan", file.string()});
  CHECK(plan.exit_code == 1);
  CHECK(contains(plan.err, "field 'effective_date': '9999-12-31' is after 2199-12-31, the latest date h2r accepts"));
  CHECK_FALSE(contains(plan.out + plan.err, "1816"));

  const std::string ahead = date_in_days(2000);
  const auto file2 = env.dir().write("ahead.json", event_json("evt-2", "terminate", {{"employee_id", "E1"}}, ahead));
  plan = env.h2rd({"plan", file2.string()});
  CHECK(plan.exit_code == 1);
  CHECK(contains(plan.err, "'" + ahead + "' is "));
  CHECK(contains(plan.err, "more than 1095 days ahead"));
}

TEST_CASE("e2e hardening: a 4 MB displayName is not sent, the event fails naming the attribute and its length") {
  H2rEnvOptions options;
  std::string repeated;
  for (int i = 0; i < 1024; ++i) repeated += "{nickname}";
  options.rules = spec_rules_with("");
  const std::string line = "  displayName: \"{first_name} {last_name}\"\n";
  options.rules.replace(options.rules.find(line), line.size(), "  displayName: \"" + repeated + "\"\n");
  H2rEnv env(options);
  auto jill = employee("E1001", "Jill", "Chill");
  jill["nickname"] = std::string(4096, 'n');
  apply(env, "hire.json", event_json("evt-1", "hire", jill), 1);   // a failed event: exit 1
  CHECK(state_of(env, "evt-1") == "failed");
  const std::string reason = event_named(env, "evt-1")["reason"].get<std::string>();
  CHECK(contains(reason, "attribute displayName would be 4194304 characters, above its limit of 128"));
  CHECK(sim_count(env, "POST /Users") == 0);
  CHECK(env.sim_users_named("jill.chill@example.com").empty());
}

TEST_CASE("e2e hardening: http:// to another host needs --allow-insecure-http, loopback http does not") {
  H2rEnv env;   // its connection uses zoom-sim over http://127.0.0.1: allowed without the flag
  auto& sim = env.sim();
  const std::vector<std::string> base = {"connection", "add", "remote", "--account-id", "a", "--client-id", "c",
                                         "--client-secret-stdin", "--api-url", sim.api_url()};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return env.h2rd(args, "s3cret\n");
  };
  auto refused = with({"--oauth-url", "http://10.9.8.7/oauth/token"});
  CHECK(refused.exit_code == 2);
  CHECK(contains(refused.err, "--oauth-url: 'http://10.9.8.7/oauth/token' is http:// to 10.9.8.7, not this machine"));
  CHECK(contains(refused.err, "--allow-insecure-http"));
  CHECK_FALSE(contains(refused.err, "s3cret"));
  CHECK(env.h2rd({"connection", "show", "remote"}).exit_code == 1);   // not stored

  auto allowed = with({"--oauth-url", "http://10.9.8.7/oauth/token", "--allow-insecure-http"});
  CHECK_MESSAGE(allowed.exit_code == 0, allowed.err);
  CHECK(env.h2rd_json({"connection", "show", "remote"})["allow_insecure_http"] == true);
  // The stored choice stays with the connection through an update that does not repeat the flag.
  auto updated = env.h2rd({"connection", "update", "remote", "--api-url", "http://zoom.example.test/scim2"});
  CHECK_MESSAGE(updated.exit_code == 0, updated.err);
  // --deny-insecure-http takes the choice back: refused while a URL still needs it, kept after.
  auto still_remote = env.h2rd({"connection", "update", "remote", "--deny-insecure-http"});
  CHECK(still_remote.exit_code == 2);
  CHECK(contains(still_remote.err, "is http:// to"));
  CHECK(env.h2rd_json({"connection", "show", "remote"})["allow_insecure_http"] == true);
  CHECK(env.h2rd({"connection", "update", "remote", "--deny-insecure-http", "--allow-insecure-http"}).exit_code == 2);
  auto denied = env.h2rd({"connection", "update", "remote", "--deny-insecure-http", "--oauth-url", sim.oauth_url(),
                          "--api-url", sim.api_url()});
  CHECK_MESSAGE(denied.exit_code == 0, denied.err);
  CHECK_FALSE(env.h2rd_json({"connection", "show", "remote"}).contains("allow_insecure_http"));
  CHECK(env.h2rd({"connection", "update", "remote", "--api-url", "http://zoom.example.test/scim2"}).exit_code == 2);

  // A connection without the flag cannot be moved to a remote http:// URL.
  auto moved = env.h2rd({"connection", "update", "zoom-main", "--api-url", "http://zoom.example.test/scim2"});
  CHECK(moved.exit_code == 2);
  CHECK(contains(moved.err, "--api-url: 'http://zoom.example.test/scim2' is http:// to zoom.example.test"));
  CHECK(env.h2rd_json({"connection", "show", "zoom-main"})["api_url"] == sim.api_url());
}

TEST_CASE("e2e hardening: a non-loopback listen is refused by check and run unless listen_allow_remote is set") {
  H2rEnvOptions options;
  options.add_connection = false;
  options.extra_config = "listen: \"0.0.0.0:0\"\n";
  // The env writes `listen: ""` itself; a second listen key would be a duplicate: replace it instead.
  H2rEnv env(options);
  std::string config = file_text(env.config_path());
  config.replace(config.find("listen: \"\"\n"), std::string("listen: \"\"\n").size(), "");
  std::ofstream(env.config_path(), std::ios::trunc) << config;

  auto check = env.h2rd({"check"});
  CHECK(check.exit_code == 78);
  CHECK(contains(check.out + check.err, "listen '0.0.0.0:0' is not a loopback address"));
  CHECK(contains(check.out + check.err, "listen_allow_remote: true"));
  CHECK(env.run_once().exit_code == 78);

  std::ofstream(env.config_path(), std::ios::app) << "listen_allow_remote: true\n";
  check = env.h2rd({"check"});
  CHECK_MESSAGE(check.exit_code == 0, (check.out + check.err));
}

TEST_CASE("e2e hardening: a lost key file stops h2rd with exit 78 and recovery steps, and is not recreated") {
  H2rEnv env;
  const fs::path key = env.dir().path() / "state" / "secret.key";
  REQUIRE(fs::exists(key));
  fs::remove(key);

  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"run", "--once"}, std::vector<std::string>{"connection", "test", "zoom-main"},
        std::vector<std::string>{"connection", "add", "other", "--account-id", "a", "--client-id", "c",
                                 "--client-secret-stdin"}}) {
    CAPTURE(command.front());
    auto r = env.h2rd(command, "secret\n");
    CHECK(r.exit_code == 78);
    CHECK(contains(r.err, "the key file " + key.string() + " is missing"));
    CHECK(contains(r.err, "holds client secrets sealed with it (connections: zoom-main)"));
    CHECK(contains(r.err, "restore the key file from your backup"));
    CHECK(contains(r.err, "connection update zoom-main --client-secret-stdin"));
    CHECK_FALSE(fs::exists(key));
  }

  // The way out when the key is gone for good: re-seal each secret, which makes a new key.
  auto update = env.h2rd({"connection", "update", "zoom-main", "--client-secret-stdin"}, env.sim().secret().reveal() + "\n");
  CHECK_MESSAGE(update.exit_code == 0, update.err);
  CHECK(fs::exists(key));
  auto test = env.h2rd({"connection", "test", "zoom-main"});
  CHECK_MESSAGE(test.exit_code == 0, test.err);
}

// An operator of the service's group runs status and events without sudo, and the key file stays
// readable by its owner only (docs/operations.md, "Operators"): those commands never read it. Shown here
// with the key gone, which makes every command that opens it refuse.
TEST_CASE("e2e hardening: status, events, plan --rules, resync and connection list/show run without the key file, and make none") {
  H2rEnv env;
  env.drop("hire.json", event_json("k-1", "hire", employee("E1", "Kai", "Lee")));
  REQUIRE(env.run_once().exit_code == 0);
  const fs::path key = env.dir().path() / "state" / "secret.key";
  REQUIRE(fs::exists(key));
  fs::remove(key);

  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"status"}, std::vector<std::string>{"events", "list"},
        std::vector<std::string>{"events", "show", "k-1"},
        std::vector<std::string>{"plan", "--rules", env.rules_path()}, std::vector<std::string>{"resync"},
        std::vector<std::string>{"connection", "list"}, std::vector<std::string>{"connection", "show", "zoom-main"}}) {
    CAPTURE(command);
    auto r = env.h2rd(command);
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK_FALSE(contains(r.err, "key file"));
    CHECK_FALSE(fs::exists(key));
  }
  auto run = env.run_once();
  CHECK(run.exit_code == 78);
  CHECK(contains(run.err, "the key file " + key.string() + " is missing"));
}

TEST_CASE("e2e hardening: a rejected file with a 255-byte name gets a report that fits") {
  H2rEnv env;
  const std::string name = std::string(250, 'r') + ".json";
  const fs::path inbox = env.inbox();
  std::ofstream(inbox / ".incoming", std::ios::binary) << "{ not json";
  fs::rename(inbox / ".incoming", inbox / name);
  auto run = env.run_once();
  CHECK(run.exit_code == 0);
  CHECK_FALSE(contains(run.err, "File name too long"));
  REQUIRE(fs::exists(inbox / "rejected" / name));
  int reports = 0;
  for (const auto& entry : fs::directory_iterator(inbox / "rejected")) {
    const std::string file = entry.path().filename().string();
    if (!file.ends_with(".error.txt")) continue;
    ++reports;
    CHECK(file.size() == 255);
    CHECK(file.starts_with(std::string(200, 'r')));
    CHECK(contains(file_text(entry.path()), "file: " + name + "\n"));
  }
  CHECK(reports == 1);
}

TEST_CASE("e2e hardening: --rate-limit outside 0.1..10000 requests per second is refused") {
  H2rEnv env;
  for (const char* rate : {"1e-10", "0.01", "0", "-1", "10001", "nan", "inf"}) {
    CAPTURE(rate);
    auto r = env.h2rd({"connection", "update", "zoom-main", "--rate-limit", rate});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "is not a number of requests per second from 0.1 to 10000"));
  }
  CHECK(env.h2rd({"connection", "update", "zoom-main", "--rate-limit", "0.1"}).exit_code == 0);
  CHECK(env.h2rd_json({"connection", "show", "zoom-main"})["rate_limit"] == 0.1);
}
