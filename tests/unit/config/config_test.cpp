#include "config/config.hpp"
#include "yaml/yaml_reader.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sched.h>

namespace fs = std::filesystem;
using namespace h2r;
using namespace std::chrono_literals;

namespace {

// A temporary folder removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "h2r-config-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

std::string all_messages(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

// Each (h2rd.yaml text, message) is refused with that message among its diagnostics.
void check_refused(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& cases) {
  for (const auto& [yaml_text, message] : cases) {
    CAPTURE(yaml_text);
    auto config = load_config(dir.write("h2rd.yaml", yaml_text));
    REQUIRE_FALSE(config);
    CHECK(all_messages(config.error()).find(message) != std::string::npos);
  }
}

} // namespace

TEST_CASE("config: an empty file gives every default, paths beside the config") {
  TempDir dir;
  const auto path = dir.write("h2rd.yaml", "");
  auto config = load_config(path);
  REQUIRE_MESSAGE(config, all_messages(config ? Diagnostics{} : config.error()));
  const fs::path folder = fs::path(path).parent_path();
  CHECK(config->path == path);
  CHECK(config->database == (folder / "h2r.db").string());
  CHECK(config->inbox == (folder / "inbox").string());
  CHECK(config->rules == (folder / "rules.yaml").string());
  CHECK(config->secret_key_file == (folder / "secret.key").string());
  CHECK(config->timezone == "UTC");
  CHECK(config->scheduler_interval == 30s);
  CHECK(config->claim_lease == 2min);
  CHECK(config->workers == 4);
  CHECK(config->max_connection_workers == 64);
  CHECK(config->threads == default_threads(config->database));
  CHECK(config->listen == "127.0.0.1:9464");
  CHECK(config->log_level == "info");
  CHECK(config->log_format == "text");
  CHECK(config->max_file_bytes == 64ull << 20);
  CHECK(config->database_cache == 16ull << 20);
  CHECK(config->max_future_days == 1095);
  CHECK(!config->listen_allow_remote);
  CHECK(config->retention_days == 30);
  CHECK(config->max_attempts == 12);
  CHECK(config->retry_base == 30s);
  CHECK(config->retry_max == 6h);
  CHECK(config->notify_webhook.empty());
}

TEST_CASE("config: every key is read, relative paths are taken from the config's folder") {
  TempDir dir;
  const auto path = dir.write("h2rd.yaml", R"(database: data/h2r.db
inbox: /srv/inbox
rules: ../rules.yaml
secret_key_file: ./keys/secret.key
timezone: America/New_York
scheduler: { interval: 500ms, workers: 64, max_connection_workers: 1024, threads: 3, claim_lease: 45s }
listen: ""
log: { level: debug, format: json }
limits: { max_file_bytes: 1GiB, max_future_days: 30, database_cache: 48MiB }
retention: { days: 7 }
retry: { max_attempts: 3, base: 2m, max: 1h30m }
notify: { webhook: "https://hooks.example.com/h2r" }
)");
  auto config = load_config(path);
  REQUIRE_MESSAGE(config, all_messages(config ? Diagnostics{} : config.error()));
  const fs::path folder = fs::path(path).parent_path();
  CHECK(config->database == (folder / "data/h2r.db").string());
  CHECK(config->inbox == "/srv/inbox");
  CHECK(config->rules == (folder.parent_path() / "rules.yaml").string());
  CHECK(config->secret_key_file == (folder / "keys/secret.key").string());
  CHECK(config->timezone == "America/New_York");
  CHECK(config->scheduler_interval == 500ms);
  CHECK(config->claim_lease == 45s);
  CHECK(config->workers == 64);
  CHECK(config->max_connection_workers == 1024);
  CHECK(config->threads == 3);
  CHECK(config->listen.empty());
  CHECK(config->log_level == "debug");
  CHECK(config->log_format == "json");
  CHECK(config->max_file_bytes == 1ull << 30);
  CHECK(config->database_cache == 48ull << 20);
  CHECK(config->max_future_days == 30);
  CHECK(config->retention_days == 7);
  CHECK(config->max_attempts == 3);
  CHECK(config->retry_base == 2min);
  CHECK(config->retry_max == 90min);
  CHECK(config->notify_webhook == "https://hooks.example.com/h2r");
}

TEST_CASE("config: each problem is reported at its line and column with what would be right") {
  struct Case {
    const char* yaml;
    int line;
    int column;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"database: a\nbogus: 1\n", 2, 1, "unknown key 'bogus' in the config file (allowed: database, inbox"},
      {"timezone: Mars/Olympus\n", 1, 11, "timezone 'Mars/Olympus' is not a known IANA time zone"},
      {"scheduler:\n  workers: 0\n", 2, 12, "scheduler.workers must be an integer from 1 to 64, got 0"},
      {"scheduler:\n  workers: 65\n", 2, 12, "from 1 to 64, got 65"},
      {"scheduler:\n  workers: many\n", 2, 12, "scheduler.workers must be an integer from 1 to 64, got 'many'"},
      {"scheduler: { interval: 30 }\n", 1, 24, "scheduler.interval must be a duration such as 500ms, 30s"},
      {"scheduler: { interval: 0s }\n", 1, 24, "scheduler.interval must be longer than 0"},
      {"scheduler: { every: 1s }\n", 1, 14,
       "unknown key 'every' in scheduler (allowed: interval, workers, max_connection_workers, threads or claim_lease)"},
      {"scheduler: { claim_lease: 9s }\n", 1, 27, "scheduler.claim_lease must be at least 10s and at most 24h"},
      {"scheduler: { claim_lease: 25h }\n", 1, 27, "scheduler.claim_lease must be at least 10s and at most 24h"},
      {"scheduler: { claim_lease: soon }\n", 1, 27, "scheduler.claim_lease must be a duration"},
      {"scheduler:\n  max_connection_workers: 0\n", 2, 27,
       "scheduler.max_connection_workers must be an integer from 1 to 1024, got 0"},
      {"scheduler:\n  max_connection_workers: 1025\n", 2, 27, "from 1 to 1024, got 1025"},
      {"scheduler: 30s\n", 1, 12, "scheduler must be a map, got '30s'"},
      {"scheduler: { threads: 0 }\n", 1, 23, "scheduler.threads must be an integer from 1 to 64, got 0"},
      {"scheduler: { threads: 65 }\n", 1, 23, "scheduler.threads must be an integer from 1 to 64, got 65"},
      {"log: { level: verbose }\n", 1, 15, "log.level must be trace, debug, info, warning, warn, error, critical or off"},
      {"log: { format: xml }\n", 1, 16, "log.format must be text or json, got 'xml'"},
      {"listen: localhost\n", 1, 9, "listen must be host:port (e.g. 127.0.0.1:9464) or \"\""},
      {"listen: \"127.0.0.1:99999\"\n", 1, 9, "listen must be host:port"},
      {"listen: [a]\n", 1, 9, "listen must be a text value, got a list"},
      {"database: \"\"\n", 1, 11, "database must not be empty"},
      {"limits: { max_file_bytes: 12XB }\n", 1, 27, "limits.max_file_bytes must be a size such as"},
      {"limits: { database_cache: 512KiB }\n", 1, 27, "limits.database_cache must be from 1MiB to 16GiB"},
      {"limits: { database_cache: 17GiB }\n", 1, 27, "limits.database_cache must be from 1MiB to 16GiB"},
      {"limits: { database_cache: lots }\n", 1, 27, "limits.database_cache must be a size such as"},
      {"retention: { days: -1 }\n", 1, 20, "retention.days must be an integer from 0 to 36500"},
      {"retry: { base: 1m, max: 10s }\n", 1, 25, "retry.max must be at least retry.base"},
      {"retry: { max: 31d }\n", 1, 15, "retry.max must be at most 30d"},
      {"retry: { base: 2d }\n", 1, 16, "retry.base must be longer than 0 and at most 1d"},
      {"scheduler: { interval: 9007199254740s }\n", 1, 24, "scheduler.interval must be longer than 0 and at most 1d"},
      {"limits: { max_future_days: 0 }\n", 1, 28, "limits.max_future_days must be an integer from 1 to 36500"},
      {"limits: { max_future_days: 36501 }\n", 1, 28, "limits.max_future_days must be an integer from 1 to 36500"},
      {"listen: \"0.0.0.0:9464\"\n", 1, 9, "listen '0.0.0.0:9464' is not a loopback address"},
      {"listen: \"[::]:9464\"\nlisten_allow_remote: false\n", 1, 9, "set `listen_allow_remote: true`"},
      {"listen_allow_remote: maybe\n", 1, 22, "listen_allow_remote must be"},
      {"retry: { max_attempts: 0 }\n", 1, 24, "retry.max_attempts must be an integer from 1 to 1000"},
      {"notify: { webhook: ftp://x }\n", 1, 20, "notify.webhook must be an http:// or https:// URL"},
      {"database: a\ndatabase: b\n", 2, 1, "duplicate key 'database' in the config file (first at line 1)"},
      {"database: [unclosed\n", 2, 1, "YAML syntax error"},
      {"- a\n- b\n", 1, 1, "the config file must be a map, got a list"},
  };
  TempDir dir;
  for (const auto& c : cases) {
    const std::string yaml_text = c.yaml;
    CAPTURE(yaml_text);
    const auto path = dir.write("h2rd.yaml", c.yaml);
    auto config = load_config(path);
    REQUIRE_FALSE(config);
    REQUIRE(config.error().size() == 1);
    const Diagnostic& d = config.error().front();
    CAPTURE(d.to_string());
    CHECK(d.file == path);
    CHECK(d.line == c.line);
    CHECK(d.column == c.column);
    CHECK(d.message.find(c.message) != std::string::npos);
    CHECK_FALSE(d.warning);
  }
}

TEST_CASE("config: all problems of one file are reported together") {
  TempDir dir;
  const auto path = dir.write("h2rd.yaml", R"(timezone: Nowhere/Land
scheduler:
  interval: soon
  workers: 100
log: { level: loud, format: text }
colour: blue
)");
  auto config = load_config(path);
  REQUIRE_FALSE(config);
  const auto& ds = config.error();
  REQUIRE(ds.size() == 5);
  std::vector<std::pair<int, int>> places;
  for (const auto& d : ds) places.emplace_back(d.line, d.column);
  const std::vector<std::pair<int, int>> expected = {{1, 11}, {3, 13}, {4, 12}, {5, 15}, {6, 1}};
  CHECK(places == expected);  // sorted by place
  CHECK(ds[4].message.find("unknown key 'colour'") != std::string::npos);
}

TEST_CASE("config: a missing file is one clear error naming it") {
  TempDir dir;
  const std::string path = (dir.path / "absent.yaml").string();
  auto config = load_config(path);
  REQUIRE_FALSE(config);
  REQUIRE(config.error().size() == 1);
  CHECK(config.error().front().file == path);
  CHECK(config.error().front().line == 0);
  CHECK(config.error().front().to_string().find("cannot read the config file: No such file or directory") !=
        std::string::npos);
}

TEST_CASE("config: listen accepts host:port forms") {
  TempDir dir;
  for (const char* listen : {"127.0.0.1:9464", "localhost:80", "[::1]:9464", "127.1.2.3:1"}) {
    CAPTURE(listen);
    auto config = load_config(dir.write("h2rd.yaml", std::string("listen: \"") + listen + "\"\n"));
    REQUIRE(config);
    CHECK(config->listen == listen);
  }
  for (const char* listen : {"0.0.0.0:0", "metrics.internal:65535", "[::]:9464", "10.0.0.5:9464"}) {
    CAPTURE(listen);
    auto config = load_config(dir.write("h2rd.yaml", std::string("listen: \"") + listen + "\"\nlisten_allow_remote: true\n"));
    REQUIRE(config);
    CHECK(config->listen == listen);
    CHECK(config->listen_allow_remote);
  }
  for (const char* listen : {":9464", "host:", "a b:1", "[::1:9464", "host:-1"}) {
    CAPTURE(listen);
    CHECK_FALSE(load_config(dir.write("h2rd.yaml", std::string("listen: \"") + listen + "\"\n")));
  }
}

TEST_CASE("config: default_config_path prefers the flag, then $H2R_CONFIG, then /etc") {
  const char* saved = std::getenv("H2R_CONFIG");
  const std::string saved_value = saved ? saved : "";
  ::setenv("H2R_CONFIG", "/tmp/from-env.yaml", 1);
  CHECK(default_config_path("/x/flag.yaml") == "/x/flag.yaml");
  CHECK(default_config_path("") == "/tmp/from-env.yaml");
  ::unsetenv("H2R_CONFIG");
  CHECK(default_config_path("") == "/etc/h2r/h2rd.yaml");
  if (saved) ::setenv("H2R_CONFIG", saved_value.c_str(), 1);
}

TEST_CASE("config: durations and sizes") {
  using yaml::parse_duration;
  using yaml::parse_size;
  CHECK(parse_duration("500ms") == std::optional(500ms));
  CHECK(parse_duration("30s") == std::optional(std::chrono::milliseconds(30s)));
  CHECK(parse_duration("2m") == std::optional(std::chrono::milliseconds(2min)));
  CHECK(parse_duration("1h") == std::optional(std::chrono::milliseconds(1h)));
  CHECK(parse_duration("1d") == std::optional(std::chrono::milliseconds(24h)));
  CHECK(parse_duration("1h30m") == std::optional(std::chrono::milliseconds(90min)));
  for (const char* bad : {"", "30", "s", "3x", "1.5s", "-1s", "99999999999999999999h", "1h "})
    CHECK_MESSAGE(!parse_duration(bad), bad);
  CHECK(parse_size("1048576") == std::optional<std::uint64_t>(1048576));
  CHECK(parse_size("512B") == std::optional<std::uint64_t>(512));
  CHECK(parse_size("64KiB") == std::optional<std::uint64_t>(64 * 1024));
  CHECK(parse_size("64MiB") == std::optional<std::uint64_t>(64ull << 20));
  CHECK(parse_size("1GiB") == std::optional<std::uint64_t>(1ull << 30));
  CHECK(parse_size("10MB") == std::optional<std::uint64_t>(10'000'000));
  for (const char* bad : {"", "MiB", "1 MiB", "1mib", "99999999999999GiB", "-1"})
    CHECK_MESSAGE(!parse_size(bad), bad);
}

TEST_CASE("config: the example config loads clean") {
  auto config = load_config(std::string(test::source_dir()) + "/config/h2rd.example.yaml");
  REQUIRE_MESSAGE(config, all_messages(config ? Diagnostics{} : config.error()));
  CHECK(config->workers == 4);
  CHECK(config->max_connection_workers == 64);
  CHECK(config->threads == default_threads(config->database));
  CHECK(config->listen == "127.0.0.1:9464");
}

TEST_CASE("config: breaker settings are read with their ranges, defaults otherwise") {
  TempDir dir;
  auto defaults = load_config(dir.write("h2rd.yaml", ""));
  REQUIRE(defaults);
  CHECK(defaults->breaker.window == 20);
  CHECK(defaults->breaker.failure_ratio == doctest::Approx(0.5));
  CHECK(defaults->breaker.min_calls == 10);
  CHECK(defaults->breaker.cooldown == 5s);
  CHECK(defaults->breaker.max_cooldown == 5min);

  auto set = load_config(dir.write("h2rd.yaml", "breaker: { window: 50, failure_ratio: 0.25, min_calls: 20, "
                                                "cooldown: 2s, max_cooldown: 10m }\n"));
  REQUIRE_MESSAGE(set, all_messages(set ? Diagnostics{} : set.error()));
  CHECK(set->breaker.window == 50);
  CHECK(set->breaker.failure_ratio == doctest::Approx(0.25));
  CHECK(set->breaker.min_calls == 20);
  CHECK(set->breaker.cooldown == 2s);
  CHECK(set->breaker.max_cooldown == 10min);

  // A small window without min_calls: min_calls follows it down.
  auto small = load_config(dir.write("h2rd.yaml", "breaker: { window: 4 }\n"));
  REQUIRE(small);
  CHECK(small->breaker.min_calls == 4);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"breaker: { window: 1 }\n", "breaker.window must be an integer from 2 to 1000"},
      {"breaker: { failure_ratio: 2 }\n", "breaker.failure_ratio must be a number from 0.05 to 1 (e.g. 0.5), got '2'"},
      {"breaker: { failure_ratio: half }\n", "breaker.failure_ratio must be a number from 0.05 to 1"},
      {"breaker: { window: 10, min_calls: 11 }\n", "breaker.min_calls must be at most breaker.window (10)"},
      {"breaker: { cooldown: 10ms }\n", "breaker.cooldown must be from 100ms to 1h"},
      {"breaker: { cooldown: 10s, max_cooldown: 5s }\n", "breaker.max_cooldown must be from breaker.cooldown to 24h"},
      {"breaker: { trips: 3 }\n", "unknown key 'trips' in breaker"},
  };
  check_refused(dir, bad);
}

TEST_CASE("config: zoom.call_deadline and zoom.max_answer_bytes are read with their ranges, defaults otherwise") {
  TempDir dir;
  auto defaults = load_config(dir.write("h2rd.yaml", ""));
  REQUIRE(defaults);
  CHECK(defaults->zoom_call_deadline == 30s);
  CHECK(defaults->zoom_max_answer_bytes == 8u << 20);
  auto set = load_config(dir.write("h2rd.yaml", "zoom: { call_deadline: 2s, max_answer_bytes: 1MiB }\n"));
  REQUIRE_MESSAGE(set, all_messages(set ? Diagnostics{} : set.error()));
  CHECK(set->zoom_call_deadline == 2s);
  CHECK(set->zoom_max_answer_bytes == 1u << 20);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"zoom: { call_deadline: 500ms }\n", "zoom.call_deadline must be from 1s to 10m"},
      {"zoom: { call_deadline: 1h }\n", "zoom.call_deadline must be from 1s to 10m"},
      {"zoom: { max_answer_bytes: 1KiB }\n", "zoom.max_answer_bytes must be from 64KiB to 1GiB"},
      {"zoom: { max_answer_bytes: 2GiB }\n", "zoom.max_answer_bytes must be from 64KiB to 1GiB"},
      {"zoom: { timeout: 3s }\n", "unknown key 'timeout' in zoom"},
  };
  check_refused(dir, bad);
}

// Issue 28: zoom.create_missing_groups — off by default, true for every connection, or a list of names.
TEST_CASE("config: zoom.create_missing_groups is false, true or a list of connection names") {
  TempDir dir;
  auto defaults = load_config(dir.write("h2rd.yaml", ""));
  REQUIRE(defaults);
  CHECK_FALSE(defaults->zoom_create_missing_groups_all);
  CHECK(defaults->zoom_create_missing_groups.empty());
  auto all = load_config(dir.write("h2rd.yaml", "zoom: { create_missing_groups: true }\n"));
  REQUIRE_MESSAGE(all, all_messages(all ? Diagnostics{} : all.error()));
  CHECK(all->zoom_create_missing_groups_all);
  auto named = load_config(dir.write("h2rd.yaml", "zoom: { create_missing_groups: [zoom-main, zoom-eu] }\n"));
  REQUIRE_MESSAGE(named, all_messages(named ? Diagnostics{} : named.error()));
  CHECK_FALSE(named->zoom_create_missing_groups_all);
  CHECK(named->zoom_create_missing_groups == std::vector<std::string>{"zoom-main", "zoom-eu"});
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"zoom: { create_missing_groups: maybe }\n",
       "zoom.create_missing_groups must be true, false or a list of connection names, got 'maybe'"},
      {"zoom: { create_missing_groups: { a: 1 } }\n",
       "zoom.create_missing_groups must be true, false or a list of connection names"},
      {"zoom: { create_missing_groups: [\"\"] }\n", "zoom.create_missing_groups[0] must not be empty"},
  };
  check_refused(dir, bad);
}

// Issue 28: log lines say "warning"; the config took only "warn". Both name the level now.
TEST_CASE("config: log.level is warning as log lines say it, or warn") {
  TempDir dir;
  for (const std::string level : {"warning", "warn"}) {
    CAPTURE(level);
    auto config = load_config(dir.write("h2rd.yaml", "log: { level: " + level + " }\n"));
    REQUIRE(config);
    CHECK(config->log_level == level);
    CHECK(spdlog::level::from_str(config->log_level) == spdlog::level::warn);
  }
}

// Issue 28: `inbox:` is a path, or a map that also says how the inbox reads spreadsheets' dates.
TEST_CASE("config: inbox is a path or a map with date_order and excel_serial_dates") {
  TempDir dir;
  auto plain = load_config(dir.write("h2rd.yaml", "inbox: drop\n"));
  REQUIRE(plain);
  CHECK(plain->inbox == (dir.path / "drop").string());
  CHECK(plain->inbox_dates == DateReading{});
  auto map = load_config(dir.write("h2rd.yaml", "inbox: { path: drop, date_order: MDY, excel_serial_dates: true }\n"));
  REQUIRE_MESSAGE(map, all_messages(map ? Diagnostics{} : map.error()));
  CHECK(map->inbox == (dir.path / "drop").string());
  CHECK(map->inbox_dates.order == DateOrder::mdy);
  CHECK(map->inbox_dates.excel_serials);
  auto dmy = load_config(dir.write("h2rd.yaml", "inbox:\n  date_order: dmy\n"));
  REQUIRE(dmy);
  CHECK(dmy->inbox == (dir.path / "inbox").string()); // the default folder
  CHECK(dmy->inbox_dates.order == DateOrder::dmy);
  CHECK_FALSE(dmy->inbox_dates.excel_serials);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"inbox: { date_order: YMD }\n", "inbox.date_order must be MDY (3/1/2026 is March 1), DMY (1/3/2026 is March "
                                       "1) or ISO (2026-03-01 only, the default), got 'YMD'"},
      {"inbox: { excel_serial_dates: maybe }\n", "inbox.excel_serial_dates"},
      {"inbox: { path: \"\" }\n", "inbox.path"},
      {"inbox: { folder: x }\n", "unknown key 'folder' in inbox"},
  };
  check_refused(dir, bad);
}

TEST_CASE("config: scheduler.threads defaults to the CPUs it may use on SQLite (2 to 8), 8 on PostgreSQL") {
  TempDir dir;
  auto sqlite = load_config(dir.write("sqlite.yaml", ""));
  auto pg = load_config(dir.write("pg.yaml", "database: postgresql://h2r@db.example.com/h2r\n"));
  auto pg_set = load_config(dir.write("pg-set.yaml", "database: postgres://h2r@db/h2r\nscheduler: { threads: 3 }\n"));
  REQUIRE(sqlite);
  REQUIRE(pg);
  REQUIRE(pg_set);
  CHECK(pg->threads == 8);
  CHECK(pg_set->threads == 3);
  cpu_set_t all;
  REQUIRE(::sched_getaffinity(0, sizeof all, &all) == 0);
  CHECK(sqlite->threads == std::clamp(CPU_COUNT(&all), 2, 8));
  // One CPU allowed (a container's cpuset, `taskset -c 0`): still 2, so a store call waiting on the disk leaves a thread for the rest.
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &all)) {
      CPU_SET(cpu, &one);
      break;
    }
  REQUIRE(::sched_setaffinity(0, sizeof one, &one) == 0);
  const int on_one = default_threads("/var/lib/h2r/h2r.db");
  const int on_one_pg = default_threads("postgresql://h2r@db/h2r");
  REQUIRE(::sched_setaffinity(0, sizeof all, &all) == 0);
  CHECK(on_one == 2);
  CHECK(on_one_pg == 8);
}
