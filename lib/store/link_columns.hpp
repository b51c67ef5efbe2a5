// A link row as both backends store it: the same columns in the same order, and the same text encoding
// of its two JSON columns. One place, so the SQLite and PostgreSQL stores cannot drift apart.
#pragma once

#include "store/store.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace h2r {

// Columns 0..10 of every link read (SELECT k_link_columns FROM links …).
inline constexpr const char* k_link_columns =
    "connection, employee_id, zoom_user_id, user_name, pushed_digest, active, updated_at_ms, pushed_body, "
    "pushed_at_ms, pushed_groups, shared";

// Fills row.pushed_body from the pushed_body column (nullopt: NULL, nothing known) and row.pushed_groups
// from pushed_groups (a JSON array of {"name", "id"}). A column that is not what the store writes is a
// permanent error naming the employee, the connection and the column. row.employee_id and row.connection
// are read first, for that message.
Result<void> decode_link_json(LinkRow& row, const std::optional<std::string>& pushed_body,
                              std::string_view pushed_groups);

} // namespace h2r
