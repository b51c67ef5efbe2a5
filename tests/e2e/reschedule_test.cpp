// Issue 28: "Config edits do not reschedule. After a reload that changes `timezone` or `lead_days`,
// waiting events keep their old due times while `plan` shows the new ones." A real daemon (SIGHUP after
// editing rules.yaml, then h2rd.yaml) and `h2rd run --once` twice, on SQLite and on PostgreSQL; the due
// time is read back through `h2rd events list --json`.
#include "core/clock.hpp"
#include "core/time.hpp"
#include "support/eventually.hpp"
#include "support/h2r_env.hpp"
#include "support/scratch_pg.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <csignal>
#include <fstream>
#include <sstream>

using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

constexpr auto k_wait = 30s;   // generous bound for the daemon to act; not a speed claim

std::string rules_with_lead_days(int days) {
  return std::string(k_spec_rules) + "lifecycle:\n  hire: { lead_days: " + std::to_string(days) + " }\n";
}

// A start date 40 days from now (the daemon runs on the real clock): waiting under any lead days used here.
std::string start_date() { return date_in_days(40); }

// The due time ingest gives a hire starting on `date` in `zone` with `lead_days`, as events list shows it.
std::string due_of(const std::string& date, const std::string& zone, int lead_days) {
  return h2r::format_utc(h2r::minus_days_in_zone(*h2r::parse_effective_date(date, zone), lead_days, zone));
}

nlohmann::json event_named(const H2rEnv& env, const std::string& event_id) {
  for (const auto& e : env.events())
    if (e["event_id"] == event_id) return e;
  return nullptr;
}

void rewrite(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

std::string read(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

// The case on the daemon: a hire waiting under lead_days 14; lead_days 3 and SIGHUP move its due
// time later, timezone Europe/Berlin and SIGHUP an hour earlier, each logged once with its counts.
void daemon_reschedules_on_reload(H2rEnvOptions options) {
  options.rules = rules_with_lead_days(14);
  H2rEnv env(options);
  ChildProcess daemon({h2rd_path(), "-c", env.config_path(), "run"});
  REQUIRE(daemon.wait_for_err("daemon.started", k_wait));
  const std::string date = start_date();
  env.drop("a.json", event_json("evt-hire", "hire", employee("E1", "Ann", "Alpha"), date));
  REQUIRE(eventually([&] { auto e = event_named(env, "evt-hire"); return !e.is_null() && e["state"] == "waiting"; }));
  CHECK(event_named(env, "evt-hire")["due"] == due_of(date, "UTC", 14));

  rewrite(env.rules_path(), rules_with_lead_days(3));
  daemon.send_signal(SIGHUP);
  CHECK(daemon.wait_for_err("reload.rescheduled events=1 earlier=0 later=1 due_now=0", k_wait));
  CHECK(event_named(env, "evt-hire")["due"] == due_of(date, "UTC", 3));

  std::string config = read(env.config_path());
  const auto zone = config.find("timezone: UTC");
  REQUIRE(zone != std::string::npos);
  rewrite(env.config_path(), config.replace(zone, 13, "timezone: Europe/Berlin"));
  daemon.send_signal(SIGHUP);
  CHECK(daemon.wait_for_err("reload.rescheduled events=1 earlier=1 later=0 due_now=0", k_wait));
  const auto hire = event_named(env, "evt-hire");
  CHECK(hire["due"] == due_of(date, "Europe/Berlin", 3));
  CHECK(hire["state"] == "waiting");
  CHECK(daemon.stop() == 0);
  // Once per change (a rules edit is also seen by the file watcher: it finds the settings already applied).
  const std::string log = daemon.err();
  int lines = 0;
  for (auto at = log.find("reload.rescheduled"); at != std::string::npos; at = log.find("reload.rescheduled", at + 1)) ++lines;
  CHECK(lines == 2);
}

} // namespace

TEST_CASE("e2e reschedule: a reload that changes lead_days or timezone moves a waiting hire's due time" *
          doctest::test_suite("threads")) {
  daemon_reschedules_on_reload({});
}

TEST_CASE("pg reschedule: a reload that changes lead_days or timezone moves a waiting hire's due time" *
          doctest::test_suite("threads")) {
  H2R_SKIP_UNLESS_PG();
  ScratchDatabase db;
  H2rEnvOptions options;
  options.database = db.url();
  daemon_reschedules_on_reload(options);
}

TEST_CASE("e2e reschedule: run --once after a lead_days edit moves the hire an earlier run --once left waiting") {
  H2rEnvOptions options;
  options.rules = rules_with_lead_days(14);
  H2rEnv env(options);
  const std::string date = start_date();
  env.drop("a.json", event_json("evt-hire", "hire", employee("E1", "Ann", "Alpha"), date));
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(event_named(env, "evt-hire")["due"] == due_of(date, "UTC", 14));

  rewrite(env.rules_path(), rules_with_lead_days(3));
  const auto second = env.run_once();
  CHECK(second.exit_code == 0);
  CHECK(second.err.find("reload.rescheduled events=1 earlier=0 later=1 due_now=0") != std::string::npos);
  CHECK(event_named(env, "evt-hire")["due"] == due_of(date, "UTC", 3));
  CHECK(event_named(env, "evt-hire")["state"] == "waiting");
}

// Waiting events timed under other zone rules (the tzdata release in the stored settings is not this
// process's): the first run under the new rules gives them the due times those make, once.
TEST_CASE("e2e reschedule: run --once under another tzdata release than the waiting events were timed with retimes them") {
  H2rEnvOptions options;
  options.timezone = "America/New_York";
  H2rEnv env(options);
  const std::string date = start_date();
  env.drop("a.json", event_json("evt-hire", "hire", employee("E1", "Ann", "Alpha"), date));
  REQUIRE(env.run_once().exit_code == 0);
  const std::string due = due_of(date, "America/New_York", 0);
  REQUIRE(event_named(env, "evt-hire")["due"] == due);

  // As an older tzdata would have left them: the zone an hour off, and its release in the settings.
  const std::string old_settings = "timezone=America/New_York lead_days=0 tzdata=2000a";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(env.database().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  const std::string sql = "UPDATE events SET due_at_ms = due_at_ms - 3600000, effective_at_ms = effective_at_ms - "
                          "3600000 WHERE event_id = 'evt-hire'; UPDATE meta SET value = '" + old_settings +
                          "' WHERE key = 'schedule.settings';";
  CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(sqlite3_changes(db) == 1);
  sqlite3_close(db);
  REQUIRE(event_named(env, "evt-hire")["due"] != due);

  const auto second = env.run_once();
  CHECK(second.exit_code == 0);
  CHECK(second.err.find("reload.rescheduled events=1 earlier=0 later=1 due_now=0") != std::string::npos);
  CHECK(second.err.find("tzdata=" + h2r::time_zone_rules_version() + "\" was=\"" + old_settings + "\"") !=
        std::string::npos);
  CHECK(event_named(env, "evt-hire")["due"] == due);
  // Once: the settings now name this release.
  const auto third = env.run_once();
  CHECK(third.err.find("reload.rescheduled") == std::string::npos);
}
