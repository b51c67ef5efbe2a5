// h2rd migrate: a SQLite deployment into PostgreSQL (issue 14). The "pg " cases need a server
// (PGHOST etc., as pg_virtualenv exports them; scripts/test runs them inside one) and say so when
// there is none; the others need no server.
#include "e2e/resilience_helpers.hpp"
#include "store/sqlite/instance_lock.hpp"
#include "store/open_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/store_compare.hpp"
#include "support/test_paths.hpp"

#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <random>

using namespace h2r;
using namespace h2r::test;

namespace {

bool have_postgres() {
  const char* host = std::getenv("PGHOST");
  return host != nullptr && *host != '\0';
}

// A database of its own on the server the environment names, dropped at scope exit.
class PgDatabase {
public:
  PgDatabase() {
    std::random_device rd;
    m_name = "h2r_migrate_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000);
    auto made = run_process({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c",
                             "CREATE DATABASE " + m_name});
    INFO(made.err);
    REQUIRE(made.exit_code == 0);
  }
  ~PgDatabase() {
    (void)run_process({"psql", "-X", "-q", "-d", "postgres", "-c", "DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)"});
  }
  // The URL: host, port, user and password come from PGHOST, PGPORT, PGUSER and PGPASSWORD.
  std::string url() const { return "postgresql:///" + m_name; }

private:
  std::string m_name;
};

} // namespace

TEST_CASE("e2e migrate: a password in --to or in the config is refused, never echoed") {
  H2rEnvOptions options;
  options.add_connection = false;
  H2rEnv env(options);
  auto r = env.h2rd({"migrate", "--to", "postgresql://h2r:Sekr1tPw@db.example.com/h2r"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--to holds a password (user:PASSWORD@)") != std::string::npos);
  CHECK(r.err.find("Sekr1tPw") == std::string::npos);
  auto param = env.h2rd({"migrate", "--to", "postgres://db.example.com/h2r?password=Sekr1tPw"});
  CHECK(param.exit_code == 2);
  CHECK(param.err.find("--to holds a password (password=)") != std::string::npos);
  CHECK(param.err.find("Sekr1tPw") == std::string::npos);
  auto not_url = env.h2rd({"migrate", "--to", "/tmp/other.db"});
  CHECK(not_url.exit_code == 2);
  CHECK(not_url.err.find("--to must be a PostgreSQL URL") != std::string::npos);

  const auto config = env.dir().write("pg.yaml", "database: postgresql://h2r:Sekr1tPw@db.example.com/h2r\n").string();
  auto check = run_process({h2rd_path(), "-c", config, "check"});
  CHECK(check.exit_code == 78);
  CHECK(check.err.find(config + ":1:11: database holds a password (user:PASSWORD@)") != std::string::npos);
  CHECK(check.err.find("Sekr1tPw") == std::string::npos);
  auto status = run_process({h2rd_path(), "-c", config, "status"});
  CHECK(status.exit_code == 78);
  CHECK(status.err.find("Sekr1tPw") == std::string::npos);
}

TEST_CASE("e2e migrate: refused while a daemon holds the SQLite file, and when there is nothing to copy") {
  H2rEnv env;
  {
    auto held = InstanceLock::acquire(env.database());   // what a running `h2rd run` holds
    REQUIRE(held);
    auto r = env.h2rd({"migrate", "--to", "postgresql://h2r@127.0.0.1:1/h2r"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("stop it before migrating") != std::string::npos);
  }
  H2rEnvOptions options;
  options.add_connection = false;
  H2rEnv empty(options);
  auto none = empty.h2rd({"migrate", "--to", "postgresql://h2r@127.0.0.1:1/h2r"});
  CHECK(none.exit_code == 1);
  CHECK(none.err.find("there is no database at " + empty.database()) != std::string::npos);
}

TEST_CASE("pg migrate: a SQLite deployment (connection, events in several states, links, history) moves whole") {
  if (!have_postgres()) {
    MESSAGE("SKIPPED (store): no PostgreSQL server (PGHOST is not set); scripts/test runs the \"pg \" tests inside pg_virtualenv");
    return;
  }
  H2rEnv env;
  env.drop("hires.json", hires_json(5));
  const std::string later = date_in_days(400);   // waiting whenever the test runs (max_future_days: 1095)
  env.drop("later.json", "[" + event_json("later-1", "hire", employee("L1", "Lou", "Later"), later) + "," +
                             event_json("later-2", "hire", employee("L2", "Lia", "Later"), later) + "]");
  auto once = env.run_once();
  INFO(once.out << once.err);
  REQUIRE(once.exit_code == 0);
  REQUIRE(env.h2rd({"events", "reject", "later-2", "--reason", "not joining"}).exit_code == 0);
  auto listed = env.events();
  REQUIRE(listed.size() == 7);

  PgDatabase db;
  auto migrated = env.h2rd({"migrate", "--to", db.url()});
  INFO(migrated.out << migrated.err);
  REQUIRE(migrated.exit_code == 0);
  CHECK(migrated.out.find("1 connections (1 with health), 7 events") != std::string::npos);
  CHECK(migrated.out.find("5 links") != std::string::npos);

  auto from = open_sqlite_store(env.database());
  REQUIRE(from);
  auto to = open_store(db.url());
  REQUIRE_MESSAGE(to, to.error().message);
  CHECK(check_same_deployment(**from, **to) == 7);
  auto counts = (*to)->count_events_by_state();
  REQUIRE(counts);
  CHECK((*counts)[EventState::done] == 5);
  CHECK((*counts)[EventState::waiting] == 1);
  CHECK((*counts)[EventState::rejected] == 1);

  // The migrated deployment works from a config naming the URL and a password file (no password from
  // the environment): check reaches it, and the sealed secret opens with the same key file.
  const char* password = std::getenv("PGPASSWORD");
  if (password != nullptr && *password != '\0') {
    const auto password_file = env.dir().write("pg-password", std::string(password) + "\n");
    REQUIRE(::chmod(password_file.c_str(), 0600) == 0);
    const auto config = env.dir()
                            .write("pg.yaml", "database: { url: \"" + db.url() + "\", password_file: pg-password }\n"
                                              "inbox: inbox\nrules: rules.yaml\nsecret_key_file: state/secret.key\n"
                                              "listen: \"\"\n")
                            .string();
    const Env no_password{{"PGPASSWORD", ""}, {"PGPASSFILE", "/nonexistent"}};
    auto check = run_process({h2rd_path(), "-c", config, "check"}, {}, no_password);
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK(check.out.find("database: PostgreSQL " + db.url() + " (reachable, 1 connection(s))") != std::string::npos);
    auto test = run_process({h2rd_path(), "-c", config, "connection", "test", "zoom-main"}, {}, no_password);
    INFO(test.out << test.err);
    CHECK(test.exit_code == 0);
    std::remove(password_file.c_str());
    auto unreachable = run_process({h2rd_path(), "-c", config, "check"}, {}, no_password);
    CHECK(unreachable.exit_code == 78);   // the password file is gone: a config error, named
    CHECK(unreachable.err.find("database.password_file") != std::string::npos);
  }

  // A second run finds the target full, says how to empty it, and writes nothing.
  auto again = env.h2rd({"migrate", "--to", db.url()});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("is not empty") != std::string::npos);
  CHECK(again.err.find("DROP SCHEMA public CASCADE") != std::string::npos);
  auto still = (*to)->count_events_by_state();
  REQUIRE(still);
  CHECK(*still == *counts);
}
