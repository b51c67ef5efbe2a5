// How PostgreSQL's errors become error kinds (lib/store/pg/pg_db.hpp): a statement's error by its SQLSTATE,
// never by its words; a failed connect, for which libpq keeps no SQLSTATE, by PQconnectionNeedsPassword and
// the server's refusal. The tables need no server; the cases against one skip (visibly) without it.
#include "store_test_util.hpp"

#include "store/pg/pg_db.hpp"

#include <string_view>
#include <utility>

using namespace h2r;
using namespace h2r::store_test;

TEST_CASE("pg errors: SQLSTATE codes map to error kinds by code and class") {
  const std::pair<std::string_view, ErrorKind> table[] = {
      {"23505", ErrorKind::conflict},   // unique_violation
      {"23503", ErrorKind::not_found},  // foreign_key_violation
      {"23502", ErrorKind::permanent},  // not_null_violation
      {"40001", ErrorKind::transient},  // serialization_failure
      {"40P01", ErrorKind::transient},  // deadlock_detected
      {"40003", ErrorKind::transient},  // statement_completion_unknown
      {"40002", ErrorKind::permanent},  // transaction_integrity_constraint_violation
      {"55P03", ErrorKind::transient},  // lock_not_available
      {"57014", ErrorKind::transient},  // query_canceled (statement_timeout)
      {"08000", ErrorKind::transient},  // connection_exception
      {"08006", ErrorKind::transient},  // connection_failure
      {"08P01", ErrorKind::transient},  // protocol_violation
      {"53000", ErrorKind::transient},  // insufficient_resources
      {"53300", ErrorKind::transient},  // too_many_connections
      {"57P01", ErrorKind::transient},  // admin_shutdown
      {"57P02", ErrorKind::transient},  // crash_shutdown
      {"57P03", ErrorKind::transient},  // cannot_connect_now
      {"57P04", ErrorKind::permanent},  // database_dropped
      {"28000", ErrorKind::permanent},  // invalid_authorization_specification
      {"28P01", ErrorKind::permanent},  // invalid_password
      {"3D000", ErrorKind::permanent},  // invalid_catalog_name
      {"42P01", ErrorKind::permanent},  // undefined_table
      {"42501", ErrorKind::permanent},  // insufficient_privilege
      {"22012", ErrorKind::permanent},  // division_by_zero
      {"XX000", ErrorKind::permanent},  // internal_error
  };
  for (const auto& [code, kind] : table) {
    CAPTURE(code);
    CHECK(pg::kind_of_sqlstate(code) == kind);
  }
}

TEST_CASE("pg errors: a failed connect is permanent when a person must act, transient when the server may come back") {
  // A server that asked for a password when none was given: whatever its words.
  CHECK(pg::kind_of_connect_failure(true, "fe_sendauth: no password supplied") == ErrorKind::permanent);
  CHECK(pg::kind_of_connect_failure(true, "") == ErrorKind::permanent);
  const std::pair<std::string_view, ErrorKind> table[] = {
      {"connection to server at \"db\" (10.0.0.5), port 5432 failed: FATAL:  password authentication failed for "
       "user \"h2r\"", ErrorKind::permanent},
      {"connection to server at \"db\", port 5432 failed: FATAL:  database \"h2r\" does not exist", ErrorKind::permanent},
      {"connection to server at \"db\", port 5432 failed: FATAL:  no pg_hba.conf entry for host \"10.0.0.9\", user "
       "\"h2r\", database \"h2r\", no encryption", ErrorKind::permanent},
      {"connection to server at \"db\", port 5432 failed: FATAL:  permission denied for database \"h2r\"",
       ErrorKind::permanent},
      {"invalid connection option \"colour\"", ErrorKind::permanent},
      {"invalid port number: \"x\"", ErrorKind::permanent},
      {"connection to server at \"127.0.0.1\", port 1 failed: Connection refused", ErrorKind::transient},
      {"could not translate host name \"db.example.com\" to address: Temporary failure in name resolution",
       ErrorKind::transient},
      {"connection to server at \"db\", port 5432 failed: timeout expired", ErrorKind::transient},
      {"connection to server at \"db\", port 5432 failed: FATAL:  the database system is starting up",
       ErrorKind::transient},
      {"connection to server at \"db\", port 5432 failed: FATAL:  sorry, too many clients already",
       ErrorKind::transient},
  };
  for (const auto& [message, kind] : table) {
    CAPTURE(message);
    CHECK(pg::kind_of_connect_failure(false, message) == kind);
  }
}

TEST_CASE("pg errors: the server's statement errors carry their SQLSTATE and its kind") {
  if (!PgStoreFactory::available()) {
    MESSAGE(PgStoreFactory::skip_reason());
    return;
  }
  auto conn = pg::Conn::connect(*test_pg_url(), "", "test server");
  REQUIRE(conn);
  REQUIRE((*conn)->exec("CREATE TEMP TABLE h2r_errors_test (k INTEGER PRIMARY KEY)"));
  REQUIRE((*conn)->exec("INSERT INTO h2r_errors_test VALUES (1)"));
  auto twice = (*conn)->exec("INSERT INTO h2r_errors_test VALUES (1)");
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code == "23505");
  CHECK(twice.error().kind == ErrorKind::conflict);
  auto zero = (*conn)->exec("SELECT 1 / 0");
  REQUIRE_FALSE(zero);
  CHECK(zero.error().code == "22012");
  CHECK(zero.error().kind == ErrorKind::permanent);
  auto missing = (*conn)->exec("SELECT * FROM h2r_no_such_table");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == "42P01");
  CHECK(missing.error().kind == ErrorKind::permanent);
}

TEST_CASE("pg errors: a missing database or a refused password is permanent, a closed port transient") {
  if (!PgStoreFactory::available()) {
    MESSAGE(PgStoreFactory::skip_reason());
    return;
  }
  auto no_database = pg::Conn::connect("postgresql:///h2r_no_such_database_29", "", "test server");
  REQUIRE_FALSE(no_database);
  CHECK_MESSAGE(no_database.error().kind == ErrorKind::permanent, no_database.error().message);
  auto closed = pg::Conn::connect("postgresql://127.0.0.1:1/h2r", "", "test server");
  REQUIRE_FALSE(closed);
  CHECK_MESSAGE(closed.error().kind == ErrorKind::transient, closed.error().message);
  auto wrong = pg::Conn::connect(*test_pg_url(), "not-the-password-29", "test server");
  if (wrong) {
    MESSAGE("the server accepts any password here (trust authentication): the refused password is not checked");
  } else {
    CHECK_MESSAGE(wrong.error().kind == ErrorKind::permanent, wrong.error().message);
    CHECK(wrong.error().message.find("not-the-password-29") == std::string::npos);
  }
}
