#include "store/open_store.hpp"

#include "core/db_url.hpp"
#include "store/pg/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace h2r {

Result<std::unique_ptr<Store>> open_store(const std::string& database, const std::string& password_file,
                                          std::uint64_t cache_bytes) {
  if (!is_database_url(database)) {
    if (!password_file.empty())
      return fail(ErrorKind::invalid, "a database password file goes with a PostgreSQL URL only, not with the "
                                      "SQLite file " + database);
    return open_sqlite_store(database, cache_bytes);
  }
  if (auto part = url_password_part(database); !part.empty())
    return fail(ErrorKind::invalid, "the database URL " + redact_database(database) + " holds a password (" + part +
                                        "); put it in a password file (database.password_file, chmod 600) or "
                                        "~/.pgpass instead");
  PgOptions options;
  options.url = database;
  options.password_file = password_file;
  auto store = open_pg_store(options);
  if (!store) store.error().message = "PostgreSQL " + redact_database(database) + ": " + store.error().message;
  return store;
}

std::string_view store_backend(const std::string& database) {
  return is_database_url(database) ? "PostgreSQL" : "SQLite";
}

} // namespace h2r
