// open_store: the store the config's `database` names — a PostgreSQL URL (postgresql://…,
// postgres://…) opens the PostgreSQL store (store/pg_store.hpp), anything else the SQLite file.
#pragma once

#include "core/database_cache.hpp"
#include "store/store.hpp"

#include <cstdint>

#include <memory>
#include <string>
#include <string_view>

namespace h2r {

// `password_file` (Config::database_password_file) goes with a URL only ("" = libpq's PGPASSFILE or
// ~/.pgpass). A URL holding a password is refused (invalid). Errors never contain a password.
// `cache_bytes` is limits.database_cache (SQLite only, store/sqlite/sqlite_store.hpp).
Result<std::unique_ptr<Store>> open_store(const std::string& database, const std::string& password_file = "",
                                          std::uint64_t cache_bytes = k_default_database_cache);


// "PostgreSQL" or "SQLite": which store `database` selects.
std::string_view store_backend(const std::string& database);

} // namespace h2r
