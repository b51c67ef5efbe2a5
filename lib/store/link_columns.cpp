#include "store/link_columns.hpp"

#include <fmt/format.h>

namespace h2r {

Result<void> decode_link_json(LinkRow& row, const std::optional<std::string>& pushed_body,
                              std::string_view pushed_groups) {
  const auto damaged = [&](std::string_view column) {
    return fail(ErrorKind::permanent, fmt::format("the link of employee {} in connection '{}' has a damaged {} column",
                                                  row.employee_id, row.connection, column));
  };
  if (pushed_body) {
    row.pushed_body = nlohmann::json::parse(*pushed_body, nullptr, false);
    if (!row.pushed_body.is_object()) return damaged("pushed_body");
  }
  auto groups = nlohmann::json::parse(pushed_groups, nullptr, false);
  if (!groups.is_array()) return damaged("pushed_groups");
  for (const auto& g : groups) {
    if (!g.is_object() || !g.contains("name") || !g["name"].is_string() || !g.contains("id") || !g["id"].is_string())
      return damaged("pushed_groups");
    row.pushed_groups.push_back({g["name"].get<std::string>(), g["id"].get<std::string>()});
  }
  return {};
}

} // namespace h2r
