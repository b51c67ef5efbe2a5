// The PostgreSQL implementation of Store (libpq): several `h2rd run` daemons on one database.
// Selected by `database: postgresql://…` (or postgres://). Claims use FOR UPDATE SKIP LOCKED; the
// schema has its own migrations (a versions table, serialised by an advisory lock). See
// docs/operations.md, "Several daemons on PostgreSQL".
#pragma once

#include "store/store.hpp"

#include <string>

namespace h2r {

struct PgOptions {
  std::string url;            // postgresql://user@host:port/db?sslmode=… (no password in it)
  std::string password_file;  // "" = libpq's own (PGPASSFILE, ~/.pgpass, PGPASSWORD)
  std::string schema;         // "" = the server's search_path; else every table lives in this schema,
                              // created when missing (the tests give each test its own)
};

// True for "postgresql://…" and "postgres://…".
bool is_postgres_url(const std::string& database);

// Connects, creates or migrates the schema, and returns the store. An error names the server (host,
// port, database) and never contains a password.
Result<std::unique_ptr<Store>> open_pg_store(const PgOptions& options);

// The schema version this build writes in PostgreSQL.
int pg_schema_version();

} // namespace h2r
