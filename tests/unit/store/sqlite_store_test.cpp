// What only the SQLite Store promises: the file (mode, reopen, two processes' connections), migrations,
// refusal of a newer schema, and crash consistency after SIGKILL.
#include "store/sqlite/sqlite_migrations.hpp"
#include "store_test_util.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <csignal>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace h2r;
using namespace h2r::store_test;

namespace {

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string scalar(sqlite::Db& db, const std::string& sql) {
  auto q = db.query(sql);
  REQUIRE(q);
  auto row = q->step();
  REQUIRE(row);
  REQUIRE(*row);
  return q->text_at(0);
}

// SQLite's plan for `sql` on a new database with h2r's schema: the detail of each step, one a line.
std::string plan_of(const std::string& sql) {
  TempDir dir;
  auto path = dir.file("h2r.db");
  REQUIRE(open_sqlite_store(path));
  auto db = sqlite::Db::open(path);
  REQUIRE(db);
  auto plan = (*db)->query("EXPLAIN QUERY PLAN " + sql);
  REQUIRE(plan);
  std::string detail;
  while (plan->step().value_or(false)) detail += plan->text_at(3) + "\n";
  return detail;
}

} // namespace

TEST_CASE("sqlite store: the database and its WAL are created 0600 whatever the umask") {
  TempDir dir;
  auto path = dir.file("h2r.db");
  mode_t old_umask = ::umask(0);
  {
    auto store = open_sqlite_store(path);
    ::umask(old_umask);
    REQUIRE(store);
    REQUIRE((*store)->set_meta("k", "v")); // a write, so the -wal file exists
    CHECK(mode_of(path) == 0600);
    CHECK(mode_of(path + "-wal") == 0600);
  }
  ::umask(old_umask);
}

TEST_CASE("sqlite store: WAL, foreign keys and the schema version are in place") {
  TempDir dir;
  auto path = dir.file("h2r.db");
  REQUIRE(open_sqlite_store(path));
  auto db = sqlite::Db::open(path);
  REQUIRE(db);
  CHECK(scalar(**db, "PRAGMA journal_mode") == "wal");
  CHECK(scalar(**db, "PRAGMA user_version") == std::to_string(sqlite_schema_version()));
  CHECK(sqlite_schema_version() == sqlite::schema_version());
}

TEST_CASE("sqlite store: an employee's links are found by index, not by a scan of every connection's") {
  CHECK(plan_of("SELECT * FROM links WHERE employee_id = ?1").find("USING INDEX links_by_employee") != std::string::npos);
}

TEST_CASE("sqlite store: the links to a Zoom user or a userName are found by index, not by a walk over the connection's") {
  // The statement the store runs (Store::links_to_zoom_user, before every create and userName change).
  const std::string detail = plan_of(sqlite_links_to_zoom_user_sql());
  CAPTURE(detail);
  CHECK(detail.find("(connection=? AND zoom_user_id=?)") != std::string::npos);
  CHECK(detail.find("links_by_user_name (connection=? AND user_name=?)") != std::string::npos);
  CHECK(detail.find("(connection=?)") == std::string::npos);   // every link of the connection
  CHECK(detail.find("SCAN links") == std::string::npos);
}

TEST_CASE("sqlite store: reopening an existing file keeps everything, two stores share one file") {
  TempDir dir;
  auto path = dir.file("h2r.db");
  {
    auto store = SqliteStoreFactory::open(dir);
    ConnectionRow conn;
    conn.name = "zoom-main";
    conn.secret_blob = std::string("\0sealed", 7);
    REQUIRE(store->add_connection(conn));
    REQUIRE(store->ingest("a.json", {make_event("e1", "E1", 1, 1)}, 1));
    REQUIRE(store->put_employee(EmployeeRow{"E1", {{"email", "a@b.c"}}, HrStatus::active, 1}));
    REQUIRE(store->put_link(LinkRow{"zoom-main", "E1", "zu", "a@b.c", "d", true, 1}));
    REQUIRE(store->set_meta("rules_version", "r1"));
  }
  auto store = SqliteStoreFactory::open(dir);
  auto conn = store->get_connection("zoom-main");
  REQUIRE((conn && conn->has_value()));
  CHECK((*conn)->secret_blob == std::string("\0sealed", 7));
  auto event = store->find_event("e1");
  REQUIRE((event && event->has_value()));
  auto employee = store->get_employee("E1");
  REQUIRE((employee && employee->has_value()));
  auto link = store->get_link("zoom-main", "E1");
  REQUIRE((link && link->has_value()));
  auto meta = store->get_meta("rules_version");
  REQUIRE((meta && meta->has_value()));
  CHECK(**meta == "r1");
  auto dup = store->ingest("again.json", {make_event("e1", "E1", 1, 1)}, 2);
  REQUIRE(dup);
  CHECK(dup->duplicates == std::vector<std::string>{"e1"});

  auto other = SqliteStoreFactory::open(dir); // e.g. the CLI beside the daemon
  REQUIRE(other->approve_all_held(1));
  REQUIRE(other->ingest("b.json", {make_event("e2", "E2", 1, 1)}, 3));
  auto seen = store->find_event("e2");
  REQUIRE((seen && seen->has_value()));
}

TEST_CASE("sqlite store: a version 1 database is migrated, and its event fields backfill fields_seen") {
  TempDir dir;
  auto path = dir.file("h2r.db");
  {
    auto db = sqlite::Db::open(path);
    REQUIRE(db);
    REQUIRE(sqlite::migrate(**db, 1));
    REQUIRE(scalar(**db, "PRAGMA user_version") == "1");
    REQUIRE((*db)->exec(
        "INSERT INTO events (event_id, type, leave_type, employee_id, fields, effective_raw, effective_at_ms, "
        "due_at_ms, source_file, state, reason, attempts, approved, rules_version, result, received_at_ms, "
        "updated_at_ms) VALUES ('old-1', 'hire', NULL, 'E1', '{\"employee_id\":\"E1\",\"cost_center\":null}', "
        "'', 5, 5, 'old.json', 'pending', '', 0, 0, '', '', 1, 1)"));
  }
  auto store = SqliteStoreFactory::open(dir);
  auto fields = store->seen_fields();
  REQUIRE(fields);
  CHECK(*fields == std::set<std::string>{"cost_center", "employee_id"});
  auto event = store->find_event("old-1");
  REQUIRE((event && event->has_value()));
  CHECK((*event)->fields.at("cost_center") == std::nullopt);
  auto due = store->due_events(10, 10);
  REQUIRE(due);
  CHECK(due->size() == 1);
  auto db = sqlite::Db::open(path);
  REQUIRE(db);
  CHECK(scalar(**db, "PRAGMA user_version") == std::to_string(sqlite_schema_version()));
}

TEST_CASE("sqlite store: a version 12 database's daily-limit pause reads back with its kind") {
  TempDir dir;
  auto path = dir.file("h2r.db");
  {
    auto db = sqlite::Db::open(path);
    REQUIRE(db);
    REQUIRE(sqlite::migrate(**db, 12));
    REQUIRE((*db)->exec(
        "INSERT INTO connections (name, account_id, client_id, secret_blob, oauth_url, api_url, rate_limit, "
        "created_at_ms, updated_at_ms) VALUES ('zoom-a', 'a', 'c', x'00', 'https://o', 'https://a', 10, 1, 1), "
        "('zoom-b', 'a', 'c', x'00', 'https://o', 'https://a', 10, 1, 1)"));
    REQUIRE((*db)->exec(
        "INSERT INTO connection_health (name, healthy, last_error, last_error_at_ms, last_success_at_ms, "
        "paused_until_ms, pause_reason) VALUES "
        "('zoom-a', 0, '', 0, 0, 99, 'daily limit reached (Zoom''s X-RateLimit-Type: Daily-limit) until x'), "
        "('zoom-b', 0, '', 0, 0, 99, 'circuit open: 5 of the last 10 calls failed (cool-down 30 s)')"));
  }
  auto store = SqliteStoreFactory::open(dir);
  auto a = store->get_connection_health("zoom-a");
  REQUIRE((a && a->has_value()));
  CHECK((*a)->pause_kind == PauseKind::daily_limit);
  CHECK((*a)->pause_reason.find("daily limit reached") == 0);
  auto b = store->get_connection_health("zoom-b");
  REQUIRE((b && b->has_value()));
  CHECK((*b)->pause_kind == PauseKind::none);
}

TEST_CASE("sqlite store: a version 9 database holding two links to one Zoom user migrates, keeping both marked shared") {
  TempDir dir;
  auto path = dir.file("h2r.db");
  {
    auto db = sqlite::Db::open(path);
    REQUIRE(db);
    REQUIRE(sqlite::migrate(**db, 9));
    REQUIRE((*db)->exec(
        "INSERT INTO connections (name, account_id, client_id, secret_blob, oauth_url, api_url, rate_limit, "
        "created_at_ms, updated_at_ms) VALUES ('zoom-main', 'a', 'c', x'00', 'https://o', 'https://a', 10, 1, 1)"));
    for (const char* employee : {"E1", "E9"})
      REQUIRE((*db)->exec(fmt::format(
          "INSERT INTO links (connection, employee_id, zoom_user_id, user_name, pushed_digest, active, updated_at_ms) "
          "VALUES ('zoom-main', '{}', 'zu-anna', 'anna@example.com', 'd', 1, 1)", employee)));
    REQUIRE((*db)->exec("INSERT INTO links (connection, employee_id, zoom_user_id, user_name, pushed_digest, active, "
                        "updated_at_ms) VALUES ('zoom-main', 'E2', 'zu-bob', 'bob@example.com', 'd', 1, 1)"));
  }
  auto store = SqliteStoreFactory::open(dir);
  auto links = store->list_links("zoom-main");
  REQUIRE(links);
  REQUIRE(links->size() == 3);
  CHECK((*links)[0].employee_id == "E1");
  CHECK((*links)[0].shared);
  CHECK((*links)[1].employee_id == "E2");
  CHECK_FALSE((*links)[1].shared);
  CHECK((*links)[2].employee_id == "E9");
  CHECK((*links)[2].shared);
  // Rewritten with the same Zoom user the mark stays; a third employee is refused all the same.
  LinkRow e1 = (*links)[0];
  e1.active = false;
  REQUIRE(store->put_link(e1));
  CHECK(store->get_link("zoom-main", "E1").value()->shared);
  LinkRow third = e1;
  third.employee_id = "E3";
  CHECK(store->put_link(third).error().kind == ErrorKind::conflict);
  LinkRow bob_taken = (*links)[1];
  bob_taken.employee_id = "E4";
  CHECK(store->put_link(bob_taken).error().kind == ErrorKind::conflict);
  // Moved to another Zoom user, the link loses the mark.
  e1.zoom_user_id = "zu-anna-2";
  REQUIRE(store->put_link(e1));
  CHECK_FALSE(store->get_link("zoom-main", "E1").value()->shared);
}

TEST_CASE("sqlite store: a version 2 database keeps its connections, none allowed insecure http") {
  TempDir dir;
  auto path = dir.file("h2r.db");
  {
    auto db = sqlite::Db::open(path);
    REQUIRE(db);
    REQUIRE(sqlite::migrate(**db, 2));
    REQUIRE((*db)->exec("INSERT INTO connections (name, account_id, client_id, secret_blob, oauth_url, api_url, "
                        "rate_limit, created_at_ms, updated_at_ms) VALUES ('old', 'a', 'c', x'01', "
                        "'http://10.0.0.1/oauth/token', 'https://api.zoom.us/scim2', 10, 1, 1)"));
  }
  auto store = SqliteStoreFactory::open(dir);
  auto row = store->get_connection("old");
  REQUIRE((row && row->has_value()));
  CHECK((*row)->oauth_url == "http://10.0.0.1/oauth/token");
  CHECK_FALSE((*row)->allow_insecure_http);
}

TEST_CASE("sqlite store: a database from a newer build is refused, naming the file") {
  TempDir dir;
  auto path = dir.file("h2r.db");
  REQUIRE(open_sqlite_store(path));
  {
    auto db = sqlite::Db::open(path);
    REQUIRE(db);
    REQUIRE((*db)->exec(fmt::format("PRAGMA user_version = {}", sqlite_schema_version() + 1)));
  }
  auto store = open_sqlite_store(path);
  REQUIRE_FALSE(store);
  CHECK(store.error().message.find(path) != std::string::npos);
  CHECK(store.error().message.find("newer") != std::string::npos);
}

TEST_CASE("sqlite store: a file that is not a database, or a folder that does not exist, is refused clearly") {
  TempDir dir;
  auto garbage = dir.file("garbage.db");
  std::ofstream(garbage) << std::string(4096, 'x');
  auto store = open_sqlite_store(garbage);
  REQUIRE_FALSE(store);
  CHECK(store.error().message.find(garbage) != std::string::npos);

  auto missing = dir.file("no/such/folder/h2r.db");
  auto store2 = open_sqlite_store(missing);
  REQUIRE_FALSE(store2);
  CHECK(store2.error().message.find(missing) != std::string::npos);
}

namespace {

constexpr int k_events_per_file = 300;

// Runs a child that ingests files r{round}-file-0, -1, ... in a loop, and SIGKILLs it while it is
// ingesting file `files_before_kill`, `delay_us` after it started. Returns the files started.
int ingest_then_kill(const TempDir& dir, int round, int files_before_kill, int delay_us) {
  int progress[2];
  REQUIRE(::pipe(progress) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(progress[0]);
    auto store = open_sqlite_store(dir.file("h2r.db"));
    if (!store) ::_exit(2);
    for (int file = 0;; ++file) {
      std::vector<NewEvent> events;
      for (int i = 0; i < k_events_per_file; ++i)
        events.push_back(make_event(fmt::format("r{}-f{}-{}", round, file, i), fmt::format("E{}", i % 50), i, i));
      char byte = 1; // "about to ingest file N": the files before N are stored
      if (::write(progress[1], &byte, 1) != 1) ::_exit(4);
      if (!(*store)->ingest(fmt::format("r{}-file-{}", round, file), events, file)) ::_exit(3);
    }
  }
  ::close(progress[1]);
  int started = 0;
  char byte = 0;
  while (started <= files_before_kill && ::read(progress[0], &byte, 1) == 1) ++started;
  // The delay only varies where the kill lands; no assertion depends on timing.
  if (delay_us > 0) ::usleep(static_cast<useconds_t>(delay_us));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(progress[0]);
  CHECK(WIFSIGNALED(status));
  return started;
}

} // namespace

TEST_CASE("sqlite store: SIGKILL during ingest leaves every file's events all there or none") {
  TempDir dir;
  constexpr int k_files_before_kill = 3;
  const int delays_us[] = {0, 300, 1000, 3000, 10000};
  int round = 0;
  for (int delay : delays_us) REQUIRE(ingest_then_kill(dir, round++, k_files_before_kill, delay) == k_files_before_kill + 1);

  auto store = SqliteStoreFactory::open(dir);
  auto rows = store->list_events(EventFilter{.limit = 1'000'000});
  REQUIRE(rows);
  std::map<std::string, int> per_file;
  for (const auto& row : *rows) ++per_file[row.source_file];
  for (int r = 0; r < round; ++r)
    for (int f = 0; f < k_files_before_kill; ++f) CHECK(per_file[fmt::format("r{}-file-{}", r, f)] == k_events_per_file);
  for (const auto& [file, count] : per_file) {
    CAPTURE(file);
    CHECK((count == 0 || count == k_events_per_file));
  }
  auto db = sqlite::Db::open(dir.file("h2r.db"));
  REQUIRE(db);
  CHECK(scalar(**db, "PRAGMA integrity_check") == "ok");
}

TEST_CASE("sqlite store: a version 5 link is migrated with no pushed body and no pushed groups") {
  TempDir dir;
  auto path = dir.file("h2r.db");
  {
    auto db = sqlite::Db::open(path);
    REQUIRE(db);
    REQUIRE(sqlite::migrate(**db, 5));
    REQUIRE((*db)->exec("INSERT INTO connections (name, account_id, client_id, secret_blob, oauth_url, api_url, "
                        "rate_limit, created_at_ms, updated_at_ms) VALUES ('old', 'a', 'c', x'01', "
                        "'https://zoom.us/oauth/token', 'https://api.zoom.us/scim2', 10, 1, 1)"));
    REQUIRE((*db)->exec("INSERT INTO links (connection, employee_id, zoom_user_id, user_name, pushed_digest, active, "
                        "updated_at_ms) VALUES ('old', 'E1', 'u-1', 'e1@example.com', 'abc', 1, 7)"));
  }
  auto store = SqliteStoreFactory::open(dir);
  auto link = store->get_link("old", "E1");
  REQUIRE((link && link->has_value()));
  CHECK((*link)->pushed_digest == "abc");
  CHECK((*link)->updated_at_ms == 7);
  CHECK((*link)->pushed_body.is_null());
  CHECK((*link)->pushed_at_ms == 0);
  CHECK((*link)->pushed_groups.empty());

  // A damaged column is an error naming the link, not a guess.
  {
    auto db = sqlite::Db::open(path);
    REQUIRE(db);
    REQUIRE((*db)->exec("UPDATE links SET pushed_groups = '{\"not\":\"a list\"}'"));
  }
  auto damaged = store->list_links("old");
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().message.find("employee E1 in connection 'old' has a damaged pushed_groups column") !=
        std::string::npos);
}

TEST_CASE("sqlite store: a damaged employee record or event fields column is an error naming the row and field") {
  TempDir dir;
  const std::string path = dir.file("h2r.db");
  auto store = SqliteStoreFactory::open(dir);
  REQUIRE(store->put_employee(EmployeeRow{"E1", {{"email", "e1@example.com"}}, HrStatus::active, 5}));
  REQUIRE(store->ingest("f", {make_event("ev-1", "E1", 1, 1)}, 1));
  {
    auto db = sqlite::Db::open(path);
    REQUIRE(db);
    REQUIRE((*db)->exec("UPDATE employees SET record = '{\"email\":\"e1@example.com\",\"level\":3}'"));
    REQUIRE((*db)->exec("UPDATE events SET fields = '{\"title\":[\"x\"]}'"));
  }
  auto employee = store->get_employee("E1");
  REQUIRE_FALSE(employee);
  CHECK(employee.error().message.find("employee E1 has a damaged record column (field level)") != std::string::npos);
  auto inputs = store->plan_inputs({"E1"}, {});
  REQUIRE_FALSE(inputs);
  CHECK(inputs.error().message.find("employee E1 has a damaged record column (field level)") != std::string::npos);
  {
    auto db = sqlite::Db::open(path);
    REQUIRE(db);
    REQUIRE((*db)->exec("UPDATE employees SET record = 'not json'"));
  }
  employee = store->get_employee("E1");
  REQUIRE_FALSE(employee);
  CHECK(employee.error().message.find("employee E1 has a damaged record column") != std::string::npos);
  auto event = store->find_event("ev-1");
  REQUIRE_FALSE(event);
  CHECK(event.error().message.find("has a damaged fields column") != std::string::npos);
}

namespace {

// SQLite's heap in this process after writing ~12 MiB of rows one transaction at a time and reading
// them all back through each of `connections` stores on the file, with limits.database_cache at `budget`.
long long sqlite_heap_after_a_large_workload(std::uint64_t budget, int connections) {
  TempDir dir;
  std::vector<std::unique_ptr<Store>> stores;
  for (int c = 0; c < connections; ++c) {
    auto store = open_sqlite_store(dir.file("h2r.db"), budget);
    REQUIRE(store);
    stores.push_back(std::move(*store));
  }
  const std::string value(4096, 'v');
  for (int i = 0; i < 3000; ++i) REQUIRE(stores[0]->set_meta(fmt::format("bulk.{:05}", i), value));
  for (auto& store : stores)
    for (int i = 0; i < 3000; ++i) {
      auto read = store->get_meta(fmt::format("bulk.{:05}", i));
      REQUIRE(read);
      REQUIRE(read->has_value());
    }
  return sqlite3_memory_used();
}

} // namespace

TEST_CASE("sqlite store: limits.database_cache bounds SQLite's memory, however large the database grows") {
  constexpr long long mib = 1ll << 20;
  SUBCASE("one connection") {
    const long long small = sqlite_heap_after_a_large_workload(1ull << 20, 1);
    const long long large = sqlite_heap_after_a_large_workload(64ull << 20, 1);
    INFO("SQLite heap with a 1 MiB budget: " << small << " bytes; with 64 MiB: " << large);
    CHECK(small < 2 * mib);
    CHECK(large > 8 * mib);   // the workload does fill a cache that may hold it: the bound above is the budget's
  }
  SUBCASE("the budget is one for all the process's connections, not one each") {
    const long long three = sqlite_heap_after_a_large_workload(4ull << 20, 3);
    INFO("SQLite heap of 3 connections with a 4 MiB budget: " << three << " bytes");
    CHECK(three < 6 * mib);
    CHECK(three > 3 * mib);
  }
  sqlite3_soft_heap_limit64(static_cast<sqlite3_int64>(k_default_database_cache));
}
