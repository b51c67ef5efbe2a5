// The SQLite implementation of Store: WAL, busy_timeout, foreign keys, migrations keyed on
// PRAGMA user_version. One connection guarded by a mutex; other processes (the CLI beside the daemon)
// wait on busy_timeout.
#pragma once

#include "store/store.hpp"

namespace h2r {

// Opens (creating with its schema, or migrating) the database at `path`. An error names the file.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

// The schema version this build writes (PRAGMA user_version).
int sqlite_schema_version();

} // namespace h2r
