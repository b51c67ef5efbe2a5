#include "store/employee_columns.hpp"

#include "store/flat_json.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace h2r {

namespace {

// The record through a JSON document: slower, but it names what is damaged.
Result<void> decode_record_slow(std::string_view text, EmployeeRow& row) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object())
    return fail(ErrorKind::permanent, fmt::format("employee {} has a damaged record column", row.employee_id));
  for (const auto& [name, value] : json.items()) {
    if (!value.is_string())
      return fail(ErrorKind::permanent,
                  fmt::format("employee {} has a damaged record column (field {})", row.employee_id, name));
    row.record[name] = value.get<std::string>();
  }
  return {};
}

} // namespace

Result<EmployeeRow> decode_employee(std::string employee_id, std::string_view record, std::string_view status,
                                    long long updated_at_ms) {
  EmployeeRow row;
  row.employee_id = std::move(employee_id);
  if (!parse_flat_object(record, row.record)) {
    row.record.clear();
    H2R_TRY(decode_record_slow(record, row));
  }
  auto parsed = parse_hr_status(status);
  if (!parsed)
    return fail(ErrorKind::permanent, fmt::format("employee {} has an unknown status '{}'", row.employee_id, status));
  row.status = *parsed;
  row.updated_at_ms = updated_at_ms;
  return row;
}

} // namespace h2r
