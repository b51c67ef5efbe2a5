// An employee row as both backends store it: the record column (a flat JSON object of strings) and the
// status column (to_string(HrStatus)). One decoder, so the SQLite and PostgreSQL stores cannot drift apart.
#pragma once

#include "store/store.hpp"

#include <string>
#include <string_view>

namespace h2r {

// The row from its columns. A record that is not a flat object of strings, or an unknown status, is a
// permanent error naming the employee (and the damaged field).
Result<EmployeeRow> decode_employee(std::string employee_id, std::string_view record, std::string_view status,
                                    long long updated_at_ms);

} // namespace h2r
