// The SQLite implementation of Store: WAL, busy_timeout, foreign keys, migrations keyed on
// PRAGMA user_version. One connection guarded by a mutex; other processes (the CLI beside the daemon)
// wait on busy_timeout.
#pragma once

#include "core/database_cache.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <string>

namespace h2r {

// Opens (creating with its schema, or migrating) the database at `path`. An error names the file.
// `cache_bytes` (limits.database_cache) is SQLite's memory budget in this process, shared by all its
// connections: each may cache that much, and SQLite's soft heap limit holds them together to it,
// taking back the least recently used pages first (sqlite3_soft_heap_limit64). The last store opened
// sets it for all.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                 std::uint64_t cache_bytes = k_default_database_cache);

// The schema version this build writes (PRAGMA user_version).
int sqlite_schema_version();

// The statement Store::links_to_zoom_user runs (?1 connection, ?2 Zoom user id, ?3 userName), for the
// test that reads its query plan.
std::string sqlite_links_to_zoom_user_sql();

} // namespace h2r
