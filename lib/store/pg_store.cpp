// Placeholder until the libpq store lands: the interface is fixed so callers and tests can be written.
#include "store/pg_store.hpp"

namespace h2r {

bool is_postgres_url(const std::string& database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

Result<std::unique_ptr<Store>> open_pg_store(const PgOptions&) {
  return fail(ErrorKind::permanent, "PostgreSQL support is not built into this h2rd");
}

int pg_schema_version() { return 0; }

} // namespace h2r
