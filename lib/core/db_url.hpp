// The `database:` value: a SQLite file path, or a PostgreSQL URL (postgresql://… or postgres://…).
// Passwords never live in a URL h2r reads (config or command line): they come from a password file
// or libpq's PGPASSFILE / ~/.pgpass. These helpers need no libpq.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace h2r {

// True for "postgresql://…" and "postgres://…" (the same test as is_postgres_url in store/pg_store.hpp).
bool is_database_url(std::string_view database);

// "" when the URL carries no password; else which part does ("user:PASSWORD@" or "password=").
std::string url_password_part(std::string_view url);

// For output and errors: the URL with any password replaced by "***" (a path is returned as it is).
std::string redact_database(std::string_view database);

// Why `file` cannot serve as a database password file (nullopt: it can). As the key file and the
// console tokens are checked: a regular file that group and others cannot access (0600, 0400).
std::optional<std::string> password_file_problem(const std::string& file);

} // namespace h2r
