// What only the PostgreSQL store has: its URL and options, errors that name the server and never a
// password, its migrations (a newer schema is refused, concurrent openers migrate once), and a lost
// connection that comes back. Cases needing a server skip (visibly) without one.
#include "store_test_util.hpp"

#include "store/pg/pg_store_impl.hpp"

#include <fstream>
#include <thread>

using namespace h2r;
using namespace h2r::store_test;

namespace {

#define H2R_PG_REQUIRE_SERVER()                                                                              \
  do {                                                                                                      \
    if (!PgStoreFactory::available()) {                                                                     \
      MESSAGE(PgStoreFactory::skip_reason());                                                               \
      return;                                                                                               \
    }                                                                                                       \
  } while (false)

std::string with_query(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

} // namespace

TEST_CASE("postgres store: URLs, schema names and password files are checked before connecting") {
  CHECK(is_postgres_url("postgresql://db.example.com/h2r"));
  CHECK(is_postgres_url("postgres://db.example.com/h2r"));
  CHECK_FALSE(is_postgres_url("h2r.db"));
  CHECK_FALSE(is_postgres_url("mysql://x"));

  auto not_pg = open_pg_store(PgOptions{"h2r.db", "", ""});
  REQUIRE_FALSE(not_pg);
  CHECK(not_pg.error().kind == ErrorKind::invalid);

  auto long_url = open_pg_store(PgOptions{"postgresql://" + std::string(5000, 'a'), "", ""});
  REQUIRE_FALSE(long_url);
  CHECK(long_url.error().kind == ErrorKind::invalid);

  auto bad_schema = open_pg_store(PgOptions{"postgresql://127.0.0.1:1/h2r", "", "Robert'); DROP"});
  REQUIRE_FALSE(bad_schema);
  CHECK(bad_schema.error().kind == ErrorKind::invalid);
  CHECK(bad_schema.error().message.find("schema") != std::string::npos);

  TempDir dir;
  auto missing = open_pg_store(PgOptions{"postgresql://127.0.0.1:1/h2r", dir.file("nope"), ""});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::invalid);
  CHECK(missing.error().message.find(dir.file("nope")) != std::string::npos);
  std::ofstream(dir.file("empty")) << "\n";
  auto empty = open_pg_store(PgOptions{"postgresql://127.0.0.1:1/h2r", dir.file("empty"), ""});
  REQUIRE_FALSE(empty);
  CHECK(empty.error().message.find("line 1") != std::string::npos);
}

TEST_CASE("postgres store: an unreachable server is a transient error naming host, port and database, never the password") {
  TempDir dir;
  std::ofstream(dir.file("password")) << "file-secret-4711\n";
  for (const std::string& url : {std::string("postgresql://h2r:url-secret-0815@127.0.0.1:1/h2rdb"),
                                 std::string("postgresql://h2r@127.0.0.1:1/h2rdb?password=url-secret-0815")}) {
    CAPTURE(url);
    auto opened = open_pg_store(PgOptions{url, dir.file("password"), ""});
    REQUIRE_FALSE(opened);
    const std::string& message = opened.error().message;
    CHECK(opened.error().kind == ErrorKind::transient);
    CHECK(message.find("127.0.0.1") != std::string::npos);
    CHECK(message.find("port 1") != std::string::npos);
    CHECK(message.find("h2rdb") != std::string::npos);
    CHECK(message.find("url-secret-0815") == std::string::npos);
    CHECK(message.find("file-secret-4711") == std::string::npos);
  }
}

TEST_CASE("postgres store: a refused password is permanent and not echoed") {
  H2R_PG_REQUIRE_SERVER();
  TempDir dir;
  std::ofstream(dir.file("password")) << "wrong-secret-1234\n";
  // A user that does not exist fails authentication whatever the server's pg_hba method.
  auto opened = open_pg_store(PgOptions{with_query(*test_pg_url(), "user=h2r_no_such_user"), dir.file("password"), ""});
  REQUIRE_FALSE(opened);
  CHECK(opened.error().kind == ErrorKind::permanent);
  CHECK(opened.error().message.find("wrong-secret-1234") == std::string::npos);
  CHECK(opened.error().message.find("postgresql host") != std::string::npos);
}

TEST_CASE("postgres store: the schema is created, migrated once by concurrent openers, and shared") {
  H2R_PG_REQUIRE_SERVER();
  TempDir dir;
  const std::string schema = PgStoreFactory::schema_of(dir);
  std::vector<std::unique_ptr<Store>> stores(4);
  std::vector<std::string> errors(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < stores.size(); ++i)
    threads.emplace_back([&, i] {
      auto opened = open_pg_store(PgOptions{*test_pg_url(), "", schema});
      if (opened) stores[i] = std::move(opened).value();
      else errors[i] = opened.error().message;
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors) CHECK_MESSAGE(e.empty(), e);
  for (const auto& s : stores) REQUIRE(s);
  CHECK(stores[0]->shared());
  REQUIRE(stores[0]->set_meta("k", "v"));
  CHECK(stores[3]->get_meta("k").value() == std::optional<std::string>("v"));

  auto conn = pg::Conn::connect(*test_pg_url(), "", "test server");
  REQUIRE(conn);
  auto versions = (*conn)->exec("SELECT count(*), max(version) FROM " + (*conn)->quote_identifier(schema) +
                                ".h2r_schema_versions");
  REQUIRE(versions);
  CHECK(versions->integer(0, 0) == pg_schema_version());
  CHECK(versions->integer(0, 1) == pg_schema_version());
}

TEST_CASE("postgres store: a version 2 schema holding two links to one Zoom user migrates, keeping both marked shared") {
  H2R_PG_REQUIRE_SERVER();
  TempDir dir;
  const std::string schema = PgStoreFactory::schema_of(dir);
  {
    auto conn = pg::Conn::connect(*test_pg_url(), "", "test server");
    REQUIRE(conn);
    REQUIRE((*conn)->exec("CREATE SCHEMA " + (*conn)->quote_identifier(schema)));
    REQUIRE((*conn)->exec("SELECT set_config('search_path', $1, false)", pg::Params().text(schema)));
    REQUIRE(pg::migrate(**conn, 2));
    REQUIRE((*conn)->exec(
        "INSERT INTO connections (name, account_id, client_id, secret_blob, oauth_url, api_url, rate_limit, "
        "created_at_ms, updated_at_ms) VALUES ('zoom-main', 'a', 'c', '\\x00', 'https://o', 'https://a', 10, 1, 1)"));
    REQUIRE((*conn)->exec(
        "INSERT INTO links (connection, employee_id, zoom_user_id, user_name, pushed_digest, active, updated_at_ms) "
        "VALUES ('zoom-main', 'E1', 'zu-anna', 'anna@example.com', 'd', true, 1), "
        "('zoom-main', 'E9', 'zu-anna', 'Anna@Example.com', 'd', true, 1), "
        "('zoom-main', 'E2', 'zu-bob', 'bob@example.com', 'd', true, 1)"));
  }
  auto store = PgStoreFactory::open(dir);
  auto links = store->list_links("zoom-main");
  REQUIRE(links);
  REQUIRE(links->size() == 3);
  CHECK((*links)[0].shared);
  CHECK_FALSE((*links)[1].shared);
  CHECK((*links)[2].shared);
  LinkRow bob_taken = (*links)[1];
  bob_taken.employee_id = "E4";
  CHECK(store->put_link(bob_taken).error().kind == ErrorKind::conflict);
  auto owners = store->links_to_zoom_user("zoom-main", "zu-anna", "");
  REQUIRE(owners);
  CHECK(owners->size() == 2);
}

TEST_CASE("postgres store: a database with a newer schema is refused, naming the server") {
  H2R_PG_REQUIRE_SERVER();
  TempDir dir;
  { auto store = PgStoreFactory::open(dir); }
  auto conn = pg::Conn::connect(*test_pg_url(), "", "test server");
  REQUIRE(conn);
  REQUIRE((*conn)->exec("INSERT INTO " + (*conn)->quote_identifier(PgStoreFactory::schema_of(dir)) +
                            ".h2r_schema_versions (version) VALUES ($1)",
                        pg::Params().integer(pg_schema_version() + 1)));
  auto opened = open_pg_store(PgOptions{*test_pg_url(), "", PgStoreFactory::schema_of(dir)});
  REQUIRE_FALSE(opened);
  CHECK(opened.error().kind == ErrorKind::permanent);
  CHECK(opened.error().message.find("newer than this build") != std::string::npos);
  CHECK(opened.error().message.find("postgresql host") != std::string::npos);
}

TEST_CASE("postgres store: a lost connection is a transient error and the next call reconnects") {
  H2R_PG_REQUIRE_SERVER();
  TempDir dir;
  const std::string app = fmt::format("h2r_lost_{}", ::getpid());
  auto opened = open_pg_store(PgOptions{with_query(*test_pg_url(), "application_name=" + app), "",
                                        PgStoreFactory::schema_of(dir)});
  REQUIRE(opened);
  auto& store = **opened;
  REQUIRE(store.set_meta("k", "before"));
  auto conn = pg::Conn::connect(*test_pg_url(), "", "test server");
  REQUIRE(conn);
  auto killed = (*conn)->exec("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = $1",
                              pg::Params().text(app));
  REQUIRE(killed);
  REQUIRE(killed->size() >= 1);
  auto lost = store.get_meta("k");
  REQUIRE_FALSE(lost);
  CHECK(lost.error().kind == ErrorKind::transient);
  CHECK(lost.error().message.find("postgresql host") != std::string::npos);
  auto back = store.get_meta("k");
  REQUIRE(back);
  CHECK(*back == std::optional<std::string>("before"));
}

TEST_CASE("postgres store: a pipelined batch returns every result in order, or its first error, and the connection stays usable") {
  H2R_PG_REQUIRE_SERVER();
  auto conn = pg::Conn::connect(*test_pg_url(), "", "test server");
  REQUIRE(conn);
  pg::Conn& c = **conn;
  std::vector<pg::Params> batch;
  for (int i = 1; i <= 600; ++i) batch.push_back(std::move(pg::Params().integer(i))); // more than one sync point
  auto all = c.exec_many("SELECT 1000 / $1::int", batch);
  REQUIRE(all);
  REQUIRE(all->size() == 600);
  CHECK((*all)[0].integer(0, 0) == 1000);
  CHECK((*all)[599].integer(0, 0) == 1);

  batch[300] = std::move(pg::Params().integer(0)); // division by zero in the middle
  auto failed = c.exec_many("SELECT 1000 / $1::int", batch);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message.find("division by zero") != std::string::npos);
  CHECK(failed.error().kind == ErrorKind::permanent);
  auto after = c.exec("SELECT 42");
  REQUIRE(after);
  CHECK(after->integer(0, 0) == 42);
  auto empty = c.exec_many("SELECT 1", {});
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("postgres store: a password file logs a role in, and a role without CREATE opens an up-to-date database") {
  H2R_PG_REQUIRE_SERVER();
  TempDir dir;
  const std::string schema = PgStoreFactory::schema_of(dir);
  { auto owner = PgStoreFactory::open(dir); } // created and migrated by the test's superuser
  auto admin = pg::Conn::connect(*test_pg_url(), "", "test server");
  REQUIRE(admin);
  pg::Conn& a = **admin;
  const std::string role = fmt::format("h2r_runtime_{}", ::getpid());
  const std::string r = a.quote_identifier(role), s = a.quote_identifier(schema);
  // A fixed test password (CREATE ROLE takes no parameters); the store itself never builds SQL with values.
  REQUIRE(a.exec("CREATE ROLE " + r + " LOGIN PASSWORD 'runtime-pw-31337'"));
  REQUIRE(a.exec("GRANT USAGE ON SCHEMA " + s + " TO " + r));
  REQUIRE(a.exec("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + s + " TO " + r));
  {
    std::ofstream(dir.file("pw")) << "runtime-pw-31337\n";
    auto opened = open_pg_store(PgOptions{with_query(*test_pg_url(), "user=" + role), dir.file("pw"), schema});
    CHECK_MESSAGE(opened, (opened ? "" : opened.error().message));
    if (opened) {
      REQUIRE((*opened)->set_meta("k", "v"));
      REQUIRE((*opened)->ingest("f", {make_event("a", "E1", 1, 1)}, 1));
      CHECK((*opened)->claim_due_events(ClaimRequest{"d", 10, 10, 1000}).value().size() == 1);
    }
  }
  (void)a.exec("DROP OWNED BY " + r);
  (void)a.exec("DROP ROLE " + r);
}
