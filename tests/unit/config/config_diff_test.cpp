// What a reload of h2rd.yaml changes: the live / restart split, computed from two loaded configs.
#include "config/config_diff.hpp"
#include "core/time.hpp"
#include "config/config_lenient.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace h2r;
using namespace std::chrono_literals;

namespace {

Config load(test::TempDir& dir, const std::string& text) {
  auto config = load_config(dir.write("h2rd.yaml", text).string());
  REQUIRE_MESSAGE(config.has_value(), (config ? "" : config.error().front().to_string()));
  return *config;
}

const ConfigChange* find(const std::vector<ConfigChange>& changes, const std::string& key) {
  auto it = std::find_if(changes.begin(), changes.end(), [&](const ConfigChange& c) { return c.key == key; });
  return it == changes.end() ? nullptr : &*it;
}

} // namespace

TEST_CASE("config diff: the same file changes nothing") {
  test::TempDir dir;
  const std::string text = "scheduler: { interval: 2s, workers: 3 }\nretry: { base: 5s }\n";
  CHECK(diff_config(load(dir, text), load(dir, text)).empty());
}

TEST_CASE("config diff: live keys are named with old and new values, as the file writes them") {
  test::TempDir dir;
  Config running = load(dir, "scheduler: { interval: 30s, workers: 4 }\nretry: { base: 30s, max: 6h, max_attempts: 12 }\n");
  Config loaded = load(dir, "scheduler: { interval: 1500ms, workers: 8 }\nretry: { base: 2s, max: 1d, max_attempts: 3 }\n"
                            "limits: { max_future_days: 10, max_file_bytes: 1MiB }\nretention: { days: 7 }\n"
                            "log: { level: debug, format: json }\ntimezone: Europe/Paris\n"
                            "breaker: { window: 50, failure_ratio: \"0.25\", min_calls: 5, cooldown: 1s, max_cooldown: 1m }\n"
                            "notify: { webhook: \"https://hooks.example.com/services/SECRET-TOKEN\" }\n");
  auto changes = diff_config(running, loaded);
  for (const char* key : {"scheduler.interval", "scheduler.workers", "retry.base", "retry.max", "retry.max_attempts",
                          "limits.max_future_days", "limits.max_file_bytes", "retention.days", "log.level",
                          "log.format", "timezone", "breaker.window", "breaker.failure_ratio", "breaker.min_calls",
                          "breaker.cooldown", "breaker.max_cooldown", "notify.webhook"}) {
    CAPTURE(key);
    const ConfigChange* c = find(changes, key);
    REQUIRE(c != nullptr);
    CHECK(c->live);
    CHECK(is_live_key(key));
  }
  CHECK(changes.size() == 17);
  CHECK(find(changes, "scheduler.workers")->before == "4");
  CHECK(find(changes, "scheduler.workers")->after == "8");
  CHECK(find(changes, "scheduler.interval")->after == "1500ms");
  CHECK(find(changes, "retry.base")->before == "30s");
  CHECK(find(changes, "retry.base")->after == "2s");
  CHECK(find(changes, "retry.max")->after == "1d");
  // A webhook's path is often its secret: only the origin is ever shown.
  CHECK(find(changes, "notify.webhook")->before == "");
  CHECK(find(changes, "notify.webhook")->after == "https://hooks.example.com");
}

TEST_CASE("config diff: a webhook whose token alone changes is a change, shown without the token") {
  test::TempDir dir;
  Config a = load(dir, "notify: { webhook: \"https://hooks.example.com/a/OLD\" }\n");
  Config b = load(dir, "notify: { webhook: \"https://hooks.example.com/a/NEW\" }\n");
  auto changes = diff_config(a, b);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].before == changes[0].after);
  CHECK(changes[0].after.find("NEW") == std::string::npos);
  CHECK(live_values(b).dump().find("NEW") == std::string::npos);
}

TEST_CASE("config diff: paths and the listen address need a restart") {
  test::TempDir dir;
  Config running = load(dir, "database: a.db\ninbox: in\nrules: r.yaml\nsecret_key_file: k\nlisten: \"127.0.0.1:9000\"\n");
  Config loaded = load(dir, "database: b.db\ninbox: in2\nrules: r2.yaml\nsecret_key_file: k2\n"
                            "listen: \"0.0.0.0:9001\"\nlisten_allow_remote: true\n");
  auto changes = diff_config(running, loaded);
  CHECK(changes.size() == 7);   // console.tokens follows the database (<database>.console-tokens)
  for (const char* key : {"database", "inbox", "rules", "secret_key_file", "listen", "listen_allow_remote",
                          "console.tokens"}) {
    CAPTURE(key);
    const ConfigChange* c = find(changes, key);
    REQUIRE(c != nullptr);
    CHECK_FALSE(c->live);
    CHECK_FALSE(is_live_key(key));
  }
  CHECK(find(changes, "database")->after == (dir.path() / "b.db").string());
}

TEST_CASE("config diff: adopting live keys leaves the restart-only keys at their running values") {
  test::TempDir dir;
  Config running = load(dir, "inbox: in\nscheduler: { workers: 2 }\nretry: { base: 30s }\nbreaker: { cooldown: 5s }\n");
  Config loaded = load(dir, "inbox: other\nscheduler: { workers: 9 }\nretry: { base: 250ms }\nbreaker: { cooldown: 2s }\n");
  adopt_live_keys(running, loaded);
  CHECK(running.workers == 9);
  CHECK(running.retry_base == 250ms);
  CHECK(running.breaker.cooldown == 2s);
  CHECK(running.inbox == (dir.path() / "in").string());
  // Only the restart-only key is left different.
  auto left = diff_config(running, loaded);
  REQUIRE(left.size() == 1);
  CHECK(left[0].key == "inbox");
  CHECK_FALSE(left[0].live);
}

TEST_CASE("config diff: live values name every live key and no restart-only key") {
  test::TempDir dir;
  auto values = live_values(load(dir, "scheduler: { workers: 5 }\nretry: { base: 90s }\n"));
  CHECK(values["scheduler.workers"] == 5);
  CHECK(values["retry.base"] == "90s");
  CHECK(values["scheduler.interval"] == "30s");
  CHECK(values["breaker.failure_ratio"] == 0.5);
  CHECK_FALSE(values.contains("database"));
  CHECK_FALSE(values.contains("inbox"));
}

TEST_CASE("config diff: durations are written in the largest exact unit") {
  CHECK(format_duration(500ms) == "500ms");
  CHECK(format_duration(1500ms) == "1500ms");
  CHECK(format_duration(30s) == "30s");
  CHECK(format_duration(120s) == "2m");
  CHECK(format_duration(6h) == "6h");
  CHECK(format_duration(48h) == "2d");
  CHECK(format_duration(0ms) == "0ms");
}

TEST_CASE("config: a lenient read keeps the valid keys of a file with errors and reports every problem") {
  test::TempDir dir;
  const std::string path = dir.write("h2rd.yaml", "database: state/x.db\nscheduler: { workers: 0 }\nretry: { base: 5s }\n").string();
  CHECK_FALSE(load_config(path).has_value());
  Diagnostics problems;
  auto config = load_config_lenient(path, problems);
  REQUIRE(config.has_value());
  CHECK(has_errors(problems));
  CHECK(problems.front().to_string().find("h2rd.yaml:2:") != std::string::npos);
  CHECK(config->database == (dir.path() / "state" / "x.db").string());
  CHECK(config->retry_base == 5s);
  CHECK(config->workers == 4);   // the invalid value: left at its default
  // Not YAML at all, or no file: nothing to go on.
  Diagnostics broken;
  CHECK_FALSE(load_config_lenient(dir.write("bad.yaml", "a: [1,\n").string(), broken).has_value());
  CHECK(has_errors(broken));
  Diagnostics missing;
  CHECK_FALSE(load_config_lenient((dir.path() / "none.yaml").string(), missing).has_value());
}

TEST_CASE("config diff: scheduler.claim_lease needs a restart") {
  test::TempDir dir;
  Config running = load(dir, "scheduler: { claim_lease: 2m }\n");
  Config loaded = load(dir, "scheduler: { claim_lease: 5m }\n");
  auto changes = diff_config(running, loaded);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].key == "scheduler.claim_lease");
  CHECK(changes[0].before == "2m");
  CHECK(changes[0].after == "5m");
  CHECK_FALSE(changes[0].live);
  CHECK_FALSE(is_live_key("scheduler.claim_lease"));
}

// Issue 30: the engine's FiberPool is made once, at the first cycle with work.
TEST_CASE("config diff: scheduler.threads needs a restart") {
  test::TempDir dir;
  auto changes = diff_config(load(dir, "scheduler: { threads: 8 }\n"), load(dir, "scheduler: { threads: 4 }\n"));
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].key == "scheduler.threads");
  CHECK(changes[0].before == "8");
  CHECK(changes[0].after == "4");
  CHECK_FALSE(changes[0].live);
  CHECK_FALSE(is_live_key("scheduler.threads"));
}

// Issue 30: every store is opened with the budget at start (store/sqlite/sqlite_store.hpp).
TEST_CASE("config diff: limits.database_cache needs a restart") {
  test::TempDir dir;
  Config running = load(dir, "limits: { database_cache: 16MiB }\n");
  Config loaded = load(dir, "limits: { database_cache: 32MiB }\n");
  auto changes = diff_config(running, loaded);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].key == "limits.database_cache");
  CHECK(changes[0].before == std::to_string(16 << 20));
  CHECK(changes[0].after == std::to_string(32 << 20));
  CHECK_FALSE(changes[0].live);
  CHECK_FALSE(is_live_key("limits.database_cache"));
}

// Issue 28: how the inbox reads dates is fixed while it runs, like its folder.
TEST_CASE("config diff: inbox.date_order and inbox.excel_serial_dates need a restart") {
  test::TempDir dir;
  Config running = load(dir, "inbox: inbox\n");
  Config loaded = load(dir, "inbox: { path: inbox, date_order: MDY, excel_serial_dates: true }\n");
  auto changes = diff_config(running, loaded);
  REQUIRE(changes.size() == 2);
  const ConfigChange* order = find(changes, "inbox.date_order");
  REQUIRE(order);
  CHECK(order->before == "ISO");
  CHECK(order->after == "MDY");
  CHECK_FALSE(order->live);
  const ConfigChange* serials = find(changes, "inbox.excel_serial_dates");
  REQUIRE(serials);
  CHECK(serials->before == "false");
  CHECK(serials->after == "true");
  CHECK_FALSE(serials->live);
  adopt_live_keys(running, loaded);
  CHECK(running.inbox_dates == DateReading{});
}
