// The SQLite schema as a list of migration steps keyed on PRAGMA user_version. Step N takes a database
// at version N-1 to version N, in its own transaction. Append steps; never edit a released one.
#pragma once

#include "store/sqlite/sqlite_db.hpp"

namespace h2r::sqlite {

// The number of steps, i.e. the user_version a fully migrated database has.
int schema_version();

// Applies the steps after the database's user_version up to `target` (default: all). A database newer
// than this build is refused. Errors name the database file.
Result<void> migrate(Db& db, int target = -1);

} // namespace h2r::sqlite
